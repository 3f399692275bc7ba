"""The simulated SMDB service behind the SOAP layer: what each operation does to the register.

Generic over the per-form table (:mod:`smdb.forms`) like the client: every Hent of a form, every write of a
course form (checked against the stored course with the same :mod:`smdb.register` functions the client uses) and
every lookup list (:data:`OPSLAG`) need no code of their own. The operations that are more than that are named
special cases: IndsaetIvaerksaettelse (the anmodning and its iværksættelse in one write), the legacy INDS/YDEL/UDSK
and ASI (:mod:`smdb.sim.legacy`), and TokenTest.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from cryptography import x509
from pydantic import BaseModel, ValidationError

from smdb.cpr import scrub
from smdb.errors import SmdbError
from smdb.forms import FORMS, REFERENCE_ATTR, Form, FormSpec, children, course_forms, id_element
from smdb.models import Anmodning, Ivaerksaettelse, Kontaktforloeb
from smdb.models._base import ascii_stavemaade
from smdb.register import Hentet, aendringens_brud, anvend, saml, skemaer
from smdb.rules import Violation
from smdb.rules import register as rr
from smdb.rules.parsing import fra_validation_error
from smdb.sim.store import Row, Store
from smdb.soap import mapping
from smdb.soap.contract import COMPLEX_TYPES, SEARCH_IDS, Operation, lookup_operations

#: The simulator's lookup lists: a register of treatment offers across several municipalities (fictional names,
#: DST's shape) and the countries the tests and demos use. Ids outside them are refused (REFERENCE), as SMDB does.
TILBUD = [
    {"TilbudId": 1000, "TilbudNavn": "Rusmiddelcenter København, modtagelse", "Postnummer": "2200", "KommuneKode": 101},
    {
        "TilbudId": 1001,
        "TilbudNavn": "Rusmiddelcenter København, substitution",
        "Postnummer": "2200",
        "KommuneKode": 101,
    },
    {"TilbudId": 1002, "TilbudNavn": "Rusmiddelcenter København, ambulant", "Postnummer": "2200", "KommuneKode": 101},
    {"TilbudId": 1003, "TilbudNavn": "Behandlingscenter Aarhus, døgn", "Postnummer": "8000", "KommuneKode": 751},
    {"TilbudId": 1004, "TilbudNavn": "Misbrugscenter Odense", "Postnummer": "5000", "KommuneKode": 461},
    {"TilbudId": 1005, "TilbudNavn": "Rusmiddelcenter Frederiksberg", "Postnummer": "2000", "KommuneKode": 147},
    {"TilbudId": 1006, "TilbudNavn": "Rusmiddelcenter Frederiksberg, unge", "Postnummer": "2000", "KommuneKode": 147},
    {"TilbudId": 1007, "TilbudNavn": "Behandlingscenter Aalborg", "Postnummer": "9000", "KommuneKode": 851},
    {"TilbudId": 1008, "TilbudNavn": "Rusmiddelcenter Esbjerg", "Postnummer": "6700", "KommuneKode": 561},
    {"TilbudId": 1009, "TilbudNavn": "Privat døgnbehandling (frit valg)", "Postnummer": "4000", "KommuneKode": 265},
    {"TilbudId": 1010, "TilbudNavn": "Misbrugscenter Vejle", "Postnummer": "7100", "KommuneKode": 630},
    {"TilbudId": 1011, "TilbudNavn": "Rusmiddelcenter Helsingør", "Postnummer": "3000", "KommuneKode": 217},
]
LANDE = [
    {"LandeKode": "5100", "LandeNavn": "Danmark"},
    {"LandeKode": "5110", "LandeNavn": "Norge"},
    {"LandeKode": "5120", "LandeNavn": "Sverige"},
    {"LandeKode": "5180", "LandeNavn": "Tyskland"},
    {"LandeKode": "5902", "LandeNavn": "Grønland"},
]
YDELSESPAKKER = [
    {"YdelsespakkeKode": "01", "YdelsespakkeNavn": "Individuel samtale"},
    {"YdelsespakkeKode": "02", "YdelsespakkeNavn": "Gruppeforløb"},
    {"YdelsespakkeKode": "03", "YdelsespakkeNavn": "Familiesamtale"},
    {"YdelsespakkeKode": "04", "YdelsespakkeNavn": "Parbehandling"},
]


#: The lookup lists by operation, answered generically (filtered by the search's criteria the rows carry); a new
#: lookup operation is one contract row and one entry here (or ``Simulator(opslag={…})``).
OPSLAG: dict[str, list[dict[str, Any]]] = {
    "HentAlleTilbud": TILBUD,
    "HentLandeliste": LANDE,
    "HentYdelsespakker": YDELSESPAKKER,
}

_ANM, _IVAER, _INDS = id_element(Form.ANM), id_element(Form.IVAER), id_element(Form.INDS)


class SimFault(SmdbError):
    """Becomes a SOAP fault (HTTP 500) with DST-style detail."""

    def __init__(self, code: str, message: str, rule: str | None = None, client: bool = True) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.rule = rule
        self.client = client


@dataclass(frozen=True, slots=True)
class Caller:
    """Who sent an authenticated request: the certificate's subject (and the certificate, if any)."""

    subject: str
    certificate: x509.Certificate | None

    @property
    def cvr(self) -> str | None:
        """The organisation's CVR number from the certificate's serialNumber (``CVR:…-FID:…``)."""
        if self.certificate is None:
            return None
        serials = self.certificate.subject.get_attributes_for_oid(x509.oid.NameOID.SERIAL_NUMBER)
        m = re.search(r"CVR:(\d{8})", str(serials[0].value)) if serials else None
        return m.group(1) if m else None


