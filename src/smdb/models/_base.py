"""Shared machinery of the form models: official aliases, Felt-IDs, strict scalar types.

Every field is declared with :func:`felt`, which makes the official variable name the alias (accepting
the ae/oe/aa spelling and the Python name too) and records the Felt-ID in the JSON Schema. The registry
:data:`FELTER` lets error messages and violations name a field by Felt-ID *and* variable name no matter
which spelling the caller used.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field, Strict
from pydantic_core import PydanticCustomError

from smdb.cpr import Cpr, CprError


@dataclass(frozen=True, slots=True)
class FeltInfo:
    """Metadata of one official variable."""

    felt_id: str
    variabel: str
    form: str
    attribut: str


#: Every known variable, keyed by every accepted spelling (official, ASCII, Python attribute). A name used by
#: two forms (PersonGravidKode: 4-ANM and 9-INDS) maps to the first; use :func:`felt_info` with the form.
FELTER: dict[str, FeltInfo] = {}
#: (form, spelling) -> variable.
FORM_FELT: dict[tuple[str, str], FeltInfo] = {}
#: Per form, the official variables in declaration order.
FORM_FELTER: dict[str, list[FeltInfo]] = {}

_ASCII = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "Æ": "Ae", "Ø": "Oe", "Å": "Aa"})


def ascii_stavemaade(navn: str) -> str:
    """``PersonPsykiskFunktionsnedsættelseKode`` -> ``PersonPsykiskFunktionsnedsaettelseKode``."""
    return navn.translate(_ASCII)


def felt(felt_id: str, variabel: str, default: Any = None, **constraints: Any) -> Any:
    """A model field whose alias is the official variable name and whose schema carries the Felt-ID."""
    choices = [variabel]
    alt = ascii_stavemaade(variabel)
    if alt != variabel:
        choices.append(alt)
    extra = constraints.pop("json_schema_extra", {})
    return Field(
        default,
        alias=variabel,
        title=variabel,
        validation_alias=AliasChoices(*choices),
        json_schema_extra={"x-felt-id": felt_id, **extra},
        **constraints,
    )


def registrer(form: str) -> Any:
    """Class decorator: record every field of a form in :data:`FELTER` under all its spellings."""

    def deco(cls: Any) -> Any:
        infos: list[FeltInfo] = []
        for attr, f in cls.model_fields.items():
            extra = f.json_schema_extra if isinstance(f.json_schema_extra, dict) else {}
            felt_id = extra.get("x-felt-id")
            if not isinstance(felt_id, str) or f.alias is None:
                continue
            info = FeltInfo(felt_id, f.alias, form, attr)
            infos.append(info)
            for key in {f.alias, ascii_stavemaade(f.alias), attr}:
                FELTER.setdefault(key, info)
                FORM_FELT[(form, key)] = info
        FORM_FELTER[form] = infos
        setattr(cls, "FORM", form)  # noqa: B010 - ClassVar set once per form
        return cls

    return deco


def felt_info(name: str, form: str | None = None) -> FeltInfo | None:
    """The variable called ``name`` (any spelling), preferring the given form."""
    if form is not None and (form, name) in FORM_FELT:
        return FORM_FELT[(form, name)]
    return FELTER.get(name)


class SmdbModel(BaseModel):
    """Base of every form: official names in and out, unknown fields refused, assignment validated."""

    model_config = ConfigDict(
        validate_by_alias=True,
        validate_by_name=True,
        serialize_by_alias=True,
        extra="forbid",
        validate_assignment=True,
        use_enum_values=False,
        # A ValidationError printed by a caller must not carry a CPR number (or any other personal value).
        hide_input_in_errors=True,
    )
    FORM: ClassVar[str] = ""

    def to_official(self) -> dict[str, Any]:
        """JSON-ready dict with official names, codes as strings and dates as ``YYYY-MM-DD``; None left out."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


# ----------------------------------------------------------------------------- scalar types
def _kun_dato(v: Any) -> Any:
    """Accept ``date`` or ``YYYY-MM-DD`` only: lax pydantic would turn the number 0 into 1970-01-01."""
    if isinstance(v, str | date):
        return v
    raise PydanticCustomError("date_type", "Datoen skal angives som YYYY-MM-DD")


def _cpr(v: str) -> Cpr:
    try:
        return Cpr(v)
    except CprError as exc:
        raise PydanticCustomError("cpr_ugyldig", str(exc)) from None


def _kommunekode(v: Any) -> int:
    if isinstance(v, str) and v.isdigit() and len(v) == 3:
        return int(v)
    if isinstance(v, int) and not isinstance(v, bool) and 100 <= v <= 999:
        return v
    raise PydanticCustomError("kommunekode", "Kommunekoden skal være et 3-cifret tal")


Dato = Annotated[date, BeforeValidator(_kun_dato)]
Bool = Annotated[bool, Strict()]
Heltal = Annotated[int, Strict()]
CprNummer = Annotated[str, Strict(), Field(pattern=r"^\d{6}-?\d{4}$", examples=["0101901234"]), AfterValidator(_cpr)]
Kommunekode = Annotated[int, BeforeValidator(_kommunekode)]


def smdb_id_felt(navn: str) -> Any:
    """The SMDB id of a stored record: not a form variable, so no Felt-ID; needed to reference it later."""
    return Field(
        None,
        alias=navn,
        description="SMDB's id of the stored record, returned by Hent* and needed by later Indsaet* calls",
    )
