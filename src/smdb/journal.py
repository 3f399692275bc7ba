"""The reporting journal: a local SQLite record of every step of every course of a batch.

It is what makes a batch resumable and auditable: each step goes pending -> confirmed (or rejected / failed /
unknown), with SMDB's id or the reason; an unknown outcome is resolved to confirmed or failed when the course is
next reconciled, or superseded when its content has changed since.

CPR numbers are not stored in clear, and the file alone does not reveal them: a course is keyed by an HMAC whose
key is kept *outside* the journal (``SMDB_JOURNAL_KEY``, or an owner-only key file in the user's configuration
directory, see :func:`journal_key`). A salted hash with the salt in the same file did not do that: the CPR space
is small (about 3.6 million numbers per birth date) and the masked CPR beside it gives the birth date away, so
brute force took seconds. Only the masked CPR is kept for people reading the journal. The file is created
owner-only (it still describes citizens in treatment). docs/security.md has the threat model.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from smdb.errors import NotAJournal as NotAJournal  # re-exported: smdb.journal.NotAJournal stays public
from smdb.journal_db import JournalDb, is_url, open_db, read_only
from smdb.journalkey import citizen_digest, journal_key, key_id, where_the_key_is
from smdb.locks import PROCESS_KEY, Held


class StepStatus(StrEnum):
    """The status of a step (and of a course) in the journal."""

    PENDING = "pending"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    FAILED = "failed"
    UNKNOWN = "unknown"
    #: A write of unknown outcome for content that has changed since: the newer content is what gets reconciled.
    SUPERSEDED = "superseded"


PENDING, CONFIRMED, REJECTED, FAILED, UNKNOWN, SUPERSEDED = StepStatus
#: Every status a step can be written with.
STEP_STATUSES = tuple(s.value for s in StepStatus)
#: The statuses in the words ``smdb journal`` shows them in (and accepts in ``--status``).
STATUS_ORD: dict[str, str] = {
    "not_attempted": "ikke forsøgt",
    "busy": "optaget",
    "pending": "i gang",
    "confirmed": "bekræftet",
    "rejected": "afvist",
    "failed": "fejlet",
    "unknown": "uvist",
    "superseded": "afløst",
}


@dataclass(frozen=True, slots=True)
class StepRow:
    """One recorded step of a course (``Journal.steps``; ``smdb journal --trin``), with its CPR masked."""

    course_key: str
    cpr_masked: str
    step: str
    status: str
    smdb_id: int | None
    reason: str | None
    updated_at: str


def content_hash(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


_STEP_COLUMNS = "course_key, cpr_masked, step, status, smdb_id, reason, updated_at"


def _steps_sql(course_key: str | None = None, statuses: tuple[str, ...] = ()) -> tuple[str, list[Any]]:
    where, args = [], []
    if course_key is not None:
        where.append("course_key = ?")
        args.append(course_key)
    if statuses:
        where.append(f"status IN ({', '.join('?' * len(statuses))})")
        args.extend(statuses)
    sql = f"SELECT {_STEP_COLUMNS} FROM steps" + (f" WHERE {' AND '.join(where)}" if where else "") + " ORDER BY id"
    return sql, args


#: Journals of format 1 kept a salt beside salted CPR hashes; format 2 keys courses by an HMAC with an outside key.
FORMAT = "2"


@dataclass(frozen=True, slots=True)
class CourseRow:
    """The latest state of a course in the journal (the steps say what was sent): its status, why, when, the run
    that left it so and its index in that run's input."""

    cpr_masked: str
    status: str
    reason: str | None
    updated_at: str
    run_id: str | None = None
    input_index: int | None = None


def read_courses(
    path: str | Path, statuses: tuple[str, ...] = (), *, run: str | None = None, since: str | None = None
) -> list[CourseRow]:
    """The latest state of every course recorded in the journal at ``path`` (a file or a ``postgresql://`` URL),
    oldest first, read-only (as :func:`read_steps`); only those with ``statuses``, left by ``run`` (a run id), or
    recorded ``since`` (an ISO date or time)."""
    where: list[str] = []
    args: list[Any] = []
    if statuses:
        where.append(f"status IN ({', '.join('?' * len(statuses))})")
        args.extend(statuses)
    if run:
        where.append("run_id = ?")
        args.append(run)
    if since:
        where.append("updated_at >= ?")
        args.append(since)
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    sql = (
        "SELECT COALESCE(cpr_masked, ''), status, reason, updated_at, run_id, input_index"
        f" FROM courses{clause} ORDER BY updated_at"
    )
    return [CourseRow(*r) for r in read_only(path, sql, args, table="courses")]