def rule_fault(violations: list[Violation]) -> SimFault:
    """Violations of the rules as SMDB's FORRETNINGSREGEL fault (CPR numbers masked)."""
    msg = " | ".join(v.tekst() for v in violations)
    return SimFault("FORRETNINGSREGEL", scrub(msg), violations[0].rule)


def refuse(rule: rr.RegisterRegel, detail: str | None = None) -> SimFault:
    """A declared register rule (smdb.rules.register) as SMDB's fault: its code, section and message."""
    return SimFault(rule.fejlkode, f"{detail}: {rule.beskrivelse}" if detail else rule.beskrivelse, rule.afsnit)


def parse(model: type[Any], data: dict[str, Any]) -> Any:
    """A record from the wire, or the rule fault its invalid fields make."""
    try:
        return mapping.from_wire(model, data)
    except ValidationError as exc:
        raise rule_fault(fra_validation_error(exc)) from None


class Service:
    """The register's operations over one store. ``caller`` gives the authenticated caller of the request in
    progress (for ``adgang``: who may see and write which municipality)."""

    def __init__(
        self,
        store: Store,
        *,
        today: Callable[[], date],
        caller: Callable[[], Caller | None],
        adgang: Mapping[str, frozenset[int]] | None = None,
        opslag: Mapping[str, list[dict[str, Any]]] | None = None,
    ) -> None:
        self.store = store
        self.today = today
        self.caller = caller
        self.adgang = adgang
        self.opslag = {**OPSLAG, **(opslag or {})}

    # ------------------------------------------------------------------ dispatch
    def dispatch(self, op: Operation, args: dict[str, Any], caller: Caller) -> Any:
        """The answer to ``op``: a form's Hent, a lookup list, a course form's write -- or a named special case."""
        special = getattr(self, f"_op_{op.name}", None)
        if special is not None:
            return special(args, caller)
        hent = next((s for s in FORMS.values() if s.hent == op.name), None)
        if hent is not None:
            return self.hent_form(hent, args)
        if op.name in lookup_operations():
            return self.lookup(op, args)
        written = [s for s in FORMS.values() if s.indsaet == op.name and s.parent is not None and s.sent_with is None]
        if op.writes and len(written) == 1:
            return self.write(written[0], args)
        raise SimFault("UGYLDIG_FORESPOERGSEL", f"{op.name} understøttes ikke af simulatoren", client=False)

    # ------------------------------------------------------------------ TokenTest
    def _op_Echo(self, args: dict[str, Any], caller: Caller) -> str:
        return str(args.get("Tekst") or "")

    def _op_Throw(self, args: dict[str, Any], caller: Caller) -> None:
        raise SimFault("THROW", "Throw: testfejl som bestilt", client=False)

    def _op_WhoAmI(self, args: dict[str, Any], caller: Caller) -> dict[str, Any]:
        org = None
        expires = None
        if caller.certificate is not None:
            orgs = caller.certificate.subject.get_attributes_for_oid(x509.oid.NameOID.ORGANIZATION_NAME)
            org = str(orgs[0].value) if orgs else None
            expires = caller.certificate.not_valid_after_utc
        return {"Subject": caller.subject, "Organisation": org, "Cvr": caller.cvr, "CertifikatUdloeber": expires}

    # ------------------------------------------------------------------ HentData
    @staticmethod
    def soegning(args: dict[str, Any]) -> dict[str, Any]:
        """The search criteria of a Hent request."""
        s: dict[str, Any] = args.get("Soegning") or {}
        return s

    def lookup(self, op: Operation, args: dict[str, Any]) -> dict[str, Any]:
        """A lookup list, filtered by each search criterion its rows carry (HentAlleTilbud by KommuneKode)."""
        assert op.result is not None
        item = COMPLEX_TYPES[op.result.type][0].name
        criteria = {k: v for k, v in self.soegning(args).items() if v is not None}
        rows = self.opslag.get(op.name, [])
        return {item: [r for r in rows if all(r.get(k, v) == v for k, v in criteria.items())]}

    def record_out(self, spec: FormSpec, row: Row) -> dict[str, Any]:
        """A stored record as the Hent answer carries it: its id, its parent's id, and the forms that come nested
        in it (the afslutning in the anmodning, the udskrivning in the indskrivning) -- all from the form table."""
        out = {**row.data, spec.id_element: row.id}
        if spec.parent is not None and spec.parent_id_element is not None:
            parent_id = getattr(row, REFERENCE_ATTR[spec.parent])
            if parent_id is not None:
                out[spec.parent_id_element] = parent_id
        for child in children(spec.form):
            if child.nested:
                rows = self.store.find(child.store_kind, **{REFERENCE_ATTR[spec.form]: row.id})
                if rows:
                    out[child.wire_name] = self.record_out(child, rows[0])
        return out

    def may(self, caller: Caller | None, kommune: int | None) -> bool:
        """May ``caller`` see or write the municipality's records (``adgang``)?"""
        if self.adgang is None:
            return True
        allowed = self.adgang.get(caller.cvr or "", frozenset()) if caller is not None else frozenset()
        return kommune is not None and kommune in allowed

    def hent_form(self, spec: FormSpec, args: dict[str, Any]) -> dict[str, Any]:
        """Every Hent of a form, driven by the table: CPR, KommuneKode and the ids of the search (the form's own
        id, its parent's, or another reference the record carries)."""
        s = self.soegning(args)
        where: dict[str, Any] = {"cpr": s.get("PersonIdentifikator"), "kommune": s.get("KommuneKode")}
        for form in SEARCH_IDS:
            value = s.get(id_element(form))
            if value is not None:
                where["id" if form == spec.form else REFERENCE_ATTR[form]] = value
        caller = self.caller()
        rows = [r for r in self.store.find(spec.store_kind, **where) if self.may(caller, r.kommune)]
        return {spec.wire_name: [self.record_out(spec, r) for r in rows]}

    # ------------------------------------------------------------------ the register
    def hentet(self, spec: FormSpec, row: Row) -> Hentet[Any]:
        """A stored record as the client's Hent would give it."""
        return mapping.hentet(spec.model, self.record_out(spec, row))

    def course(self, anm_row: Row) -> Kontaktforloeb:
        """The stored course of an anmodning, assembled exactly as the client assembles it (smdb.register)."""
        found = {
            spec.form: [self.hentet(spec, r) for r in self.store.find(spec.store_kind, anmodning_id=anm_row.id)]
            for spec in course_forms()
            if not spec.nested
        }
        found[Form.ANM] = [self.hentet(FORMS[Form.ANM], anm_row)]
        return saml(found, anm_row.kommune)[0]

    def check(self, after: Kontaktforloeb, before: Kontaktforloeb | None) -> None:
        """Refuse what the change breaks: the same question the client asks (smdb.register), over the register."""
        rows = self.store.find(FORMS[Form.ANM].store_kind, cpr=str(after.cpr), kommune=after.kommunekode)
        courses = [self.course(r) for r in rows]
        new = aendringens_brud(after, before, courses, self.today())
        if new:
            raise rule_fault(new)
        self._one_active_at_a_time(after, before, courses)

    @staticmethod
    def _one_active_at_a_time(
        after: Kontaktforloeb, before: Kontaktforloeb | None, courses: list[Kontaktforloeb]
    ) -> None:
        """§6.1.2 over time, not only today: the change may not make this course's period overlap another course
        of the citizen in the municipality (an anmodning dated inside a closed course, an afslutning moved past the
        next course's anmodning), which would make two courses active at once."""
        own = (before.anmodning.smdb_id if before is not None else None) or after.anmodning.smdb_id

        def overlapping(f: Kontaktforloeb) -> set[int]:
            return {
                int(o.anmodning.smdb_id or 0)
                for o in courses
                if o.anmodning.smdb_id != own and rr.forloeb_overlapper(f, o)
            }

        introduced = overlapping(after) - (overlapping(before) if before is not None else set())
        if introduced:
            raise refuse(rr.EN_AKTIV_AD_GANGEN, f"overlapper forløb med AnmodningId {min(introduced)}")

    def row(self, form: str, record_id: Any) -> Row:
        """A referenced record that must exist (ids come from the caller: a wrong one is a REFERENCE fault)."""
        spec = FORMS[form]
        row = self.store.get(int(record_id), spec.store_kind) if record_id is not None else None
        if row is None:
            raise refuse(rr.ID_FINDES, f"{spec.id_element} {record_id} findes ikke")
        return row

    @staticmethod
    def stored(model: BaseModel) -> dict[str, Any]:
        """A record's variables as the register keeps them (its ids are columns, not data)."""
        data = {
            ascii_stavemaade(k): v for k, v in model.model_dump(mode="json", by_alias=True, exclude_none=True).items()
        }
        for key in [k for k in data if k.endswith("Id") and k not in ("TilbudId",)]:
            data.pop(key)
        return data

    @staticmethod
    def result(record_id: int, anmodning_id: int | None = None, iv_id: int | None = None) -> dict[str, Any]:
        """IndsaetResultat: the stored record's id and the course's ids."""
        return {"Id": record_id, _ANM: anmodning_id, _IVAER: iv_id}

    def save(self, kind: str, record: Any, **cols: Any) -> int:
        """Update the stored record with the record's SMDB id, or insert it: the webservice never deletes (§5.1).
        Only in a municipality the caller may write to (``adgang``)."""
        if self.adgang is not None:
            existing = self.store.get(record.smdb_id, kind) if record.smdb_id is not None else None
            kommuner = {existing.kommune if existing is not None else None, cols.get("kommune")} - {None} or {None}
            caller = self.caller()
            for kommune in kommuner:
                if not self.may(caller, kommune):
                    raise SimFault("SIKKERHED", f"Certifikatet har ikke adgang til kommune {kommune}")
        if record.smdb_id is not None:
            self.store.update(record.smdb_id, self.stored(record))
            return int(record.smdb_id)
        return self.store.insert(kind, self.stored(record), **cols)

    @staticmethod
    def owned(held: list[Any], record: Any, label: str) -> None:
        """An update must name a record of this very course."""
        ids = [x.smdb_id for x in held if x is not None]
        if record.smdb_id is not None and record.smdb_id not in ids:
            raise refuse(rr.ID_I_FORLOEBET, f"{label} {record.smdb_id} hører ikke til forløbet")

    # ------------------------------------------------------------------ IndsaetData: myndighed
    def _check_references(self, record: Any) -> None:
        """The lookup lists a record names must hold the value (§1.2): TilbudId, the landekode of 10-IVÆR."""
        tilbud_ids = {int(str(t["TilbudId"])) for t in self.opslag.get("HentAlleTilbud", [])}
        lande = {str(land["LandeKode"]) for land in self.opslag.get("HentLandeliste", [])}
        tilbud_id = getattr(record, "tilbud_id", None)
        if tilbud_id is not None and tilbud_id not in tilbud_ids:
            raise refuse(rr.TILBUD_FINDES, f"TilbudId {tilbud_id}")
        if isinstance(record, Ivaerksaettelse) and record.statsborgerskab not in (None, "99", *lande):
            raise refuse(rr.LAND_FINDES, f"PersonStatsborgerskabKode {record.statsborgerskab}")

    def write(self, spec: FormSpec, args: dict[str, Any]) -> dict[str, Any]:
        """Insert or update a record of a course form that hangs on the anmodning or the iværksættelse (TILB,
        KvalHep, AFSL, and any new one), checked against its stored course: generic over the table."""
        data = args[spec.wire_name]
        record = parse(spec.model, data)
        self._check_references(record)
        assert spec.parent is not None
        with self.store.transaction():
            parent_row = self.row(spec.parent, data.get(spec.parent_id_element))
            anm_row = parent_row if spec.parent == Form.ANM else self.row(Form.ANM, parent_row.anmodning_id)
            before = self.course(anm_row)
            self.owned(skemaer(before, spec), record, spec.id_element)
            self.check(anvend(before, record), before)
            cols: dict[str, Any] = {"cpr": anm_row.cpr, "kommune": anm_row.kommune, "anmodning_id": anm_row.id}
            if spec.parent != Form.ANM:
                cols[REFERENCE_ATTR[spec.parent]] = parent_row.id
            rid = self.save(spec.store_kind, record, **cols)
            iv = before.ivaerksaettelse
            iv_id = parent_row.id if spec.parent == Form.IVAER else (iv.smdb_id if iv is not None else None)
            return self.result(rid, anm_row.id, iv_id)

    def _op_IndsaetIvaerksaettelse(self, args: dict[str, Any], caller: Caller) -> dict[str, Any]:
        """The anmodning (new or updated) and its optional iværksættelse in one write (§1.2)."""
        anm: Anmodning = parse(Anmodning, args["Anmodning"])
        iv: Ivaerksaettelse | None = (
            parse(Ivaerksaettelse, args["Ivaerksaettelse"]) if "Ivaerksaettelse" in args else None
        )
        if anm.kommunekode is None:
            raise refuse(rr.KOMMUNEKODE_ANGIVET)
        if iv is not None:
            self._check_references(iv)
        with self.store.transaction():
            before: Kontaktforloeb | None = None
            if anm.smdb_id is not None:
                before = self.course(self.row(Form.ANM, anm.smdb_id))
                if str(before.cpr) != str(anm.cpr):
                    raise refuse(rr.CPR_UAENDRET)
                after = before.model_copy(update={"anmodning": anm, "kommunekode": anm.kommunekode})
            else:
                after = Kontaktforloeb(kommunekode=anm.kommunekode, anmodning=anm)
            if iv is not None:
                if before is not None:
                    self.owned([before.ivaerksaettelse], iv, _IVAER)
                after = anvend(after, iv)
            self.check(after, before)
            cols = {"cpr": str(anm.cpr), "kommune": anm.kommunekode}
            anm_id = self.save(FORMS[Form.ANM].store_kind, anm, **cols)
            stored_iv = before.ivaerksaettelse if before is not None else None
            iv_id = stored_iv.smdb_id if stored_iv is not None else None
            if iv is not None:
                iv_id = self.save(FORMS[Form.IVAER].store_kind, iv, anmodning_id=anm_id, **cols)
            return self.result(iv_id if iv is not None and iv_id else anm_id, anm_id, iv_id)
