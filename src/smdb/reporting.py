"""The reporting workflow: fetch what SMDB holds, work out what is missing, validate, send in order.

``Reporter.report`` is idempotent: a course that SMDB already holds sends nothing. What the webservice
cannot do (deleting or reopening, §5.1) is refused with the manual route. A write whose outcome is
unknown (timeout, connection reset after sending) is never blindly re-sent: the course is fetched again
and re-planned, so a step that did land is not sent twice (at-most-once with reconciliation).
"""

from __future__ import annotations

import collections
import logging
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, TextIO

from smdb.auth.wsse import CLOCK_SKEW, MAX_MESSAGE_LIFETIME
from smdb.client import SmdbClient
from smdb.cpr import mask
from smdb.errors import (
    ConfigurationError,
    SecurityError,
    SmdbError,
    SmdbFault,
    SmdbOutcomeUnknown,
    SmdbRuleRejected,
    SmdbSecurityFault,
    SmdbUnavailable,
    StsError,
    ValidationFailed,
)
from smdb.forms import Form, FormSpec, course_forms
from smdb.journal import CONFIRMED, FAILED, PENDING, REJECTED, UNKNOWN, Journal, content_hash
from smdb.locks import Held
from smdb.models import Ivaerksaettelse, Kontaktforloeb, SmdbModel, Tilbudstilknytning
from smdb.progress import ProgressBar
from smdb.register import aendringens_brud, anvend, skemaer, ukendte_henvisninger
from smdb.rules import Violation, parse, rules_of_the_rest

log = logging.getLogger("smdb.reporting")

#: From this many courses of one municipality in a batch, what SMDB holds for it is fetched once, by KommuneKode.
MUNICIPALITY_THRESHOLD = 20
#: How often one course is re-planned after writes with an unknown outcome before giving up.
MAX_RECONCILE = 3
#: A batch stops when this many courses in a row failed because SMDB could not be reached (or refused our security):
#: the rest would fail the same way, slowly, and a re-run resumes where it stopped.
STOP_AFTER_UNAVAILABLE = 5
NOT_ATTEMPTED = "ikke forsøgt: kørslen stoppede, fordi SMDB ikke kunne bruges; kør igen – intet sendes to gange"
AFBRUDT = "ikke forsøgt: kørslen blev afbrudt; kør igen – intet sendes to gange"


MANUEL_SLETNING = (
    "Webservicen kan ikke slette eller genåbne indberetninger (§5.1). Ret det manuelt i SMDB-web "
    "(slet bagfra: KvalHep, tilbudstilknytning, iværksættelse, anmodning) eller bed Danmarks Statistik "
    "(smdb@dst.dk) om at slette, og indberet derefter igen."
)


class StepKind(StrEnum):
    """Whether a step stores a new record or updates one SMDB holds (by its id, through IndsaetData, §1.2)."""

    INDSAET = "indsæt"
    RET = "ret"


class OutcomeStatus(StrEnum):
    """What happened to one course (the JSON summary's ``status``)."""

    SENT = "sent"
    ALREADY = "already"
    PLANNED = "planned"  # dry run
    REJECTED_LOCAL = "rejected_local"
    REJECTED_SERVER = "rejected_server"
    REFUSED = "refused"
    FAILED = "failed"
    NOT_ATTEMPTED = "not_attempted"  # the batch stopped early: SMDB could not be used
    #: Mellemløsning: anmodet before the new system took over, so the old system (SMDB-web) reports it. Expected
    #: every night for such courses, so it is not a failure (the batch can still exit 0).
    OLD_SYSTEM = "old_system"
    #: Another writer (thread, process or machine) held the citizen longer than ``lock_timeout``: left for the next
    #: run, where it is reported from SMDB's state then. Not a failure of the data nor of SMDB.
    BUSY = "busy"


#: Errors a later run gets past by itself (SMDB or the STS out of reach, an outcome still to reconcile, a lock lost).
_LATER_ERRORS = frozenset(
    {"SmdbUnavailable", "SmdbOutcomeUnknown", "StsUnavailable", "CitizenLockLost", "NotReconciled"}
)

_OK = (OutcomeStatus.SENT, OutcomeStatus.ALREADY, OutcomeStatus.PLANNED, OutcomeStatus.OLD_SYSTEM)


@dataclass(frozen=True)
class Step:
    """One write to make, as data: which form, the record, the form whose SMDB id it needs, and a stable key.

    The key (form + SMDB id for an update, form + natural key for an insert) is what the journal records, so a write
    of unknown outcome is recognised in the next plan whatever its description: with two tilbudstilknytninger at
    the same tilbud, recognising steps by their text judged a stored write as lost.
    """

    kind: StepKind
    #: The form's short name (a :class:`~smdb.forms.Form` for the forms of §3).
    form: str
    #: The record to store; for ANM the course (the anmodning travels with its iværksættelse).
    record: SmdbModel
    #: The form whose SMDB id the write refers to (IVÆR for TILB and KvalHep, ANM for AFSL), None for ANM.
    parent: str | None
    key: str
    description: str


@dataclass
class Outcome:
    """What happened to one course."""

    index: int | None
    cpr_masked: str
    status: OutcomeStatus
    sent: list[str] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)
    reason: str | None = None
    #: The failure says nothing about this course but about the service (unreachable, security): counts towards
    #: stopping the batch early.
    blocking: bool = field(default=False, repr=False)
    #: The class of the error a failed course ended with (``SmdbUnavailable``, ``SecurityError``, …): an embedder
    #: can tell "try later" from "fix the certificate" without parsing the Danish reason.
    error: str | None = None

    @property
    def retry_later(self) -> bool:
        """Will a later run (unchanged data) get this course through? True for SMDB out of reach, an outcome still
        unknown, a course not attempted or held by another run; False for what needs the data or setup fixed."""
        if self.status in (OutcomeStatus.NOT_ATTEMPTED, OutcomeStatus.BUSY):
            return True
        return self.status is OutcomeStatus.FAILED and self.error in _LATER_ERRORS

    def to_dict(self) -> dict[str, Any]:
        """The outcome as the JSON summary has it (English keys, documented in docs/cli.md)."""
        return {
            "forloeb": self.index,
            "cpr": self.cpr_masked,
            "status": self.status,
            "sent": self.sent,
            "violations": [v.to_dict() for v in self.violations],
            "reason": self.reason,
            "error": self.error,
            "retry_later": self.retry_later,
        }


