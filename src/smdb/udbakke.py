"""The outbox (udbakke): continuous delivery as the Kravspecifikation §1.2 asks ("straks, dagligt eller ugentligt").

The case system hands over the newest state of a course whenever it changes (:meth:`Udbakke.tilfoej`, also inside
its own PostgreSQL transaction, or ``smdb udbakke tilfoej FILE``); a worker (:class:`Arbejder`, ``smdb udbakke
koer``) reports each course through the same plan → validate → send → reconcile path as ``indberet``.

- **Only the newest state counts.** A course has one row, keyed by a keyed digest (its case-system id, or CPR,
  municipality and anmodningsdato); a new state replaces a queued one and bumps its version, and a worker marks a
  row done only for the version it sent, so an older state is never sent after a newer one.
- **One writer per citizen.** The worker reports through :class:`~smdb.reporting.Reporter`, which holds the
  citizen in the journal; a citizen another worker holds is simply left for a moment. There is no claim to go
  stale: a killed worker's citizen locks die with it, and its rows are still queued.
- **Private.** The queued course (with its CPR number) is encrypted with a key derived from the journal key; the
  table holds a masked CPR, the municipality and times.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from smdb.cpr import mask
from smdb.journal import Journal
from smdb.journal_pg import SCHEMA_NAME, connect
from smdb.models import Kontaktforloeb
from smdb.reporting import Outcome, OutcomeStatus, Reporter

log = logging.getLogger("smdb.udbakke")

QUEUED, PARKED, DONE = "queued", "parked", "done"
#: The channel a PostgreSQL outbox notifies workers on.
CHANNEL = "smdb_udbakke"
_PURPOSE = b"smdb-journal-outbox"
_UPSERT = (
    "INSERT INTO {t} (course_key, kommunekode, cpr_masked, version, nonce, data, state, enqueued_at, changed_at,"
    " attempts, next_try_at, reason) VALUES ({p}, {p}, {p}, 1, {p}, {p}, 'queued', {p}, {p}, 0, {p}, NULL)"
    " ON CONFLICT (course_key) DO UPDATE SET kommunekode = excluded.kommunekode, cpr_masked = excluded.cpr_masked,"
    " version = {t}.version + 1, nonce = excluded.nonce, data = excluded.data, state = 'queued',"
    " enqueued_at = CASE WHEN {t}.state = 'queued' THEN {t}.enqueued_at ELSE excluded.enqueued_at END,"
    " changed_at = excluded.changed_at, attempts = 0, next_try_at = excluded.next_try_at, reason = NULL"
)


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class Koeelement:
    """A queued course as a worker takes it."""

    course_key: str
    version: int
    kommunekode: int
    cpr_masked: str
    forloeb: Kontaktforloeb
    attempts: int


class Udbakke:
    """The outbox in a journal (SQLite or PostgreSQL)."""

    def __init__(self, journal: Journal, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.journal = journal
        self.clock = clock

    def _key(self, forloeb: Kontaktforloeb, noegle: str | None) -> str:
        if noegle is not None:
            return self.journal.keyed(noegle)
        return self.journal.course_key(str(forloeb.cpr), forloeb.kommunekode, forloeb.anmodningsdato.isoformat())

    def _row(self, forloeb: Kontaktforloeb, noegle: str | None) -> tuple[Any, ...]:
        key = self._key(forloeb, noegle)
        nonce = os.urandom(12)
        plain = json.dumps(forloeb.to_official(), default=str, ensure_ascii=False).encode()
        data = self.journal.cipher(_PURPOSE).encrypt(nonce, plain, key.encode())
        now = _iso(self.clock())
        return key, forloeb.kommunekode, mask(forloeb.cpr), nonce, data, now, now, now

    def tilfoej(self, forloeb: Kontaktforloeb, *, noegle: str | None = None, forbindelse: Any = None) -> str:
        """Queue the newest state of ``forloeb`` (replacing a queued older one); returns the row's key.

        ``noegle``: the case system's own id of the course, so a corrected anmodningsdato replaces the queued state
        instead of queuing a second course. ``forbindelse``: the vendor's own psycopg connection to the journal's
        PostgreSQL database, to queue inside its transaction (the change and its report commit together; workers
        are notified at commit)."""
        row = self._row(forloeb, noegle)
        if forbindelse is not None:
            forbindelse.execute(_UPSERT.format(t=f"{SCHEMA_NAME}.outbox", p="%s"), row)
            forbindelse.execute(f"NOTIFY {CHANNEL}")
            return str(row[0])
        self.journal.db.run(_UPSERT.format(t="outbox", p="?"), row)
        if self.journal.db.kind == "postgresql":
            self.journal.db.run(f"NOTIFY {CHANNEL}")
        return str(row[0])

    def tilfoej_mange(self, forloeb: Iterable[Kontaktforloeb]) -> int:
        """:meth:`tilfoej` for each course (each in its own transaction); returns how many were queued."""
        n = 0
        for f in forloeb:
            self.tilfoej(f)
            n += 1
        return n

    def kandidater(self, limit: int = 32, skip: frozenset[str] = frozenset()) -> list[Koeelement]:
        """Queued courses due now, oldest change first (those in ``skip`` are being reported here already)."""
        rows = self.journal.db.run(
            "SELECT course_key, version, kommunekode, cpr_masked, nonce, data, attempts FROM outbox"
            " WHERE state = 'queued' AND next_try_at <= ? ORDER BY enqueued_at LIMIT ?",
            (_iso(self.clock()), limit + len(skip)),
        )
        out = []
        cipher = self.journal.cipher(_PURPOSE)
        for key, version, kommune, masked, nonce, data, attempts in rows:
            if key in skip:
                continue
            plain = cipher.decrypt(bytes(nonce), bytes(data), str(key).encode())
            forloeb = Kontaktforloeb.model_validate(json.loads(plain))
            out.append(Koeelement(str(key), int(version), int(kommune), str(masked), forloeb, int(attempts)))
        return out[:limit]

    def i_koe(self) -> int:
        """How many courses are queued (not yet taken by a worker)."""
        rows = self.journal.db.run("SELECT COUNT(*) FROM outbox WHERE state = 'queued'")
        return int(rows[0][0])

    def afslut(
        self,
        item: Koeelement,
        state: str,
        reason: str | None = None,
        retry_in: float | None = None,
        count: bool = True,
    ) -> bool:
        """Record how reporting ``item`` ended, for the version that was sent only (a newer state stays queued).
        ``retry_in``: leave it queued and try again in that many seconds."""
        now = self.clock()
        if retry_in is not None:
            sql = (
                f"UPDATE outbox SET attempts = attempts + {1 if count else 0}, next_try_at = ?, reason = ?"
                " WHERE course_key = ? AND version = ? AND state = 'queued'"
            )
            args: tuple[Any, ...] = (_iso(now + timedelta(seconds=retry_in)), reason, item.course_key, item.version)
        else:
            sql = "UPDATE outbox SET state = ?, reason = ?, done_at = ? WHERE course_key = ? AND version = ?"
            args = (state, reason, _iso(now), item.course_key, item.version)
        self.journal.db.run(sql, args)
        return True


#: Outcomes after which the course is done, parked (fix the data, then hand over a new state), or tried again.
_DONE = (OutcomeStatus.SENT, OutcomeStatus.ALREADY, OutcomeStatus.OLD_SYSTEM)
_PARK = (OutcomeStatus.REJECTED_LOCAL, OutcomeStatus.REJECTED_SERVER, OutcomeStatus.REFUSED)


class Arbejder:
    """Drains an outbox with ``workers`` threads until stopped (or, with ``til_tom``, until nothing is queued).

    Woken at once by NOTIFY on PostgreSQL, by polling every ``poll`` seconds on SQLite. While SMDB cannot be used it
    backs off (1 s doubling to ``max_pause``), logging the change of state once, not per course."""

    def __init__(
        self,
        udbakke: Udbakke,
        reporter: Reporter,
        *,
        workers: int = 4,
        til_tom: bool = False,
        poll: float = 1.0,
        max_pause: float = 60.0,
        stop: threading.Event | None = None,
    ) -> None:
        self.udbakke = udbakke
        self.reporter = reporter
        self.reporter.lock_timeout = 0.0  # a citizen held by another worker: take another course meanwhile
        self.workers = workers
        self.til_tom = til_tom
        self.poll = poll
        self.max_pause = max_pause
        self.stop = stop or threading.Event()
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._in_flight: set[str] = set()
        self._pause = 0.0
        self._pause_until = 0.0
        self.outcomes: list[Outcome] = []

    def run(self) -> list[Outcome]:
        """Run until stopped; the courses in flight finish first. Returns the outcomes reported."""
        listener = threading.Thread(target=self._listen, name="smdb-udbakke-listen", daemon=True)
        if self.udbakke.journal.db.kind == "postgresql":
            listener.start()
        threads = [threading.Thread(target=self._loop, name=f"smdb-udbakke-{i}") for i in range(self.workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return self.outcomes

    def _listen(self) -> None:
        """PostgreSQL: LISTEN on a connection of its own and wake the workers at each NOTIFY."""
        db = self.udbakke.journal.db
        try:
            conn = connect(getattr(db, "url", ""))
            conn.execute(f"LISTEN {CHANNEL}")
            while not self.stop.is_set():
                for _ in conn.notifies(timeout=self.poll, stop_after=1):
                    self._wake.set()
            conn.close()
        except Exception:  # the workers still poll; a lost listener only delays them by ``poll``
            log.info("udbakke: LISTEN virker ikke; der spørges hvert %.0f. sekund", self.poll)

    def _wait(self, seconds: float) -> None:
        self._wake.wait(seconds)
        self._wake.clear()

    def _next(self) -> Koeelement | None:
        with self._lock:
            skip = frozenset(self._in_flight)
            for item in self.udbakke.kandidater(limit=1, skip=skip):  # decrypt only the one taken
                self._in_flight.add(item.course_key)
                return item
        return None

    def _loop(self) -> None:
        while not self.stop.is_set():
            now = time.monotonic()
            if now < self._pause_until:
                self.stop.wait(self._pause_until - now)
                continue
            item = self._next()
            if item is None:
                with self._lock:
                    idle = not self._in_flight
                if self.til_tom and idle and self.udbakke.i_koe() == 0:
                    self.stop.set()
                    self._wake.set()
                    return
                self._wait(self.poll)
                continue
            try:
                self._report(item)
            finally:
                with self._lock:
                    self._in_flight.discard(item.course_key)

    def _report(self, item: Koeelement) -> None:
        outcome = self.reporter.report(item.forloeb)
        reason = outcome.reason or "; ".join(v.tekst() for v in outcome.violations) or None
        log.info(
            "udbakke: %s kommune %s: %s%s",
            item.cpr_masked,
            item.kommunekode,
            outcome.status.value,
            f" ({reason})" if reason and outcome.status not in _DONE else "",
        )
        if outcome.status in _DONE:
            self.udbakke.afslut(item, DONE)
            self._unavailable(False)
        elif outcome.status in _PARK:
            self.udbakke.afslut(item, PARKED, reason)
            self._unavailable(False)
        elif outcome.status is OutcomeStatus.BUSY:  # another worker has the citizen: it reports the newest state
            self.udbakke.afslut(item, QUEUED, reason, retry_in=0.5, count=False)
        else:  # failed: SMDB out of reach, an answer that could not be trusted, a lock lost
            retry = min(self.max_pause, 2.0 ** min(item.attempts, 6))
            self.udbakke.afslut(item, QUEUED, reason, retry_in=retry)
            if outcome.blocking:
                self._unavailable(True)
        with self._lock:
            self.outcomes.append(outcome)

    def _unavailable(self, down: bool) -> None:
        """Back off while SMDB cannot be used; say so once when it starts and once when it ends."""
        with self._lock:
            if down:
                self._pause = min(self.max_pause, self._pause * 2 if self._pause else 1.0)
                self._pause_until = time.monotonic() + self._pause
                if self._pause == 1.0:
                    log.warning(
                        "udbakke: SMDB kan ikke bruges; venter og prøver igen (op til %.0f s ad gangen)", self.max_pause
                    )
            elif self._pause:
                self._pause = 0.0
                log.warning("udbakke: SMDB svarer igen; fortsætter")
