"""The systemskifte plan: what to do for each course, as data tied to SMDB ids (see :mod:`smdb.systemskifte`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from smdb.client import SmdbClient
from smdb.codes import AfsluttetAarsag, AfsluttetStatus
from smdb.cpr import mask
from smdb.forms import Form, id_element
from smdb.journal import Journal
from smdb.models import Afslutning, Indskrivningsforloeb, Kontaktforloeb
from smdb.register import aendringens_brud
from smdb.reporting import Outcome, OutcomeStatus, Reporter, Summary

SYSTEMSKIFTE_TEKST = "Systemskifte"
#: The text of a suggested closing of a forgotten course (Anden årsag needs one, §6.1.8); never "Systemskifte".
GLEMT_TEKST = "Glemt forløb lukket ved oprydning før systemskifte"
#: A course with no open offer and nothing dated in this long before the cut-over is forgotten, not active.
GLEMT_EFTER = timedelta(days=90)
LUKKEDE_SKEMAER_TEKST = "webservicen modtager ikke INDS/YDEL/UDSK fra 2025 (§3.2)"


class Model(StrEnum):
    """DST's systemskifte models."""

    MODEL1 = "1"
    MODEL2 = "2"
    MELLEM = "mellem"


class Handlingstype(StrEnum):
    """What the municipality must do about one record (the webservice cannot do it)."""

    #: Model 1: the course is deleted in SMDB-web or by DST, then entered again in the new system.
    SLET = "slet"
    #: Anmodet after the cut-over: DST deletes it before the new system can report the course.
    SLET_EFTER = "slet_efter"
    #: Activity after the cut-over (or another rule) keeps the course from being closed at it: correct it first.
    RET_FOERST = "ret_foerst"
    #: A forgotten course: close it with its correct dates (``luk_glemte``, or in the old system / SMDB-web).
    GLEMT = "glemt"
    #: An open indskrivning (with its open ydelser): close (model 2) or delete (model 1) in SMDB-web or via DST.
    INDSKRIVNING = "indskrivning"


#: Which action is done when its record is deleted, and which also when it is closed.
_DONE_WHEN_CLOSED = {Handlingstype.RET_FOERST, Handlingstype.GLEMT}