@dataclass
class Summary:
    """What a batch did: one outcome per course, in the batch's order, and the SOAP calls it made by operation."""

    outcomes: list[Outcome] = field(default_factory=list)
    calls: dict[str, int] = field(default_factory=dict)

    def count(self, status: str) -> int:
        """How many courses ended with ``status``."""
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def ok(self) -> bool:
        """True when every course was sent, already reported, planned, or belongs to the old system."""
        return all(o.status in _OK for o in self.outcomes)

    @property
    def fix_needed(self) -> bool:
        """Does any course need its data (or the setup) fixed before a run can get it through?"""
        return any(o.status not in _OK and not o.retry_later for o in self.outcomes)

    @property
    def retry_later(self) -> bool:
        """Would a later run get the rest through by itself (SMDB out of reach, not attempted, busy)?"""
        return any(o.retry_later for o in self.outcomes)

    def to_dict(self) -> dict[str, Any]:
        """The summary as the JSON output has it (keys documented in docs/cli.md)."""
        return {
            "total": len(self.outcomes),
            "sent": self.count("sent"),
            "already_reported": self.count("already"),
            "rejected_by_rule": self.count("rejected_local") + self.count("rejected_server"),
            "refused": self.count("refused"),
            "failed": self.count("failed"),
            "not_attempted": self.count("not_attempted"),
            "old_system": self.count("old_system"),
            "busy": self.count("busy"),
            "planned": self.count("planned"),
            "retry_later": sum(1 for o in self.outcomes if o.retry_later),
            "calls": {"total": sum(self.calls.values()), "by_operation": dict(sorted(self.calls.items()))},
            "courses": [o.to_dict() for o in self.outcomes],
        }

    def text(self) -> str:
        """The summary in one Danish line."""
        d = self.to_dict()
        text = (
            f"{d['total']} forløb: {d['sent']} sendt, {d['already_reported']} allerede indberettet, "
            f"{d['rejected_by_rule']} afvist af regler, {d['refused']} kræver manuel rettelse, {d['failed']} fejlet"
        )
        if d["not_attempted"]:
            text += f", {d['not_attempted']} ikke forsøgt"
        if d["old_system"]:
            text += f", {d['old_system']} hører til det gamle system (mellemløsning)"
        if d["busy"]:
            text += f", {d['busy']} optaget af en anden kørsel (tages i næste)"
        if self.calls:
            text += f"; {d['calls']['total']} SOAP-kald"
        return text


def _same(a: SmdbModel | None, b: SmdbModel | None, ignore: Iterable[str] = ()) -> bool:
    """Equal as reported: ids and SMDB's derived values do not count."""
    if a is None or b is None:
        return a is b
    skip = {"smdb_id", "dage_siden_anmodning", "alder", *ignore}
    return a.model_dump(exclude=skip, exclude_none=True) == b.model_dump(exclude=skip, exclude_none=True)


def _tilb_key(t: Any) -> tuple[Any, ...]:
    return (t.tilbud_id, t.startdato, t.behandlingstype)


def _overlap(a: Kontaktforloeb, b: Kontaktforloeb) -> bool:
    """Whether two courses' periods (anmodning to afslutning, open-ended while active) share a day."""
    a_end = a.afslutning.afsluttet_dato if a.afslutning else date.max
    b_end = b.afslutning.afsluttet_dato if b.afslutning else date.max
    return a.anmodningsdato <= b_end and b.anmodningsdato <= a_end


def _shares_records(a: Kontaktforloeb, b: Kontaktforloeb) -> bool:
    """Whether two courses have the same iværksættelse date or an offer in common (by id, or tilbud and start)."""
    iv_a, iv_b = a.ivaerksaettelse, b.ivaerksaettelse
    if iv_a is not None and iv_b is not None and iv_a.ivaerksat_dato == iv_b.ivaerksat_dato:
        return True
    offers = {(t.tilbud_id, t.startdato) for t in a.tilbud}
    ids = {t.smdb_id for t in a.tilbud if t.smdb_id is not None}
    return any((t.tilbud_id, t.startdato) in offers or (t.smdb_id is not None and t.smdb_id in ids) for t in b.tilbud)


#: Seconds a writer waits for a citizen that another writer holds (a course of the same citizen being reported by
#: another thread, process or machine takes a few calls; a stuck one is left for the next run).
LOCK_TIMEOUT = 30.0
#: How long after a write of unknown outcome an answer that is only fresh (not bound to its request) may decide to
#: send it again: by then every answer from before the write has expired, and DST refuses the write itself.
REPLAY_HORIZON = MAX_MESSAGE_LIFETIME + CLOCK_SKEW
#: Why a course was left for a later run instead.
UNBOUND_RECONCILE = (
    "kunne ikke afstemmes sikkert: SMDB's svar er ikke bundet til forespørgslerne (hverken RelatesTo eller "
    f"SignatureConfirmation); kør igen om {REPLAY_HORIZON.seconds // 60} minutter, så afstemmes forløbet"
)
#: Why a course whose writes could not be reconciled within MAX_RECONCILE rounds failed.
NOT_RECONCILED = "kunne ikke afstemme forløbet med SMDB"


def _texts(violations: Sequence[Violation]) -> str:
    """The violations as one line for the journal (the CLI summary prints them one per line)."""
    return "; ".join(v.tekst(kode=False) for v in violations)


def _days_apart(a: date | None, b: date | None) -> int:
    """Days between two optional dates; a missing one is as far away as possible."""
    return abs((a - b).days) if a is not None and b is not None else date.max.toordinal()


