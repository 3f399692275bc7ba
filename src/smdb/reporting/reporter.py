"""The reporting workflow: fetch what SMDB holds, work out what is missing, validate, send in order.

``Reporter.report`` is idempotent: a course that SMDB already holds sends nothing. What the webservice
cannot do (deleting or reopening, §5.1) is refused with the manual route. A write whose outcome is
unknown (timeout, connection reset after sending) is never blindly re-sent: the course is fetched again
and re-planned, so a step that did land is not sent twice (at-most-once with reconciliation). One writer per
citizen: the citizen is held (:mod:`smdb.locks`) from the state fetch to the last write.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from smdb.auth.wsse import CLOCK_SKEW, MAX_MESSAGE_LIFETIME
from smdb.client import SmdbClient
from smdb.cpr import mask
from smdb.errors import (
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
from smdb.forms import Form
from smdb.journal import CONFIRMED, FAILED, PENDING, REJECTED, UNKNOWN, Journal, content_hash
from smdb.locks import Held
from smdb.models import Ivaerksaettelse, Kontaktforloeb, SmdbModel, Tilbudstilknytning
from smdb.register import aendringens_brud, ukendte_henvisninger
from smdb.reporting.batch import Batches
from smdb.reporting.outcome import Outcome, OutcomeStatus, texts
from smdb.reporting.plan import Step, blocked_midway, overlap, plan, shares_records
from smdb.rules import Violation

#: From this many courses of one municipality in a batch, what SMDB holds for it is fetched once, by KommuneKode.
MUNICIPALITY_THRESHOLD = 20
#: How often one course is re-planned after writes with an unknown outcome before giving up.
MAX_RECONCILE = 3
#: A batch stops when this many courses in a row failed because SMDB could not be reached (or refused our security):
#: the rest would fail the same way, slowly, and a re-run resumes where it stopped.
STOP_AFTER_UNAVAILABLE = 5


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


class _Rejected(Exception):
    """A write refused by rule: which step, for the check whether another writer stored it first."""

    def __init__(self, step_id: int, key: str, error: SmdbRuleRejected) -> None:
        super().__init__(str(error))
        self.step_id, self.key, self.error = step_id, key, error


class Reporter(Batches):
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
                overlapping = [s for s in alle if s.afslutning is None and overlap(s, f) and shares_records(s, f)]
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
                refusal = refusal or blocked_midway(stored, steps, others, self.client.today())
                if cached and (violations or refusal or steps):
                    # fetched before this writer held the citizen: only SMDB's state now decides what is sent
                    fresh = True
                    continue
                fresh = True
                if violations:
                    if not self.dry_run:
                        self._set_course(index, key, chash, REJECTED, masked, texts(violations))
                    return Outcome(index, masked, OutcomeStatus.REJECTED_LOCAL, sent, violations)
                if refusal:
                    if not self.dry_run:
                        self._set_course(index, key, chash, REJECTED, masked, refusal)
                    return Outcome(index, masked, OutcomeStatus.REFUSED, sent, reason=refusal)
                unknown_refs = self._references(steps)
                if unknown_refs:
                    if not self.dry_run:
                        self._set_course(index, key, chash, REJECTED, masked, texts(unknown_refs))
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
