"""What each form *is*, in one table: the single source the contract, the mapping, the client, the simulator, the
workflow and the CLI look things up in.

Like botocore's service model, the table is data and the code around it is generic: a form's model, the element
that carries its SMDB id, the form it hangs on (and so the element that references its parent), the Hent and
Indsaet operations that fetch and store it, the kind the simulator stores it as, and where the Kravspecifikation
describes it. Nothing else spells an id element (``tests/test_forms.py`` checks that); the id element itself comes
from the model (the alias of its ``smdb_id`` field), so the model and the table cannot disagree.

A new form is one row here (and its model); a new operation is one row in :mod:`smdb.soap.contract`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from smdb.models import (
    Afslutning,
    Anmodning,
    Indskrivning,
    Ivaerksaettelse,
    KvalHep,
    SmdbModel,
    Tilbudstilknytning,
    Udskrivning,
    Ydelse,
)


class Form(StrEnum):
    """The forms of §3, by their official short names."""

    ANM = "ANM"
    IVAER = "IVÆR"
    TILB = "TILB"
    KVALHEP = "KvalHep"
    AFSL = "AFSL"
    INDS = "INDS"
    YDEL = "YDEL"
    UDSK = "UDSK"


@dataclass(frozen=True, slots=True)
class FormSpec:
    """One form: everything the layers above the domain need to know about it."""

    form: Form
    model: type[SmdbModel]
    #: The data contract's name on the wire (and in the WSDL): ``Anmodning``, ``Tilbudstilknytning``, …
    wire_name: str
    #: The form this one hangs on; its id element is what a record of this form references.
    parent: Form | None
    #: The Hent operation that returns records of this form (None: they come nested in the parent's answer).
    hent: str | None
    #: The Indsaet/Afslut operation that stores (or updates) a record of this form.
    indsaet: str
    #: Where the Kravspecifikation describes the form.
    section: str
    #: Forms the webservice refuses from 2025-01-01 (§3.2).
    closed: bool = False

    @property
    def id_element(self) -> str:
        """The element that carries the record's SMDB id (from the model: one spelling for all layers)."""
        alias = self.model.model_fields["smdb_id"].alias
        assert alias is not None, self.form
        return alias

    @property
    def parent_id_element(self) -> str | None:
        """The element by which a record of this form names its parent (e.g. ``IvaerksaettelseId`` for TILB)."""
        return FORMS[self.parent].id_element if self.parent is not None else None

    @property
    def store_kind(self) -> str:
        """The kind the simulator's register stores the form as (its official short name)."""
        return self.form.value


FORMS: dict[Form, FormSpec] = {
    spec.form: spec
    for spec in (
        FormSpec(Form.ANM, Anmodning, "Anmodning", None, "HentAnmodninger", "IndsaetIvaerksaettelse", "§3.1"),
        FormSpec(
            Form.IVAER,
            Ivaerksaettelse,
            "Ivaerksaettelse",
            Form.ANM,
            "HentIvaerksaettelser",
            "IndsaetIvaerksaettelse",
            "§3.1",
        ),
        FormSpec(
            Form.TILB,
            Tilbudstilknytning,
            "Tilbudstilknytning",
            Form.IVAER,
            "HentTilbudstilknytninger",
            "IndsaetTilbudstilknytning",
            "§3.1",
        ),
        FormSpec(Form.KVALHEP, KvalHep, "KvalHep", Form.IVAER, "HentKvalHep", "IndsaetKvalHep", "§3.3"),
        FormSpec(Form.AFSL, Afslutning, "Afslutning", Form.ANM, None, "AfslutBehandling", "§3.1"),
        FormSpec(
            Form.INDS,
            Indskrivning,
            "Indskrivning",
            None,
            "HentIndskrivninger",
            "IndsaetIndskrivning",
            "§3.2",
            closed=True,
        ),
        FormSpec(Form.YDEL, Ydelse, "Ydelse", Form.INDS, "HentYdelser", "IndsaetYdelse", "§3.2", closed=True),
        FormSpec(Form.UDSK, Udskrivning, "Udskrivning", Form.INDS, None, "AfslutIndskrivning", "§3.2", closed=True),
    )
}

#: The table by model class, for code that holds a record and needs its form.
BY_MODEL: dict[type[SmdbModel], FormSpec] = {spec.model: spec for spec in FORMS.values()}


def spec_of(record: SmdbModel | type[SmdbModel]) -> FormSpec:
    """The row of a record (or model class); a model that is not a form raises KeyError."""
    return BY_MODEL[record if isinstance(record, type) else type(record)]


def id_element(form: Form) -> str:
    """Shorthand: the id element of ``form`` (``AnmodningId`` for ``Form.ANM``)."""
    return FORMS[form].id_element