def _match_tilbud(
    target: list[Tilbudstilknytning], stored: list[Tilbudstilknytning]
) -> list[Tilbudstilknytning | None]:
    """The stored offer each intended one corrects (None: a new offer), one to one.

    By SMDB id first, by natural key (tilbud, start date, type) second, and last, among the offers still unpaired,
    by the same tilbud with the nearest start date: a corrected start date, type or intensity is an update through
    IndsaetData (§1.2 "Alle ændrede data indberettes via Indsæt data service"), not a deletion and a new offer.
    Only a stored offer left unpaired after all three is really missing from the case system (a deletion, §5.1).
    """
    free = list(stored)
    out: list[Tilbudstilknytning | None] = [None] * len(target)
    tiers: tuple[Callable[[Tilbudstilknytning, Tilbudstilknytning], bool], ...] = (
        lambda t, s: t.smdb_id is not None and s.smdb_id == t.smdb_id,
        lambda t, s: _tilb_key(s) == _tilb_key(t),
    )
    for same in tiers:
        for i, t in enumerate(target):
            if out[i] is None:
                hit = next((s for s in free if same(t, s)), None)
                if hit is not None:
                    out[i] = hit
                    free.remove(hit)
    for i, t in enumerate(target):
        if out[i] is None:
            same_offer = [s for s in free if s.tilbud_id == t.tilbud_id]
            if same_offer:
                hit = min(same_offer, key=lambda s: _days_apart(s.startdato, t.startdato))
                out[i] = hit
                free.remove(hit)
    return out


def _anm_step(kind: StepKind, course: Kontaktforloeb, key: str, description: str) -> Step:
    return Step(kind, Form.ANM, course, None, key, description)


def plan(target: Kontaktforloeb, stored: Kontaktforloeb | None) -> tuple[list[Step], str | None]:
    """The writes that take SMDB from ``stored`` to ``target``, in the order the rules need; or a refusal.

    Stored and intended records are matched by SMDB id first and by natural key second; the i-th of several
    offers with the same natural key is keyed ``…#i``, so keys stay stable from one plan to the next.
    """
    steps: list[Step] = []
    if stored is None:
        what = "anmodning" + (" og iværksættelse" if target.ivaerksaettelse else "")
        steps.append(_anm_step(StepKind.INDSAET, target, f"ANM:{target.anmodningsdato}", f"indsæt {what}"))
    else:
        if stored.ivaerksaettelse is not None and target.ivaerksaettelse is None:
            return [], "SMDB har en iværksættelse, som fagsystemet ikke har. " + MANUEL_SLETNING
        anm = target.anmodning.model_copy(update={"smdb_id": stored.anmodning.smdb_id})
        iv = target.ivaerksaettelse
        if iv is not None and stored.ivaerksaettelse is not None:
            iv = iv.model_copy(update={"smdb_id": stored.ivaerksaettelse.smdb_id})
        anm_changed = not _same(anm, stored.anmodning, ignore={"kommunekode"})
        iv_changed = iv is not None and not _same(iv, stored.ivaerksaettelse)
        if anm_changed or iv_changed:
            ret = target.model_copy(update={"anmodning": anm, "ivaerksaettelse": iv})
            if stored.ivaerksaettelse or not iv:
                steps.append(_anm_step(StepKind.RET, ret, f"ANM#{anm.smdb_id}", "ret anmodning/iværksættelse"))
            else:
                steps.append(_anm_step(StepKind.INDSAET, ret, f"IVÆR:ANM#{anm.smdb_id}", "indsæt iværksættelse"))
    stored_tilb = list(stored.tilbud) if stored else []
    matches = _match_tilbud(list(target.tilbud), stored_tilb)
    updates: list[Step] = []
    inserts: list[tuple[Any, Step]] = []
    seen: dict[tuple[Any, ...], int] = {}
    for t, match in zip(target.tilbud, matches, strict=True):
        natural = _tilb_key(t)
        nth = seen[natural] = seen.get(natural, -1) + 1
        if match is None:
            key = f"TILB:{t.tilbud_id}:{t.startdato}:{t.behandlingstype}#{nth}"
            inserts.append(
                (t.startdato, Step(StepKind.INDSAET, Form.TILB, t, Form.IVAER, key, f"tilknyt tilbud {t.tilbud_id}"))
            )
            continue
        stored_tilb.remove(match)
        if not _same(t, match):
            upd = t.model_copy(update={"smdb_id": match.smdb_id})
            updates.append(
                Step(StepKind.RET, Form.TILB, upd, Form.IVAER, f"TILB#{match.smdb_id}", f"ret tilbud {t.tilbud_id}")
            )
    if stored_tilb:
        return [], (f"SMDB har {len(stored_tilb)} tilbudstilknytning(er), som fagsystemet ikke har. " + MANUEL_SLETNING)
    # Closing offers before opening new ones keeps every intermediate state valid (§6.1.4 c); inserting the
    # earliest start first keeps §6.1.4 b true after the first insert.
    steps.extend(updates)
    steps.extend(s for _, s in sorted(inserts, key=lambda x: (x[0] is None, x[0])))
    for spec in course_forms():
        if spec.sent_with is not None or spec.form == Form.TILB:
            continue  # IVÆR travels with its anmodning, the offers are matched above
        refusal = (_plan_many if spec.many else _plan_single)(spec, target, stored, steps)
        if refusal is not None:
            return [], refusal
    return steps, None


#: What a step of a form of one is called (the default: "indsæt FORM" / "ret FORM").
_VERBS: dict[str, tuple[str, str]] = {
    Form.KVALHEP: ("indsæt KvalHep", "ret KvalHep"),
    Form.AFSL: ("afslut behandling", "ret afslutning"),
}
#: Why a stored record the case system no longer has cannot be sent (the webservice cannot delete, §5.1).
_MISSING: dict[str, str] = {
    Form.KVALHEP: "SMDB har et KvalHep-skema, som fagsystemet ikke har. ",
    Form.AFSL: "Forløbet er afsluttet i SMDB men aktivt i fagsystemet; genåbning kræver sletning. ",
}


def _id(record: SmdbModel) -> int | None:
    """A form record's SMDB id (every form has one; the base model does not say so)."""
    value = getattr(record, "smdb_id", None)
    return int(value) if value is not None else None