@dataclass(frozen=True, slots=True)
class Handling:
    """One thing the municipality must do, tied to the SMDB record (``form`` and ``id``) that tells when it is done."""

    type: Handlingstype
    cpr: str
    form: Form
    id: int
    tekst: str
    #: Model 2 closes indskrivninger (done at an udskrivning); model 1 deletes them (done when gone).
    lukning_nok: bool = False

    def linje(self, vis_cpr: bool = False) -> str:
        return f"{self.cpr if vis_cpr else mask(self.cpr)} {id_element(self.form)} {self.id}: {self.tekst}"

    def to_dict(self, vis_cpr: bool = True) -> dict[str, Any]:
        return {
            "type": self.type.value,
            "cpr": self.cpr if vis_cpr else mask(self.cpr),
            "skema": self.form.value,
            "id": self.id,
            "tekst": self.tekst,
            "lukning_nok": self.lukning_nok,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Handling:
        return cls(Handlingstype(d["type"]), d["cpr"], Form(d["skema"]), d["id"], d["tekst"], d["lukning_nok"])


@dataclass(frozen=True, slots=True)
class Glemt:
    """A forgotten course, with the closing the data suggest (None when no valid one can be derived)."""

    forloeb: Kontaktforloeb
    sidste_aktivitet: date
    forslag: Kontaktforloeb | None


def plan_navn(kommunekode: int, model: Model, dato: date) -> str:
    """The name a plan is kept under in a journal: one per municipality, model and cut-over date."""
    return f"systemskifte:{kommunekode}:{model.value}:{dato.isoformat()}"


def sidste_aktivitet(f: Kontaktforloeb) -> date:
    """The latest date the course carries (anmodning, iværksættelse, an offer's start or end)."""
    dates = [f.anmodningsdato]
    if f.ivaerksaettelse is not None:
        dates.append(f.ivaerksaettelse.ivaerksat_dato)
    for t in f.tilbud:
        dates.extend(d for d in (t.startdato, t.slutdato) if d is not None)
    return max(dates)


def efter_datoen(f: Kontaktforloeb, dato: date) -> list[str]:
    """What the course has dated after ``dato`` (Danish, for the municipality)."""
    out = []
    if f.ivaerksaettelse is not None and f.ivaerksaettelse.ivaerksat_dato > dato:
        out.append(f"iværksættelse {f.ivaerksaettelse.ivaerksat_dato}")
    for t in f.tilbud:
        if t.startdato is not None and t.startdato > dato:
            out.append(f"tilbud {t.tilbud_id} starter {t.startdato}")
        elif t.slutdato is not None and t.slutdato > dato:
            out.append(f"tilbud {t.tilbud_id} slutter {t.slutdato}")
    return out


def er_glemt(f: Kontaktforloeb, dato: date, glemt_efter: timedelta = GLEMT_EFTER) -> bool:
    """No open offer, and nothing dated within ``glemt_efter`` before the cut-over: treatment ended long ago."""
    if any(t.slutdato is None for t in f.tilbud):
        return False
    return sidste_aktivitet(f) <= dato - glemt_efter


def foreslaa_lukning(f: Kontaktforloeb, today: date) -> Kontaktforloeb | None:
    """The closing the data suggest for a forgotten course: at its last offer's end (§6.1.5) or, without offers,
    at its last date; "udeblevet" when treatment never began, otherwise "Anden" with :data:`GLEMT_TEKST`. None when
    that would break a rule. The municipality should check the årsag: only its case files know it."""
    dato = sidste_aktivitet(f)
    if f.ivaerksaettelse is None:
        afsl = Afslutning(
            afsluttet_dato=dato, status=AfsluttetStatus.IKKE_FAERDIGBEHANDLET, aarsag=AfsluttetAarsag.UDEBLEVET
        )
    else:
        afsl = Afslutning(
            afsluttet_dato=dato,
            status=AfsluttetStatus.IKKE_FAERDIGBEHANDLET,
            aarsag=AfsluttetAarsag.ANDEN,
            aarsag_tekst=GLEMT_TEKST,
        )
    forslag = f.model_copy(update={"afslutning": afsl})
    return None if aendringens_brud(forslag, f, [], today) else forslag


@dataclass
class Systemskifteplan:
    """What a systemskifte must do in SMDB for one municipality, built from SMDB's state by :func:`model1`,
    :func:`model2` or :func:`mellemloesning`; as data (:meth:`to_dict` / :meth:`from_dict`) so that it is written
    before anything is sent and can be carried out, or printed, again later."""

    model: Model
    dato: date
    kommunekode: int
    #: Model 2: (stored, closed) pairs to send.
    lukninger: list[tuple[Kontaktforloeb, Kontaktforloeb]] = field(default_factory=list)
    #: Model 1: the stored courses and indskrivninger to delete.
    sletninger: list[Kontaktforloeb] = field(default_factory=list)
    slettes_indskrivninger: list[Indskrivningsforloeb] = field(default_factory=list)
    glemte: list[Glemt] = field(default_factory=list)
    #: The courses as the new system must register them (no SMDB ids).
    genregistrering: list[dict[str, Any]] = field(default_factory=list)
    handlinger: list[Handling] = field(default_factory=list)
    #: Mellemløsning: courses the old system (SMDB-web) keeps, and those the new system reports.
    gammelt_system: list[Kontaktforloeb] = field(default_factory=list)
    nyt_system: list[Kontaktforloeb] = field(default_factory=list)
    #: The forgotten-course threshold the plan was made with, in days.
    glemt_efter_dage: int = GLEMT_EFTER.days

    @property
    def navn(self) -> str:
        """The plan's name in a journal: one plan per municipality, model and cut-over date."""
        return plan_navn(self.kommunekode, self.model, self.dato)

    # ------------------------------------------------------------------ reading
    def text(self, vis_cpr: bool = False) -> str:
        """The plan for a person, in Danish: each action with its course (CPR masked unless ``vis_cpr``)."""

        def who(cpr: object) -> str:
            return str(cpr) if vis_cpr else mask(str(cpr))

        navn = {Model.MODEL1: "model 1", Model.MODEL2: "model 2", Model.MELLEM: "mellemløsning"}[self.model]
        lines = [f"Systemskifte {navn}, kommune {self.kommunekode}, systemskiftedato {self.dato}"]
        if self.model is Model.MODEL2:
            lines.append(
                f"{len(self.lukninger)} aktive forløb afsluttes pr. systemskiftedato (årsag 10 Anden, "
                f"'{SYSTEMSKIFTE_TEKST}'):"
            )
            for stored, closed in self.lukninger:
                assert closed.afslutning is not None
                lukkes = sum(1 for t in stored.tilbud if t.slutdato is None)
                lines.append(
                    f"  {who(stored.cpr)} anmodning {stored.anmodningsdato}: {lukkes} åbne tilbud lukkes, "
                    f"afslutning {closed.afslutning.afsluttet_dato}"
                )
            lines.append(
                f"Genregistrering i det nye system med startdato {self.dato + timedelta(days=1)}: "
                f"{len(self.genregistrering)} forløb"
            )
        elif self.model is Model.MODEL1:
            lines.append(
                f"{len(self.sletninger)} aktive forløb og {len(self.slettes_indskrivninger)} indskrivninger skal "
                "slettes af DST (smdb@dst.dk) eller i SMDB-web;"
            )
            lines.append("webservicen kan ikke slette (§5.1). Slet bagfra i denne rækkefølge pr. borger:")
            for item in self.sletteliste(vis_cpr):
                lines.append(f"  {item['cpr']} {item['skema']} id {item['id']}")
            lines.append(f"Genregistrering i det nye system med oprindelige datoer: {len(self.genregistrering)} forløb")
        else:
            lines.append(
                f"{len(self.gammelt_system)} forløb anmodet før {self.dato} vedligeholdes og afsluttes i SMDB-web "
                "(det gamle system):"
            )
            lines.extend(f"  {who(f.cpr)} anmodning {f.anmodningsdato}" for f in self.gammelt_system)
            lines.append(f"{len(self.nyt_system)} forløb anmodet fra {self.dato} indberettes af det nye system:")
            lines.extend(f"  {who(f.cpr)} anmodning {f.anmodningsdato}" for f in self.nyt_system)
        if self.glemte:
            lines.append(
                f"{len(self.glemte)} glemte forløb (intet åbent tilbud, sidste aktivitet mindst "
                f"{self.glemt_efter_dage} dage før systemskiftedatoen) er ikke systemskifte: "
                "afslut dem med de korrekte datoer "
                "(forslag herunder; send med --luk-glemte, eller ret i det gamle system):"
            )
            for g in self.glemte:
                forslag = g.forslag.afslutning if g.forslag is not None else None
                tekst = (
                    f"foreslået afslutning {forslag.afsluttet_dato} ({forslag.aarsag.label})"
                    if forslag is not None
                    else "intet gyldigt forslag: afslut i SMDB-web"
                )
                lines.append(
                    f"  {who(g.forloeb.cpr)} anmodning {g.forloeb.anmodningsdato}, sidste aktivitet "
                    f"{g.sidste_aktivitet}: {tekst}"
                )
        andre = [h for h in self.handlinger if h.type not in (Handlingstype.SLET, Handlingstype.GLEMT)]
        if andre:
            lines.append(f"{len(andre)} ting kommunen selv skal gøre (webservicen kan ikke):")
            lines.extend(f"  MANUELT: {h.linje(vis_cpr)}" for h in andre)
        return "\n".join(lines)

    def sletteliste(self, vis_cpr: bool = False) -> list[dict[str, Any]]:
        """Model 1, in the guide's order per citizen (section 3, point 2), deleting "bagfra": the ydelser and the
        indskrivning on the tilbud side, then on the myndighed side KvalHep, tilbudstilknytning(er), iværksættelse,
        anmodning. The guide lists KvalHep last (point f), but a KvalHep hangs on the iværksættelse (§3.3), so
        deleting from the back puts it before the iværksættelse, which cannot go while something refers to it."""
        by_cpr: dict[str, list[dict[str, Any]]] = {}

        def add(cpr: str, skema: str, smdb_id: int | None) -> None:
            by_cpr.setdefault(cpr, []).append({"cpr": cpr if vis_cpr else mask(cpr), "skema": skema, "id": smdb_id})

        for inds in self.slettes_indskrivninger:
            cpr = str(inds.indskrivning.cpr)
            for y in inds.ydelser:
                add(cpr, "Ydelse", y.smdb_id)
            add(cpr, "Indskrivning", inds.indskrivning.smdb_id)
        for f in self.sletninger:
            cpr = str(f.cpr)
            if f.kvalhep is not None:
                add(cpr, "KvalHep", f.kvalhep.smdb_id)
            for t in f.tilbud:
                add(cpr, "Tilbudstilknytning", t.smdb_id)
            if f.ivaerksaettelse is not None:
                add(cpr, "Iværksættelse", f.ivaerksaettelse.smdb_id)
            add(cpr, "Anmodning", f.anmodning.smdb_id)
        return [item for items in by_cpr.values() for item in items]

    # ------------------------------------------------------------------ as data
    def to_dict(self, vis_cpr: bool = True) -> dict[str, Any]:
        """The plan as JSON-ready data. With full CPR numbers by default: the new system needs them to register
        the courses again, so write it owner-only (the CLI does). ``vis_cpr=False`` masks the deletion list."""
        return {
            "model": self.model.value,
            "dato": self.dato.isoformat(),
            "kommunekode": self.kommunekode,
            "lukninger": [{"foer": s.to_official(), "efter": c.to_official()} for s, c in self.lukninger],
            "afslutninger": [c.to_official() for _, c in self.lukninger],
            "sletninger": [f.to_official() for f in self.sletninger],
            "slettes_indskrivninger": [i.to_official() for i in self.slettes_indskrivninger],
            "sletteliste": self.sletteliste(vis_cpr),
            "glemte": [
                {
                    "forloeb": g.forloeb.to_official(),
                    "sidste_aktivitet": g.sidste_aktivitet.isoformat(),
                    "forslag": g.forslag.to_official() if g.forslag is not None else None,
                }
                for g in self.glemte
            ],
            "genregistrering": self.genregistrering,
            "handlinger": [h.to_dict(vis_cpr) for h in self.handlinger],
            "gammelt_system": [f.to_official() for f in self.gammelt_system],
            "nyt_system": [f.to_official() for f in self.nyt_system],
            "glemt_efter_dage": self.glemt_efter_dage,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Systemskifteplan:
        """The plan as :meth:`to_dict` wrote it (kept in the journal, so a rerun continues the same plan)."""

        def kf(x: dict[str, Any]) -> Kontaktforloeb:
            return Kontaktforloeb.model_validate(x)

        return cls(
            model=Model(d["model"]),
            dato=date.fromisoformat(d["dato"]),
            kommunekode=int(d["kommunekode"]),
            lukninger=[(kf(p["foer"]), kf(p["efter"])) for p in d["lukninger"]],
            sletninger=[kf(f) for f in d["sletninger"]],
            slettes_indskrivninger=[Indskrivningsforloeb.model_validate(i) for i in d["slettes_indskrivninger"]],
            glemte=[
                Glemt(
                    kf(g["forloeb"]),
                    date.fromisoformat(g["sidste_aktivitet"]),
                    kf(g["forslag"]) if g["forslag"] is not None else None,
                )
                for g in d["glemte"]
            ],
            genregistrering=d["genregistrering"],
            handlinger=[Handling.from_dict(h) for h in d["handlinger"]],
            gammelt_system=[kf(f) for f in d["gammelt_system"]],
            nyt_system=[kf(f) for f in d["nyt_system"]],
            glemt_efter_dage=int(d["glemt_efter_dage"]),
        )

    # ------------------------------------------------------------------ doing
    def apply(self, client: SmdbClient, journal: Journal | None = None) -> Summary:
        """Model 2: send the closures (idempotent: a closure SMDB already holds is not sent again). Model 1 and the
        mellemløsning send nothing: the summary says why for each course that needs the municipality."""
        if self.model is Model.MODEL2:
            # one municipality's courses: its state is fetched once (four calls), not per citizen
            reporter = Reporter(client, journal, municipality_threshold=1)
            return reporter.report_many([closed for _, closed in self.lukninger])
        summary = Summary()
        for f in self.sletninger:
            summary.outcomes.append(
                Outcome(
                    None,
                    mask(f.cpr),
                    OutcomeStatus.REFUSED,
                    reason="Model 1: sletning kan kun ske via SMDB-web eller DST",
                )
            )
        return summary

    def luk_glemte(self, client: SmdbClient, journal: Journal | None = None) -> Summary:
        """Send the suggested closings of the forgotten courses: an explicit request, separate from :meth:`apply`,
        because only the municipality can confirm a suggested date and årsag."""
        reporter = Reporter(client, journal, municipality_threshold=1)
        return reporter.report_many([g.forslag for g in self.glemte if g.forslag is not None])

    def udestaaende(self, client: SmdbClient) -> list[Handling]:
        """The actions not done yet, judged by fetching their records again: a deletion is done when the record is
        gone, a closing when it is closed (or gone)."""
        out = []
        for h in self.handlinger:
            if h.form is Form.INDS:
                inds = client.hent_indskrivninger(indskrivning_id=h.id)
                found, closed = bool(inds), bool(inds) and inds[0].udskrivning is not None
            else:
                anm = client.hent_anmodninger(anmodning_id=h.id)
                found, closed = bool(anm), bool(anm) and anm[0].afslutning is not None
            if not found or (closed and (h.lukning_nok or h.type in _DONE_WHEN_CLOSED)):
                continue
            out.append(h)
        return out


# ---------------------------------------------------------------------- building plans
