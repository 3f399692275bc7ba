"""Kontaktforløb: the aggregate that the rules, the client and the reporting workflow work on."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import (
    AliasChoices,
    Field,
    SerializeAsAny,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from smdb.codes import Koen
from smdb.cpr import alder
from smdb.models._base import Kommunekode, SmdbModel
from smdb.models.afsl import Afslutning
from smdb.models.anm import Anmodning
from smdb.models.ivaer import Ivaerksaettelse
from smdb.models.kvalhep import KvalHep
from smdb.models.tilb import Tilbudstilknytning

#: §6.2: courses requested before this date are legacy courses (ikke-sanerede skemaer).
SANERING_2019 = date(2019, 7, 1)

#: Forms of which a course holds at most one; a list given for them is reported by the rules (§6.1.3,
#: §6.1.5, §6.1.8), so the validator keeps the first and remembers how many there were.
#: Forms a course holds in ``skemaer`` (the table's rows with ``attr=None``: :func:`smdb.forms.register` keeps this
#: current), by short name: their records are read from the JSON key of that name and written back under it.
EKSTRA_SKEMAER: dict[str, type[SmdbModel]] = {}


def _ekstra_ind(data: dict[str, Any]) -> dict[str, Any]:
    """Move the records of :data:`EKSTRA_SKEMAER` forms from their own keys into ``skemaer``, typed by their model
    (a record that does not validate fails the course, as a wrong TILB does)."""
    found = {form: data[form] for form in EKSTRA_SKEMAER if form in data}
    held = data.get("skemaer")
    if not found and not (isinstance(held, dict) and held):
        return data
    skemaer: dict[str, Any] = dict(held) if isinstance(held, dict) else {}
    for form, items in found.items():
        skemaer[form] = items if isinstance(items, list) else [items]
    typed = {
        form: [EKSTRA_SKEMAER[form].model_validate(x) if isinstance(x, dict) else x for x in items]
        if form in EKSTRA_SKEMAER and isinstance(items, list)
        else items
        for form, items in skemaer.items()
    }
    return {**{k: v for k, v in data.items() if k not in found}, "skemaer": typed}


_ENKELTSKEMAER = {
    "IVÆR": "IVÆR",
    "IVAER": "IVÆR",
    "ivaerksaettelse": "IVÆR",
    "AFSL": "AFSL",
    "afslutning": "AFSL",
    "KvalHep": "KvalHep",
    "kvalhep": "KvalHep",
}


class Kontaktforloeb(SmdbModel):
    """One contact course: an ANM with its optional IVÆR, TILB list, optional KvalHep and optional AFSL."""

    kommunekode: Kommunekode = Field(description="Den indberettende (visiterende) kommunes 3-cifrede kode")
    anmodning: Anmodning = Field(alias="ANM")
    ivaerksaettelse: Ivaerksaettelse | None = Field(
        default=None, alias="IVÆR", validation_alias=AliasChoices("IVÆR", "IVAER", "ivaerksaettelse")
    )
    tilbud: list[Tilbudstilknytning] = Field(default_factory=list, alias="TILB")
    kvalhep: KvalHep | None = Field(default=None, alias="KvalHep")
    afslutning: Afslutning | None = Field(default=None, alias="AFSL")
    skemaer: SkipJsonSchema[dict[str, list[SerializeAsAny[SmdbModel]]]] = Field(
        default_factory=dict,
        description="Records of forms the course has no field for yet, by their short name (smdb.forms: attr=None); "
        "in JSON they stand beside TILB under that name",
    )
    antal_skemaer: SkipJsonSchema[dict[str, int]] = Field(
        default_factory=dict,
        exclude=True,
        description="How many IVÆR/AFSL/KvalHep the input held where it held more than one",
    )

    @model_validator(mode="before")
    @classmethod
    def _en_af_hver(cls, data: Any) -> Any:
        """A list given for a single form is a rule violation (§6.1.3/§6.1.5/§6.1.8), not a type error."""
        if not isinstance(data, dict):
            return data
        antal: dict[str, int] = {}
        for key, form in _ENKELTSKEMAER.items():
            items = data.get(key)
            if isinstance(items, list):
                if len(items) > 1:
                    antal[form] = len(items)
                data = {**data, key: items[0] if items else None}
        if antal:
            data = {**data, "antal_skemaer": antal}
        return _ekstra_ind(data)

    @model_serializer(mode="wrap")
    def _ekstra_ud(self, handler: SerializerFunctionWrapHandler) -> Any:
        """The records of ``skemaer`` stand in the JSON under their form's name, as TILB does; nothing when none."""
        data = handler(self)
        if isinstance(data, dict):
            extra = data.pop("skemaer", None) or {}
            data.update(extra)
        return data

    # ------------------------------------------------------------------ derived values
    @property
    def cpr(self) -> str:
        """The citizen's CPR number (from the anmodning)."""
        return self.anmodning.cpr

    @property
    def anmodningsdato(self) -> date:
        """2-ANM BehandlingAnmodningDato: the course's start, and its natural key with CPR and municipality."""
        return self.anmodning.anmodningsdato

    @property
    def er_gammelt_forloeb(self) -> bool:
        """§6.2: requested before 2019-07-01, so reported on the old (non-sanitised) forms."""
        return self.anmodning.anmodningsdato < SANERING_2019

    @property
    def er_aktivt(self) -> bool:
        """Open course: no AFSL yet ("Borgere med igangværende kontaktforløb")."""
        return self.afslutning is None

    @property
    def dage_siden_anmodning(self) -> int | None:
        """2-IVÆR IvaerksatBehandlingDageSidenAnmodningKvantitet, computed, never typed in."""
        if self.ivaerksaettelse is None:
            return None
        return (self.ivaerksaettelse.ivaerksat_dato - self.anmodning.anmodningsdato).days

    @property
    def alder_ved_ivaerksaettelse(self) -> int | None:
        """3-IVÆR PersonIvaerksatBehandlingAlderKvantitet from the CPR birth date (7th-digit century rule)."""
        if self.ivaerksaettelse is None:
            return None
        return alder(self.anmodning.cpr, self.ivaerksaettelse.ivaerksat_dato)

    @property
    def er_kvinde(self) -> bool:
        """1-ANM says the citizen is a woman (then 4-ANM must be answered, §6.1.2)."""
        return self.anmodning.koen is Koen.KVINDE

    def with_derived(self) -> Kontaktforloeb:
        """A copy with 2-IVÆR and 3-IVÆR filled in, as SMDB shows them (for sending and display)."""
        if self.ivaerksaettelse is None:
            return self
        ivaer = self.ivaerksaettelse.model_copy(
            update={"dage_siden_anmodning": self.dage_siden_anmodning, "alder": self.alder_ved_ivaerksaettelse}
        )
        return self.model_copy(update={"ivaerksaettelse": ivaer})