def read_steps(path: str | Path, statuses: tuple[str, ...] = ()) -> list[StepRow]:
    """The steps recorded in the journal at ``path``, oldest first, opened read-only (never created or changed)."""
    sql, args = _steps_sql(statuses=statuses)
    return [StepRow(*r) for r in read_only(path, sql, args)]


class Journal:
    """The reporting journal: a SQLite file (``path``), in memory (``None``: a single run with no resume), or a
    shared PostgreSQL database (a ``postgresql://`` URL: several processes and machines on one journal).

    It also holds citizens (:meth:`hold`) as far as it is shared: threads of this process for one in memory,
    processes on this machine for a file, processes on any machine for PostgreSQL.

    :param key: the HMAC key for course keys; default :func:`journal_key` (environment or key file). A key is only
        ever created for a new SQLite journal; an existing one and every PostgreSQL journal need the key they were
        written with, and the error names where it is looked for. An in-memory journal uses a random key of its own.
    :raises NotAJournal: the file or database is something else, was written with another key, or its key is
        missing (the message names ``SMDB_JOURNAL_KEY``); a symbolic link or device also raises it (as
        ``UnsafeJournal``, an :class:`~smdb.errors.UnsafeFile` too).
    :raises ConfigurationError: a PostgreSQL URL without psycopg installed (``smdb-client[postgresql]``).
    """

    def __init__(self, path: str | Path | None = None, *, key: bytes | None = None) -> None:
        new_file = path is not None and not is_url(path) and (not Path(path).exists() or Path(path).stat().st_size == 0)
        self._db: JournalDb = open_db(path)
        self._lock = threading.Lock()
        try:
            meta = dict(self._db.run("SELECT key, value FROM meta"))
            if key is None and path is None:
                key = os.urandom(32)
            elif key is None:
                why = f" til journalen {self._db.where}" if not new_file else ""
                key = journal_key(create=new_file and not is_url(path), why=why)
            self._key = key
            if "salt" in meta:
                self._migrate_salted()
            elif meta.get("key_id") not in (None, key_id(key)):
                raise NotAJournal(
                    f"{self._db.where}: journalen er skrevet med en anden journalnøgle (se {where_the_key_is()})"
                )
            self._set_meta("format", FORMAT)
            self._db.run(
                "INSERT INTO meta (key, value) VALUES ('key_id', ?) ON CONFLICT (key) DO NOTHING", (key_id(key),)
            )
            stored = dict(self._db.run("SELECT key, value FROM meta WHERE key = 'key_id'"))
            if stored.get("key_id") != key_id(key):  # another process created it with another key meanwhile
                raise NotAJournal(
                    f"{self._db.where}: journalen er skrevet med en anden journalnøgle (se {where_the_key_is()})"
                )
        except BaseException:
            self._db.close()
            raise

    def _set_meta(self, name: str, value: str) -> None:
        self._db.run(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (name, value),
        )

    def _migrate_salted(self) -> None:
        """A format-1 journal: drop the salt (and with it any way back from its hashes to CPR numbers), wipe the
        freed pages, and let its open writes be reconciled afresh; SMDB's state, fetched before every course, is
        what decides what is sent, so nothing is lost or sent twice."""
        self._db.run(
            "UPDATE steps SET status = ?, reason = ?, updated_at = ? WHERE status IN (?, ?)",
            (
                SUPERSEDED,
                "journalen er opgraderet; forløbet afstemmes med SMDB ved næste kørsel",
                self._now(),
                PENDING,
                UNKNOWN,
            ),
        )
        self._db.run("DELETE FROM meta WHERE key = 'salt'")
        self._db.vacuum()

    @contextmanager
    def hold(self, cpr: str, kommunekode: int, timeout: float) -> Iterator[Held | None]:
        """Hold the citizen (CPR in the municipality) for one writer, as far as this journal is shared; None when
        another writer held it for ``timeout`` seconds. The lock is keyed by a digest, never the CPR."""
        local = citizen_digest(PROCESS_KEY, cpr, kommunekode)
        with self._db.locks.hold(local, citizen_digest(self._key, cpr, kommunekode), timeout) as held:
            yield held

    def course_key(self, cpr: str, kommunekode: int, anmodningsdato: str) -> str:
        """Stable for one key, meaningless without it: an HMAC, so the journal file alone does not give CPRs."""
        message = f"{cpr}|{kommunekode}|{anmodningsdato}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:32]

    @staticmethod
    def _now() -> str:
        return datetime.now(UTC).isoformat(timespec="seconds")

    def step(
        self,
        course_key: str,
        cpr_masked: str,
        step: str,
        chash: str,
        status: str,
        smdb_id: int | None = None,
        reason: str | None = None,
        step_key: str | None = None,
    ) -> int:
        """Record a step: ``step`` is its description for people, ``step_key`` its stable key (form + SMDB id or
        natural key) by which the next plan recognises it."""
        with self._lock:
            return self._db.insert_id(
                "INSERT INTO steps (course_key, cpr_masked, step, step_key, content_hash, status, smdb_id, reason,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (course_key, cpr_masked, step, step_key, chash, status, smdb_id, reason, self._now()),
            )

    def update(self, step_id: int, status: str, smdb_id: int | None = None, reason: str | None = None) -> None:
        """Record the outcome of a step recorded before (its status, SMDB id and reason)."""
        with self._lock:
            self._db.run(
                "UPDATE steps SET status = ?, smdb_id = COALESCE(?, smdb_id), reason = ?, updated_at = ? WHERE id = ?",
                (status, smdb_id, reason, self._now(), step_id),
            )

    def unresolved(self, course_key: str, chash: str) -> list[tuple[int, str, str]]:
        """(id, step key, description) of the course's writes still pending or of unknown outcome for this content,
        oldest first (a step recorded without a key is recognised by its description).

        Such writes for other (older) content of the course cannot be judged against today's plan, so they are
        marked superseded here: the course's current content is what the caller reconciles with SMDB."""
        with self._lock:
            rows = self._db.run(
                "SELECT id, COALESCE(step_key, step), step, content_hash FROM steps"
                " WHERE course_key = ? AND status IN (?, ?) ORDER BY id",
                (course_key, PENDING, UNKNOWN),
            )
            for step_id, _, _, other in rows:
                if other != chash:
                    self._db.run(
                        "UPDATE steps SET status = ?, reason = ?, updated_at = ? WHERE id = ?",
                        (SUPERSEDED, "afløst af en nyere udgave af forløbet", self._now(), step_id),
                    )
        return [(int(i), str(k), str(d)) for i, k, d, h in rows if h == chash]

    def recorded_at(self, step_id: int) -> datetime | None:
        """When the step's status was last recorded (for a write of unknown outcome: just after it was sent)."""
        with self._lock:
            rows = self._db.run("SELECT updated_at FROM steps WHERE id = ?", (step_id,))
        return datetime.fromisoformat(rows[0][0]) if rows else None

    def course_done(self, course_key: str, chash: str) -> bool:
        """Was exactly this content confirmed complete (for audits; reporting always re-checks SMDB itself)?"""
        with self._lock:
            rows = self._db.run("SELECT content_hash, status FROM courses WHERE course_key = ?", (course_key,))
        return bool(rows) and rows[0][0] == chash and rows[0][1] == CONFIRMED

    def set_course(
        self,
        course_key: str,
        chash: str,
        status: str,
        cpr_masked: str = "",
        reason: str | None = None,
        run_id: str | None = None,
        input_index: int | None = None,
    ) -> None:
        """Record the latest state of the course as a whole (confirmed, rejected, failed, not attempted, busy, …),
        with the masked CPR, the reason and the run (and input index) that left it so: ``smdb journal`` answers
        "what is left" from it, and a later run that gets the course through clears it."""
        with self._lock:
            self._db.run(
                "INSERT INTO courses (course_key, content_hash, status, updated_at, cpr_masked, reason, run_id,"
                " input_index) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT(course_key) DO UPDATE SET content_hash = excluded.content_hash,"
                " status = excluded.status, updated_at = excluded.updated_at, cpr_masked = excluded.cpr_masked,"
                " reason = excluded.reason, run_id = excluded.run_id, input_index = excluded.input_index",
                (course_key, chash, status, self._now(), cpr_masked, reason, run_id, input_index),
            )

    def input_key(self, source: str, index: int) -> str:
        """The key of a course that did not parse: its place in the input (file and index)."""
        return self.keyed(f"input|{source}|{index}")

    def forget(self, course_keys: Sequence[str]) -> None:
        """Drop courses' states (unparseable entries, once the courses at their places parse): a few statements for
        a whole run, not one transaction per course."""
        keys = list(course_keys)
        with self._lock:
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                self._db.run(f"DELETE FROM courses WHERE course_key IN ({', '.join('?' * len(chunk))})", chunk)

    def start_run(self, source: str | None) -> str:
        """Record the start of a run (a batch of ``source``); its id."""
        run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + os.urandom(3).hex()
        with self._lock:
            self._db.run(
                "INSERT INTO runs (run_id, started_at, source) VALUES (?, ?, ?)", (run_id, self._now(), source)
            )
        return run_id

    def finish_run(self, run_id: str, summary: dict[str, Any]) -> None:
        """Record the end of a run with its summary counts."""
        with self._lock:
            self._db.run(
                "UPDATE runs SET finished_at = ?, summary = ? WHERE run_id = ?",
                (self._now(), json.dumps(summary), run_id),
            )

    @property
    def persistent(self) -> bool:
        """Does the journal outlive this process (a file or a database, not memory)?"""
        return self._db.where != ":memory:"

    def cipher(self, purpose: bytes) -> AESGCM:
        """Plans and queued courses hold full CPR numbers, so they are encrypted with a key derived from the journal
        key for ``purpose``: like the course keys, the journal file or database alone does not reveal them."""
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(self._key)
        return AESGCM(derived)

    def _plan_cipher(self) -> AESGCM:
        return self.cipher(b"smdb-journal-plans")

    @property
    def db(self) -> JournalDb:
        """The journal's database (for the outbox kept in it, :mod:`smdb.udbakke`)."""
        return self._db

    def keyed(self, text: str) -> str:
        """A keyed digest of ``text`` (a case system's own course id, say): stable, meaningless without the key."""
        return hmac.new(self._key, f"noegle|{text}".encode(), hashlib.sha256).hexdigest()[:32]

    def save_plan(self, name: str, data: dict[str, Any]) -> None:
        """Keep ``data`` (a systemskifte plan) under ``name``; an earlier plan of that name is replaced."""
        nonce = os.urandom(12)
        blob = self._plan_cipher().encrypt(nonce, json.dumps(data, ensure_ascii=False).encode(), name.encode())
        with self._lock:
            self._db.run(
                "INSERT INTO plans (name, created_at, nonce, data) VALUES (?, ?, ?, ?) ON CONFLICT (name) DO UPDATE"
                " SET created_at = excluded.created_at, nonce = excluded.nonce, data = excluded.data",
                (name, self._now(), nonce, blob),
            )

    def load_plan(self, name: str) -> tuple[dict[str, Any], str] | None:
        """The plan kept under ``name`` and when it was kept, or None."""
        with self._lock:
            rows = self._db.run("SELECT created_at, nonce, data FROM plans WHERE name = ?", (name,))
        if not rows:
            return None
        row = rows[0]
        try:
            plain = self._plan_cipher().decrypt(bytes(row[1]), bytes(row[2]), name.encode())
        except InvalidTag:
            raise NotAJournal(f"planen {name!r} i journalen kan ikke læses (ændret, eller en anden nøgle)") from None
        data: dict[str, Any] = json.loads(plain)
        return data, str(row[0])

    def steps(self, course_key: str | None = None) -> list[StepRow]:
        """The steps recorded, oldest first (of one course when ``course_key`` is given)."""
        sql, args = _steps_sql(course_key)
        with self._lock:
            return [StepRow(*r) for r in self._db.run(sql, args)]

    def counts(self) -> dict[str, int]:
        """How many steps have each status."""
        with self._lock:
            return {str(k): int(v) for k, v in self._db.run("SELECT status, COUNT(*) FROM steps GROUP BY status")}

    def close(self) -> None:
        """Close the database (and release the citizen locks it holds open)."""
        with self._lock:
            self._db.close()