def _plan_single(
    spec: FormSpec, target: Kontaktforloeb, stored: Kontaktforloeb | None, steps: list[Step]
) -> str | None:
    """The write of a form of which a course holds at most one (KvalHep, AFSL, a new form): insert, correct, or
    refuse when SMDB holds one the case system does not."""
    held = skemaer(stored, spec) if stored is not None else []
    wanted = skemaer(target, spec)
    old, new = (held[0] if held else None), (wanted[0] if wanted else None)
    if old is not None and new is None:
        return _MISSING.get(spec.form, f"SMDB har et {spec.form}-skema, som fagsystemet ikke har. ") + MANUEL_SLETNING
    if new is not None and not _same(new, old):
        record = new.model_copy(update={"smdb_id": _id(old) if old is not None else None})
        insert, correct = _VERBS.get(spec.form, (f"indsæt {spec.form}", f"ret {spec.form}"))
        if old is None:
            steps.append(Step(StepKind.INDSAET, spec.form, record, spec.parent, f"{spec.form}:ny", insert))
        else:
            steps.append(Step(StepKind.RET, spec.form, record, spec.parent, f"{spec.form}#{_id(old)}", correct))
    return None


def _plan_many(spec: FormSpec, target: Kontaktforloeb, stored: Kontaktforloeb | None, steps: list[Step]) -> str | None:
    """The writes of a new form of which a course holds many, one to one: by SMDB id, then by equal content, then
    the rest in order as corrections (an update, never a second record beside the first: at-most-once holds when a
    write of unknown outcome did land); only what is left over is new. The i-th new record is keyed ``…:ny#i``."""
    free = skemaer(stored, spec) if stored is not None else []
    wanted = skemaer(target, spec)
    pairs: list[SmdbModel | None] = [None] * len(wanted)
    tiers: tuple[Callable[[SmdbModel, SmdbModel], bool], ...] = (
        lambda t, s: _id(t) is not None and _id(s) == _id(t),
        lambda t, s: _same(t, s),
        lambda t, s: True,
    )
    for same in tiers:
        for i, record in enumerate(wanted):
            hit = next((r for r in free if same(record, r)), None) if pairs[i] is None else None
            if hit is not None:
                pairs[i] = hit
                free.remove(hit)
    new = 0
    for record, match in zip(wanted, pairs, strict=True):
        if match is None:
            key, new = f"{spec.form}:ny#{new}", new + 1
            steps.append(Step(StepKind.INDSAET, spec.form, record, spec.parent, key, f"indsæt {spec.form}"))
        elif not _same(record, match):
            update = record.model_copy(update={"smdb_id": _id(match)})
            key = f"{spec.form}#{_id(match)}"
            steps.append(Step(StepKind.RET, spec.form, update, spec.parent, key, f"ret {spec.form}"))
    if free:
        return f"SMDB har {len(free)} {spec.form}-skema(er), som fagsystemet ikke har. " + MANUEL_SLETNING
    return None


def _after(course: Kontaktforloeb, step: Step) -> Kontaktforloeb:
    """The course as SMDB holds it once ``step`` is stored."""
    record = step.record
    if isinstance(record, Kontaktforloeb):  # the anmodning with its iværksættelse, in one write
        return course.model_copy(update={"anmodning": record.anmodning, "ivaerksaettelse": record.ivaerksaettelse})
    return anvend(course, record)


def _blocked_midway(
    stored: Kontaktforloeb | None, steps: list[Step], others: list[Kontaktforloeb], today: date
) -> str | None:
    """Why a correction cannot be sent one write at a time, or None.

    SMDB judges every write against the whole stored course, so each state between the steps must keep the rules,
    not only the last. Some corrections cannot: moving the iværksættelse date moves the offers that start on it
    (§6.1.4: one must start on it, none before it), and whichever goes first breaks a rule. Refused here, before
    anything is sent, with the manual route, instead of half-sent and rejected by SMDB."""
    if stored is None:
        return None
    state = stored
    for step in steps[:-1]:
        state = _after(state, step)
        new = aendringens_brud(state, stored, others, today)
        if new:
            return (
                f"Rettelsen kan ikke sendes én indberetning ad gangen: efter '{step.description}' ville SMDB afvise "
                f"forløbet ({new[0].tekst(kode=False)}). Ret det i SMDB-web, eller bed Danmarks Statistik "
                "(smdb@dst.dk) om hjælp."
            )
    return None


def send(client: SmdbClient, step: Step, ids: dict[str, int]) -> Any:
    """Make one write; ``ids`` holds the SMDB ids known so far (by form) and learns the new ones."""
    if step.form is Form.ANM:
        assert isinstance(step.record, Kontaktforloeb)
        result = client.indsaet_ivaerksaettelse(step.record, validate_first=False)
        ids[Form.ANM] = result.anmodning_id or ids.get(Form.ANM, 0)
        if result.ivaerksaettelse_id:
            ids[Form.IVAER] = result.ivaerksaettelse_id
        return result
    assert step.parent is not None
    return client.indsaet(step.record, ids[step.parent])


