"""What each form *is*, in one table: the single source the contract, the mapping, the client, the simulator, the
workflow and the CLI look things up in.

Like botocore's service model, the table is data and the code around it is generic: a form's model, the element
that carries its SMDB id, the form it hangs on (and so the element that references its parent), the Hent and
Indsaet operations that fetch and store it, the kind the simulator stores it as, and where the Kravspecifikation
describes it. Nothing else spells an id element (``tests/test_forms.py`` checks that); the id element itself comes
from the model (the alias of its ``smdb_id`` field), so the model and the table cannot disagree.

A new form is one row here (and its model, and its rules); a new operation is one row in
:mod:`smdb.soap.contract`. docs/architecture.md, "Where a change goes", walks through it; ``tests/test_new_form.py``
adds a form that way and sends it through the client, the simulator and the reporting workflow.
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
from smdb.models.forloeb import EKSTRA_SKEMAER


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

    #: The official short name (a :class:`Form` for the forms of §3; a new form may use a plain string).
    form: str
    model: type[SmdbModel]
    #: The data contract's name on the wire (and in the WSDL): ``Anmodning``, ``Tilbudstilknytning``, …
    wire_name: str
    #: The form this one hangs on; its id element is what a record of this form references.
    parent: str | None
    #: The Hent operation that returns records of this form (None: they come nested in the parent's answer).
    hent: str | None
    #: The Indsaet/Afslut operation that stores (or updates) a record of this form.
    indsaet: str
    #: Where the Kravspecifikation describes the form.
    section: str
    #: Forms the webservice refuses from 2025-01-01 (§3.2).
    closed: bool = False
    #: The attribute of the course (:class:`~smdb.models.Kontaktforloeb`, or the legacy
    #: :class:`~smdb.models.Indskrivningsforloeb`) that holds the form's records; None: a form the course model has
    #: no field for yet, held in ``Kontaktforloeb.skemaer`` under its short name.
    attr: str | None = None
    #: A course holds a list of them (TILB), not at most one.
    many: bool = False
    #: The form whose write carries this one (IVÆR travels in IndsaetIvaerksaettelse with its ANM, §1.2).
    sent_with: str | None = None

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
    def nested(self) -> bool:
        """Fetched inside its parent's Hent answer (AFSL in the anmodning, UDSK in the indskrivning)."""
        return self.hent is None and self.parent is not None

    @property
    def store_kind(self) -> str:
        """The kind the simulator's register stores the form as (its official short name)."""
        return str(self.form)


FORMS: dict[str, FormSpec] = {
    spec.form: spec
    for spec in (
        FormSpec(
            Form.ANM,
            Anmodning,
            "Anmodning",
            None,
            "HentAnmodninger",
            "IndsaetIvaerksaettelse",
            "§3.1",
            attr="anmodning",
        ),
        FormSpec(
            Form.IVAER,
            Ivaerksaettelse,
            "Ivaerksaettelse",
            Form.ANM,
            "HentIvaerksaettelser",
            "IndsaetIvaerksaettelse",
            "§3.1",
            attr="ivaerksaettelse",
            sent_with=Form.ANM,
        ),
        FormSpec(
            Form.TILB,
            Tilbudstilknytning,
            "Tilbudstilknytning",
            Form.IVAER,
            "HentTilbudstilknytninger",
            "IndsaetTilbudstilknytning",
            "§3.1",
            attr="tilbud",
            many=True,
        ),
        FormSpec(Form.KVALHEP, KvalHep, "KvalHep", Form.IVAER, "HentKvalHep", "IndsaetKvalHep", "§3.3", attr="kvalhep"),
        FormSpec(Form.AFSL, Afslutning, "Afslutning", Form.ANM, None, "AfslutBehandling", "§3.1", attr="afslutning"),
        FormSpec(
            Form.INDS,
            Indskrivning,
            "Indskrivning",
            None,
            "HentIndskrivninger",
            "IndsaetIndskrivning",
            "§3.2",
            closed=True,
            attr="indskrivning",
        ),
        FormSpec(
            Form.YDEL, Ydelse, "Ydelse", Form.INDS, "HentYdelser", "IndsaetYdelse", "§3.2", closed=True, attr="ydelser"
        ),
        FormSpec(
            Form.UDSK,
            Udskrivning,
            "Udskrivning",
            Form.INDS,
            None,
            "AfslutIndskrivning",
            "§3.2",
            closed=True,
            attr="udskrivning",
        ),
    )
}

#: Where a record keeps the id of a record of each form it refers to: the attribute of a fetched record
#: (:class:`smdb.register.Hentet`), and the column of the same name in the simulator's register.
REFERENCE_ATTR: dict[str, str] = {
    Form.ANM: "anmodning_id",
    Form.IVAER: "ivaerksaettelse_id",
    Form.INDS: "indskrivning_id",
}

#: The table by model class, for code that holds a record and needs its form.
BY_MODEL: dict[type[SmdbModel], FormSpec] = {spec.model: spec for spec in FORMS.values()}


def spec_of(record: SmdbModel | type[SmdbModel]) -> FormSpec:
    """The row of a record (or model class); a model that is not a form raises KeyError."""
    return BY_MODEL[record if isinstance(record, type) else type(record)]


def id_element(form: str) -> str:
    """Shorthand: the id element of ``form`` (``AnmodningId`` for ``Form.ANM``)."""
    return FORMS[form].id_element


#: The blue part's forms (§3.2): an indskrivning's, not a contact course's.
_LEGACY = frozenset({Form.INDS, Form.YDEL, Form.UDSK})


def course_forms() -> list[FormSpec]:
    """The forms of a contact course under its anmodning, in the order a course is written: the anmodning's own
    forms first, then what hangs on the iværksættelse, the afslutning (which closes the course) last."""
    specs = [s for s in FORMS.values() if s.form not in _LEGACY and s.form != Form.ANM]
    return sorted(specs, key=lambda s: (s.form == Form.AFSL, s.parent != Form.ANM))


def children(form: str) -> list[FormSpec]:
    """The forms that hang on ``form`` (their records name its id)."""
    return [s for s in FORMS.values() if s.parent == form]


def register(spec: FormSpec) -> None:
    """Add a form's row at run time, as an edit of :data:`FORMS` would at import time (tests of a new form; the
    contract's derived tables follow with :func:`smdb.soap.contract.refresh`)."""
    FORMS[spec.form] = spec
    BY_MODEL[spec.model] = spec
    if spec.attr is None and spec.form not in _LEGACY:
        EKSTRA_SKEMAER[spec.form] = spec.model


def unregister(form: str) -> None:
    """Take a row added with :func:`register` away again."""
    spec = FORMS.pop(form)
    BY_MODEL.pop(spec.model, None)
    EKSTRA_SKEMAER.pop(form, None)


# a row of the source with attr=None is held in Kontaktforloeb.skemaer, as one added with register() is
EKSTRA_SKEMAER.update({s.form: s.model for s in FORMS.values() if s.attr is None and s.form not in _LEGACY})
