"""Turn pydantic's validation errors into :class:`Violation` objects that name Felt-ID and variable.

Type, code-list, range and length errors are §3 table constraints; reporting them as violations (instead
of a pydantic traceback) lets ``smdb validate`` and the client treat a wrong code exactly like a broken
business rule. Input values are echoed only for code fields and always scrubbed of CPR numbers.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from smdb.cpr import scrub
from smdb.forms import FORMS
from smdb.models import FeltInfo
from smdb.models._base import felt_info
from smdb.rules._core import Violation, regel

_TEKSTER = {
    "ANM": "ANM",
    "IVÆR": "IVÆR",
    "IVAER": "IVÆR",
    "TILB": "TILB",
    "AFSL": "AFSL",
    "KvalHep": "KvalHep",
    "INDS": "INDS",
    "YDEL": "YDEL",
    "UDSK": "UDSK",
}

PAAKRAEVET = regel("paakraevet", "3", [], "Et obligatorisk felt mangler.")
KODE_UGYLDIG = regel(
    "kode_ugyldig",
    "3",
    [],
    "Værdien er ikke en kode i feltets kodeliste (§3.1-§3.3; bl.a. kan ordinerede stoffer ikke "
    "angives som hovedstof i 20-IVÆR).",
)
UKENDT_FELT = regel("ukendt_felt", "3", [], "Feltet findes ikke i skemaet.")
FOR_LANG = regel(
    "for_lang", "3", [], "Teksten er længere end tilladt (250, eller 400 for BehandlingAfsluttetAarsagTekst)."
)
UDENFOR = regel("udenfor_interval", "3", [], "Tallet ligger uden for det tilladte interval (fx 0-30 dage, 0-99 år).")
FORMAT = regel(
    "format_ugyldig", "3", [], "Værdien har ikke det krævede format (kommunekode, landekode, autorisationsID)."
)
CPR = regel("cpr_ugyldig", "3", ["6-ANM", "17-INDS"], "CPR-nummeret er ugyldigt (format, dato, århundrede).")
DATO = regel("dato_ugyldig", "3", [], "Datoen skal angives som YYYY-MM-DD.")
TYPE = regel("forkert_type", "3", [], "Værdien har forkert type (tal, tekst, sand/falsk, liste, objekt).")

_TYPE_TIL_REGEL = {
    "missing": PAAKRAEVET,
    "enum": KODE_UGYLDIG,
    "extra_forbidden": UKENDT_FELT,
    "string_too_long": FOR_LANG,
    "greater_than_equal": UDENFOR,
    "less_than_equal": UDENFOR,
    "greater_than": UDENFOR,
    "less_than": UDENFOR,
    "string_pattern_mismatch": FORMAT,
    "kommunekode": FORMAT,
    "cpr_ugyldig": CPR,
    "date_type": DATO,
    "date_parsing": DATO,
    "date_from_datetime_parsing": DATO,
    "date_from_datetime_inexact": DATO,
}
_BESKED = {
    "missing": "skal udfyldes",
    "extra_forbidden": "er ikke et felt i skemaet",
    "string_too_long": "er for lang (højst {max_length} tegn)",
    "greater_than_equal": "skal være mindst {ge}",
    "less_than_equal": "må højst være {le}",
    "string_pattern_mismatch": "har ugyldigt format",
    "date_parsing": "skal være en gyldig dato (YYYY-MM-DD)",
    "date_from_datetime_parsing": "skal være en gyldig dato (YYYY-MM-DD)",
    "date_from_datetime_inexact": "skal være en dato uden klokkeslæt (YYYY-MM-DD)",
    "string_type": "skal være en tekst",
    "int_type": "skal være et heltal",
    "int_parsing": "skal være et heltal",
    "int_from_float": "skal være et heltal",
    "float_type": "skal være et tal",
    "float_parsing": "skal være et tal",
    "bool_type": "skal være true eller false",
    "bool_parsing": "skal være true eller false",
    "list_type": "skal være en liste",
    "dict_type": "skal være et objekt",
    "model_type": "skal være et objekt",
    "model_attributes_type": "skal være et objekt",
    "date_type": "skal være en dato (YYYY-MM-DD)",
    "string_too_short": "er for kort (mindst {min_length} tegn)",
    "too_short": "har for få elementer",
    "too_long": "har for mange elementer",
}


def _sted(loc: tuple[int | str, ...]) -> tuple[str, FeltInfo | None, str]:
    """(form, field info, readable location) of an error location like ('TILB', 0, 'BehandlingTypeKode')."""
    form = ""
    info: FeltInfo | None = None
    dele: list[str] = []
    for part in loc:
        if isinstance(part, int):
            dele[-1:] = [f"{dele[-1]}[{part}]"] if dele else [f"[{part}]"]
            continue
        if part in _TEKSTER:
            form = _TEKSTER[part]
        elif (found := felt_info(part, form or None)) is not None:
            info = found
            form = info.form
        dele.append(part)
    return form, info, ".".join(dele)


def fra_validation_error(exc: ValidationError, forloeb: int | None = None) -> list[Violation]:
    out: list[Violation] = []
    for err in exc.errors(include_url=False):
        out.append(_violation(err, forloeb))
    return out


def _violation(err: Any, forloeb: int | None) -> Violation:
    typ: str = err["type"]
    loc = tuple(err["loc"])
    form, info, sted = _sted(loc)
    ctx = err.get("ctx") or {}
    r = _TYPE_TIL_REGEL.get(typ, TYPE if typ.endswith("_type") or typ.endswith("_parsing") else None)
    if r is None:
        r = TYPE if typ in ("model_attributes_type", "dict_type", "list_type") else KODE_UGYLDIG
    if info is not None:
        felt = f"[{info.felt_id}] {info.variabel}"
        felter: tuple[str, ...] = (info.felt_id,)
    else:
        felt = sted or "forløbet"
        felter = ()
    if typ == "enum":
        givet = err.get("input")
        gyldige = str(ctx.get("expected", "")).replace(" or ", " eller ")  # pydantic lists them in English
        besked = f"{felt}: {scrub(repr(givet))[:40]} er ikke en gyldig kode; gyldige koder: {gyldige}"
    elif typ in ("cpr_ugyldig", "kommunekode", "date_type"):
        besked = f"{felt}: {err['msg']}"
    elif typ in _BESKED:
        besked = f"{felt} {_BESKED[typ].format(**ctx)}"
    else:  # pydantic's own text is English: name the field, not the library's words
        besked = f"{felt} har en ugyldig værdi eller type"
    if "[" in sted:
        besked += f" (i {sted})"
    afsnit = FORMS[form].section.lstrip("§") if form in FORMS else "3.1"  # the table says where §3 describes it
    nr = next((part for part in loc[1:2] if isinstance(part, int)), None)  # TILB[1], YDEL[0]
    return Violation(afsnit, felter, r.kode, besked, forloeb, nr)