class Reporter:
    """Reports courses through a client; ``journal`` (a :class:`Journal`) makes batches resumable."""

    def __init__(
        self,
        client: SmdbClient,
        journal: Journal | None = None,
        dry_run: bool = False,
        stop_after_unavailable: int = STOP_AFTER_UNAVAILABLE,
        municipality_threshold: int = MUNICIPALITY_THRESHOLD,
        kun_anmodet_fra: date | None = None,
        lock_timeout: float = LOCK_TIMEOUT,
        kommuner: Mapping[int, SmdbClient] | None = None,
    ) -> None:
        self._default = client
        #: One client per municipality, each with that municipality's own certificate: a course is only ever sent
        #: with its own municipality's (a municipality missing here is refused locally). None: ``client`` for all.
        self.kommuner = dict(kommuner) if kommuner is not None else None
        self._current = threading.local()
        #: The run under way (a batch recorded in the journal) and the input it reads, for "what is left".
        self.run_id: str | None = None
        self.source: str | None = None
        #: Seconds to wait for a citizen another writer holds before leaving it for the next run (``busy``).
        self.lock_timeout = lock_timeout
        #: Mellemløsning (DST's systemskifte guide): only courses anmodet from this date are this system's to
        #: report; earlier ones stay with the old system (SMDB-web) until they end, and are never sent from here.
        self.kun_anmodet_fra = kun_anmodet_fra
        self.journal = journal or Journal(None)
        self.dry_run = dry_run
        #: Consecutive courses failed because SMDB could not be used before the batch stops (0: never stop).
        self.stop_after_unavailable = stop_after_unavailable
        #: From this many courses of one municipality in a batch, its state is fetched once (0: never).
        self.municipality_threshold = municipality_threshold
        #: kommunekode -> CPR -> stored courses, fetched once per batch; citizens written to since are re-fetched.
        self._municipal: dict[int, dict[str, list[Kontaktforloeb]]] = {}
        self._written: set[str] = set()
        self._lock = threading.Lock()

    @property
    def client(self) -> SmdbClient:
        """The client of the course being reported on this thread (its municipality's), else the default one."""
        current: SmdbClient | None = getattr(self._current, "client", None)
        return current if current is not None else self._default

    def _clients(self) -> list[SmdbClient]:
        return [self._default, *(c for c in (self.kommuner or {}).values() if c is not self._default)]

    def _state(
        self, f: Kontaktforloeb, fresh: bool = False
    ) -> tuple[Kontaktforloeb | None, list[Kontaktforloeb], bool]:
        """The stored course this one is (by its AnmodningId when the caller knows it; otherwise by anmodningsdato,
        or as the citizen's one active course its period overlaps: either way a corrected anmodningsdato is sent
        as a correction), and the citizen's other courses.

        From the municipality's state fetched at the start of the batch when there is one and nothing has been
        written for the citizen since (then the third value is True: it may guide, never decide a write); otherwise
        (and always when ``fresh``) from SMDB."""
        cpr = str(f.cpr)
        with self._lock:
            municipal = None if fresh or cpr in self._written else self._municipal.get(f.kommunekode)
        alle = municipal.get(cpr, []) if municipal is not None else self.client.hent_forloeb(f.cpr, f.kommunekode)
        known_id = f.anmodning.smdb_id
        if known_id is not None:
            stored = next((s for s in alle if s.anmodning.smdb_id == known_id), None)
        else:
            stored = next((s for s in alle if s.anmodning.anmodningsdato == f.anmodningsdato), None)
            if stored is None:
                # A corrected anmodningsdato: §6.1.2 allows the citizen one active course at a time in the
                # municipality, so a stored *active* course whose period overlaps this one's, and that shares its
                # iværksættelse date or an offer, is this course. Without that evidence it may be a second
                # anmodning (refused by §6.1.2, as it should be), and a closed course is never matched this way:
                # either could rewrite another course's history. Those are corrected with the AnmodningId.
                overlapping = [s for s in alle if s.afslutning is None and _overlap(s, f) and _shares_records(s, f)]
                stored = overlapping[0] if len(overlapping) == 1 else None
        return stored, [s for s in alle if s is not stored], municipal is not None

    def report(self, forloeb: Kontaktforloeb, index: int | None = None) -> Outcome:
        """Report one course: hold the citizen, fetch what SMDB holds, validate, send the missing steps in order,
        reconcile.

        Thread-safe, and safe across processes and machines that share the journal: the citizen (CPR in the
        municipality) is held by one writer at a time for as far as the journal is shared (:meth:`Journal.hold`).
        A citizen held elsewhere for ``lock_timeout`` seconds is left for the next run (``busy``).

        Never raises for what happens to the course (SMDB down, a refusal, an unverifiable answer): the
        :class:`Outcome` says it, with ``error`` (the error's class) and ``retry_later``.

        :returns: what happened to the course."""
        masked = mask(forloeb.cpr)
        if self.kun_anmodet_fra is not None and forloeb.anmodningsdato < self.kun_anmodet_fra:
            return Outcome(
                index,
                masked,
                OutcomeStatus.OLD_SYSTEM,
                reason=f"mellemløsning: forløbet er anmodet {forloeb.anmodningsdato}, før det nye system blev taget i "
                f"brug ({self.kun_anmodet_fra}); det vedligeholdes og afsluttes i SMDB-web",
            )
        if self.kommuner is not None and forloeb.kommunekode not in self.kommuner:
            return Outcome(
                index,
                masked,
                OutcomeStatus.REFUSED,
                reason=f"kommune {forloeb.kommunekode} har intet certifikat i konfigurationen "
                f"([smdb.kommuner.{forloeb.kommunekode}]); intet er sendt",
            )
        self._current.client = self.kommuner[forloeb.kommunekode] if self.kommuner is not None else self._default
        try:
            return self._report_held(forloeb, index, masked)
        finally:
            self._current.client = None

    def _report_held(self, forloeb: Kontaktforloeb, index: int | None, masked: str) -> Outcome:
        if self.dry_run:
            return self._report(forloeb, index, masked, Held())
        with self.journal.hold(str(forloeb.cpr), forloeb.kommunekode, self.lock_timeout) as held:
            if held is None:
                return Outcome(
                    index,
                    masked,
                    OutcomeStatus.BUSY,
                    reason=f"en anden kørsel arbejdede på borgeren i over {self.lock_timeout:.0f} s; "
                    "tages i næste kørsel",
                )
            return self._report(forloeb, index, masked, held)

    def _report(self, forloeb: Kontaktforloeb, index: int | None, masked: str, held: Held) -> Outcome:
        chash = content_hash(forloeb.to_official())
        key = self.journal.course_key(str(forloeb.cpr), forloeb.kommunekode, forloeb.anmodningsdato.isoformat())
        # No shortcut through the journal: SMDB's state is the truth (a course may have been deleted by DST since,
        # e.g. in a systemskifte), so every course is compared with what Hent* returns before anything is sent.
        sent: list[str] = []
        # Writes whose outcome is not known yet (an interrupted earlier run, or a timeout in this one): the next
        # plan tells which of them landed, and the journal is corrected to say so.
        unresolved = [] if self.dry_run else self.journal.unresolved(key, chash)
        own: set[int] = set()
        fresh = bool(unresolved)
        try:
            # one more round than reconciliations: a state from the batch's bulk fetch may only guide
            for _ in range(MAX_RECONCILE + 2):
                unbound_before = self.client.unbound_answers()
                stored, others, cached = self._state(forloeb, fresh=fresh)
                violations = aendringens_brud(forloeb, stored, others, self.client.today())
                steps, refusal = plan(forloeb, stored)
                refusal = refusal or _blocked_midway(stored, steps, others, self.client.today())
                if cached and (violations or refusal or steps):
                    # fetched before this writer held the citizen: only SMDB's state now decides what is sent
                    fresh = True
                    continue
                fresh = True
                if violations:
                    if not self.dry_run:
                        self._set_course(index, key, chash, REJECTED, masked, _texts(violations))
                    return Outcome(index, masked, OutcomeStatus.REJECTED_LOCAL, sent, violations)
                if refusal:
                    if not self.dry_run:
                        self._set_course(index, key, chash, REJECTED, masked, refusal)
                    return Outcome(index, masked, OutcomeStatus.REFUSED, sent, reason=refusal)
                unknown_refs = self._references(steps)
                if unknown_refs:
                    if not self.dry_run:
                        self._set_course(index, key, chash, REJECTED, masked, _texts(unknown_refs))
                    return Outcome(index, masked, OutcomeStatus.REJECTED_LOCAL, sent, unknown_refs)
                if unresolved:
                    if self._unbound_decision(unresolved, steps, unbound_before):
                        self._set_course(index, key, chash, FAILED, masked, UNBOUND_RECONCILE)
                        return Outcome(
                            index, masked, OutcomeStatus.FAILED, sent, reason=UNBOUND_RECONCILE, error="NotReconciled"
                        )
                    self._resolve(unresolved, steps, own, sent)
                    unresolved = []
                if not steps:
                    if not self.dry_run:
                        self._set_course(index, key, chash, CONFIRMED, masked)
                    return Outcome(index, masked, OutcomeStatus.SENT if sent else OutcomeStatus.ALREADY, sent)
                if self.dry_run:
                    return Outcome(index, masked, OutcomeStatus.PLANNED, [s.description for s in steps])
                with self._lock:
                    self._written.add(str(forloeb.cpr))
                try:
                    unknown = self._run(steps, self._ids(stored), key, chash, masked, sent, held)
                except _Rejected as rejected:
                    if not self._written_by_another(forloeb, rejected):
                        raise rejected.error from None
                    continue  # another writer stored it first: re-plan from SMDB's state
                if unknown is None:
                    self._set_course(index, key, chash, CONFIRMED, masked)
                    return Outcome(index, masked, OutcomeStatus.SENT, sent)
                # An unknown outcome: re-fetch and re-plan before anything is re-sent.
                unresolved.append(unknown)
                own.add(unknown[0])
            self._set_course(index, key, chash, FAILED, masked, NOT_RECONCILED)
            return Outcome(index, masked, OutcomeStatus.FAILED, sent, reason=NOT_RECONCILED, error="NotReconciled")
        except SmdbRuleRejected as exc:
            self._set_course(index, key, chash, REJECTED, masked, str(exc))
            return Outcome(index, masked, OutcomeStatus.REJECTED_SERVER, sent, reason=str(exc))
        except ValidationFailed as exc:
            return Outcome(index, masked, OutcomeStatus.REJECTED_LOCAL, sent, exc.violations)
        except SmdbError as exc:
            # unreachable, a server fault, an answer that did not verify, a request that could not be signed, the
            # citizen's lock lost: this course failed, the batch goes on (and stops early if the service itself is
            # the problem)
            self._set_course(index, key, chash, FAILED, masked, str(exc))
            blocking = isinstance(exc, SmdbUnavailable | SecurityError | StsError | SmdbSecurityFault)
            error = type(exc).__name__
            return Outcome(index, masked, OutcomeStatus.FAILED, sent, reason=str(exc), blocking=blocking, error=error)

    def _written_by_another(self, forloeb: Kontaktforloeb, rejected: _Rejected) -> bool:
        """Was a write SMDB refused by rule in fact stored already (by a writer outside this library's locks, or
        by DST's own hand)? Then SMDB's fresh state no longer needs it: the step is recorded as reconciled, not
        as refused, and the course goes on."""
        stored, _, _ = self._state(forloeb, fresh=True)
        steps, _ = plan(forloeb, stored)
        if rejected.key in {s.key for s in steps}:
            return False
        self.journal.update(rejected.step_id, CONFIRMED, reason="afstemt med SMDB: allerede gemt af en anden skriver")
        return True

    def _references(self, steps: list[Step]) -> list[Violation]:
        """TilbudIds and landekoder the steps would send that SMDB's lookup lists do not hold (the lists are fetched
        once per client, and only when something is to be sent)."""
        records: list[SmdbModel] = []
        for step in steps:
            if isinstance(step.record, Kontaktforloeb):
                if step.record.ivaerksaettelse is not None:
                    records.append(step.record.ivaerksaettelse)
            else:
                records.append(step.record)
        if not any(isinstance(r, Tilbudstilknytning | Ivaerksaettelse) for r in records):
            return []
        return ukendte_henvisninger(records, *self.client.opslag())

    @staticmethod
    def _ids(stored: Kontaktforloeb | None) -> dict[str, int]:
        ids: dict[str, int] = {}
        if stored is not None:
            ids[Form.ANM] = stored.anmodning.smdb_id or 0
            if stored.ivaerksaettelse is not None and stored.ivaerksaettelse.smdb_id:
                ids[Form.IVAER] = stored.ivaerksaettelse.smdb_id
        return ids

    def _unbound_decision(self, unresolved: list[tuple[int, str, str]], steps: list[Step], unbound_before: int) -> bool:
        """Would an answer bound to nothing but its freshness decide to send a write of unknown outcome again?

        Such an answer (certificate mode, without SignatureConfirmation) may be a genuine one from just *before*
        the write, replayed; once the write is older than any answer's lifetime plus the clock skew, no pre-write
        answer passes the timestamp check any more, and DST no longer accepts the write itself: then it may."""
        resend = {s.key for s in steps} & {key for _, key, _ in unresolved}
        if not resend or self.client.unbound_answers() <= unbound_before:
            return False
        horizon = datetime.now(UTC) - REPLAY_HORIZON
        times = [self.journal.recorded_at(step_id) for step_id, _, _ in unresolved]
        return any(t is None or t > horizon for t in times)

    def _resolve(
        self, unresolved: list[tuple[int, str, str]], steps: list[Step], own: set[int], sent: list[str]
    ) -> None:
        """A write of unknown outcome that the fresh plan no longer needs has landed; one it still needs has not
        (and is about to be sent again). ``own``: those of this run, which count as sent by it."""
        planned = {s.key for s in steps}
        for step_id, key, description in unresolved:
            if key in planned:
                self.journal.update(step_id, FAILED, reason="afstemt med SMDB: ikke gemt; sendes igen")
            else:
                self.journal.update(step_id, CONFIRMED, reason="afstemt med SMDB: gemt")
                if step_id in own:
                    sent.append(f"{description} (afstemt)")

    def _run(
        self,
        steps: list[Step],
        ids: dict[str, int],
        key: str,
        chash: str,
        masked: str,
        sent: list[str],
        held: Held,
    ) -> tuple[int, str, str] | None:
        """Send the steps in order, each only while the citizen is still held. Returns the write whose outcome is
        unknown (the caller reconciles), or None; a rule refusal is raised as :class:`_Rejected`."""
        for step in steps:
            held.check()
            sid = self.journal.step(key, masked, step.description, chash, PENDING, step_key=step.key)
            try:
                result = send(self.client, step, ids)
            except SmdbOutcomeUnknown as exc:
                self.journal.update(sid, UNKNOWN, reason=str(exc))
                return sid, step.key, step.description
            except SmdbRuleRejected as exc:
                self.journal.update(sid, REJECTED, reason=exc.message)
                raise _Rejected(sid, step.key, exc) from None
            except SmdbFault as exc:
                if not exc.transient:
                    self.journal.update(sid, FAILED, reason=str(exc))
                    raise
                # a server-side error says nothing about whether the write landed: reconcile, like a timeout
                self.journal.update(sid, UNKNOWN, reason=str(exc))
                return sid, step.key, step.description
            except SmdbUnavailable as exc:  # certainly not sent (connection refused)
                self.journal.update(sid, FAILED, reason=str(exc))
                raise
            self.journal.update(sid, CONFIRMED, smdb_id=getattr(result, "id", None))
            sent.append(step.description)
        return None

    def report_many(
        self,
        forloeb: Sequence[Kontaktforloeb | dict[str, Any]],
        progress: ProgressCallback | TextIO | None = None,
        *,
        workers: int = 1,
    ) -> Summary:
        """Report a batch of courses, given as models or as JSON-like dicts (official names).

        A dict that does not parse is rejected on its own (as :meth:`report_data` explains); outcomes keep the
        batch's indices. ``workers`` > 1 reports different citizens in parallel; the courses of one citizen are
        always reported by one worker, in order, each course's steps strictly in order."""
        prepared: list[Kontaktforloeb | Outcome] = []
        for i, item in enumerate(forloeb):
            prepared.append(item if isinstance(item, Kontaktforloeb) else self._parsed(item, i))
        return self._batch(prepared, progress, workers)

    def report_data(self, data: Any, progress: ProgressCallback | TextIO | None = None, *, workers: int = 1) -> Summary:
        """Report courses given as JSON-like data (one course or a list), as a batch job reads them from a file.

        A course that does not even parse (a wrong code, a missing form) is rejected on its own with its
        violations, exactly like one that breaks a business rule, and the rest of the batch is still reported:
        one bad record must not hold back a municipality's whole nightly run. Outcomes keep the file's indices.
        """
        items = data if isinstance(data, list) else [data]
        return self._batch([self._parsed(item, i) for i, item in enumerate(items)], progress, workers)

    def _parsed(self, item: Any, index: int) -> Kontaktforloeb | Outcome:
        """A course from JSON-like data, or the outcome that says why it cannot be reported (with the rules the
        rest of it breaks, so the file is fixed in one round)."""
        f, errors = parse(item, index)
        if errors:
            rest = rules_of_the_rest(item, errors, index, self.client.today())
            return Outcome(index, _masked_raw(item), OutcomeStatus.REJECTED_LOCAL, violations=[*errors, *rest])
        if not isinstance(f, Kontaktforloeb):
            return Outcome(index, _masked_raw(item), OutcomeStatus.REFUSED, reason=LUKKEDE_SKEMAER)
        return f

    def _prefetch(self, courses: list[Kontaktforloeb]) -> None:
        """One state fetch per municipality with at least ``municipality_threshold`` courses in the batch: four
        Hent* calls by KommuneKode instead of four per citizen (a re-run of an unchanged batch then costs a handful
        of calls). Assembled exactly as per citizen (smdb.register), joined by ids only."""
        per_kommune = collections.Counter(f.kommunekode for f in courses)
        for kommune, n in per_kommune.items():
            if not self.municipality_threshold or n < self.municipality_threshold:
                continue
            if self.kommuner is not None and kommune not in self.kommuner:
                continue  # its courses are refused one by one, nothing is fetched with another's certificate
            client = self.kommuner[kommune] if self.kommuner is not None else self._default
            self._municipal[kommune] = client.hent_kommunens_forloeb(kommune)

    def _batch(
        self, items: list[Kontaktforloeb | Outcome], progress: ProgressCallback | TextIO | None, workers: int = 1
    ) -> Summary:
        if workers < 1:
            raise ConfigurationError("workers skal være mindst 1")
        if not self.dry_run and self.journal.persistent:
            self.run_id = self.journal.start_run(self.source)
        calls_before = self._call_counts()
        results: list[Outcome | None] = [item if isinstance(item, Outcome) else None for item in items]
        courses = {i: item for i, item in enumerate(items) if isinstance(item, Kontaktforloeb)}
        notify = _progress_callback(progress)
        # courses handled (parsed or not); a course not attempted is not counted, so a run stopped early never
        # says it handled what it did not
        done = [len(items) - len(courses)]
        blocked = [0]
        self._municipal, self._written = {}, set()
        try:
            self._prefetch(list(courses.values()))
        except SmdbError as exc:  # the per-citizen path still works, and says what is wrong per course
            log.info("kommunens samlede status kunne ikke hentes (%s); henter pr. borger", type(exc).__name__)
            self._municipal = {}

        interrupted = threading.Event()

        def run(indices: list[int]) -> None:
            for i in indices:
                item = courses[i]
                with self._lock:
                    stop = bool(self.stop_after_unavailable) and blocked[0] >= self.stop_after_unavailable
                if interrupted.is_set():
                    outcome = Outcome(i, mask(item.cpr), OutcomeStatus.NOT_ATTEMPTED, reason=AFBRUDT)
                elif stop:
                    outcome = Outcome(i, mask(item.cpr), OutcomeStatus.NOT_ATTEMPTED, reason=NOT_ATTEMPTED)
                else:
                    outcome = self.report(item, i)
                with self._lock:
                    if not stop:
                        blocked[0] = blocked[0] + 1 if outcome.blocking else 0
                    results[i] = outcome
                    if outcome.status is not OutcomeStatus.NOT_ATTEMPTED:
                        done[0] += 1
                        if notify is not None:
                            notify(done[0], len(items))

        try:
            if workers == 1:
                run(sorted(courses))
            else:
                # one task per citizen: a citizen's courses in order, by one worker; citizens in parallel
                by_citizen: dict[str, list[int]] = {}
                for i in sorted(courses):
                    by_citizen.setdefault(str(courses[i].cpr), []).append(i)
                with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="smdb-indberet") as pool:
                    futures = [pool.submit(run, indices) for indices in by_citizen.values()]
                    try:
                        for future in futures:
                            future.result()
                    except KeyboardInterrupt:
                        interrupted.set()  # courses under way finish (at-most-once holds); no new one starts
                        raise
        except KeyboardInterrupt:
            # Ctrl-C or SIGTERM: say what was done before stopping; what was not is reported again on a re-run
            interrupted.set()
            for i, item in courses.items():
                if results[i] is None:
                    results[i] = Outcome(i, mask(item.cpr), OutcomeStatus.NOT_ATTEMPTED, reason=AFBRUDT)
            summary = self._summary(results, calls_before)
            self._finish_run(items, results, summary)
            raise BatchInterrupted(summary) from None
        finally:
            # the municipality's state is true only at the start of this batch: never reuse it after it
            self._municipal, self._written = {}, set()
            if notify is not None and hasattr(notify, "close"):
                notify.close()
        summary = self._summary(results, calls_before)
        self._finish_run(items, results, summary)
        return summary

    def _finish_run(
        self, items: list[Kontaktforloeb | Outcome], results: list[Outcome | None], summary: Summary
    ) -> None:
        if self.run_id is None:
            return
        self._record_rest(items, results)
        counts = {k: v for k, v in summary.to_dict().items() if isinstance(v, int)}
        self.journal.finish_run(self.run_id, counts)
        self.run_id = None

    def _set_course(
        self, index: int | None, key: str, chash: str, status: str, masked: str, reason: str | None = None
    ) -> None:
        self.journal.set_course(key, chash, status, masked, reason, run_id=self.run_id, input_index=index)

    def _record_rest(self, items: list[Kontaktforloeb | Outcome], results: list[Outcome | None]) -> None:
        """Every course of a run leaves its latest state in the journal: also those not attempted, held by another
        run, or that did not parse (keyed by their place in the input), so "what is left" is complete; a course
        that parses now clears the entry its place left when it did not."""
        if self.dry_run or not self.journal.persistent:
            return
        source = self.source or "<data>"
        self.journal.forget(
            [self.journal.input_key(source, i) for i, x in enumerate(items) if isinstance(x, Kontaktforloeb)]
        )
        for i, (item, outcome) in enumerate(zip(items, results, strict=True)):
            if isinstance(item, Kontaktforloeb):
                if outcome is not None and outcome.status in (OutcomeStatus.NOT_ATTEMPTED, OutcomeStatus.BUSY):
                    key = self.journal.course_key(str(item.cpr), item.kommunekode, item.anmodningsdato.isoformat())
                    status = "not_attempted" if outcome.status is OutcomeStatus.NOT_ATTEMPTED else "busy"
                    self.journal.set_course(
                        key, "", status, outcome.cpr_masked, outcome.reason, run_id=self.run_id, input_index=i
                    )
            elif outcome is not None:
                reason = outcome.reason or "; ".join(v.tekst() for v in outcome.violations[:3])
                self.journal.set_course(
                    self.journal.input_key(source, i),
                    "",
                    REJECTED,
                    outcome.cpr_masked,
                    f"kan ikke læses som et forløb: {reason}",
                    run_id=self.run_id,
                    input_index=i,
                )

    def _call_counts(self) -> dict[str, int]:
        counts: collections.Counter[str] = collections.Counter()
        for client in self._clients():
            counts.update(client.call_counts())
        return dict(counts)

    def _summary(self, results: list[Outcome | None], calls_before: dict[str, int]) -> Summary:
        after = self._call_counts()
        calls = {op: n - calls_before.get(op, 0) for op, n in after.items() if n - calls_before.get(op, 0)}
        return Summary([o for o in results if o is not None], calls)


class _Rejected(Exception):
    """A write refused by rule: which step, for the check whether another writer stored it first."""

    def __init__(self, step_id: int, key: str, error: SmdbRuleRejected) -> None:
        super().__init__(str(error))
        self.step_id, self.key, self.error = step_id, key, error


class BatchInterrupted(KeyboardInterrupt):
    """A batch stopped by Ctrl-C or SIGTERM; ``summary`` says what it did (the rest is ``not_attempted``)."""

    def __init__(self, summary: Summary) -> None:
        super().__init__("afbrudt")
        self.summary = summary


#: Told (courses done, courses in the batch) after each course: for schedulers, GUIs and the CLI's progress bar.
ProgressCallback = Callable[[int, int], None]


def _progress_callback(progress: ProgressCallback | TextIO | None) -> ProgressCallback | None:
    """A callback as given; a stream (as before) gets the CLI's plain progress bar."""
    if progress is None or callable(progress):
        return progress
    return ProgressBar(progress)


LUKKEDE_SKEMAER = (
    "INDS/YDEL/UDSK (behandlingsstedernes skemaer) indberettes ikke af denne arbejdsgang; "
    "de er lukket for datoer fra 2025-01-01. Brug SmdbClient.indsaet_indskrivning m.fl. for ældre data."
)


def _masked_raw(item: Any) -> str:
    """The masked CPR of a course that did not parse, so the person can still find it in their system."""
    if isinstance(item, dict):
        for form, name in (("ANM", "PersonIdentifikator"), ("INDS", "BorgerCprNummer")):
            value = item.get(form, {}).get(name) if isinstance(item.get(form), dict) else None
            if isinstance(value, str | int):
                return mask(str(value))
    return "******-****"
