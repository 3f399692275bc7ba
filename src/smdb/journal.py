"""The reporting journal: a local SQLite record of every step of every course of a batch.

It is what makes a batch resumable and auditable: each step goes pending -> confirmed (or rejected / failed /
unknown), with SMDB's id or the reason; an unknown outcome is resolved to confirmed or failed when the course is
next reconciled, or superseded when its content has changed since. CPR numbers are not stored in clear: a course
is keyed by a salted hash, and only the masked CPR is kept for people reading the journal. The file is created
owner-only (it still describes citizens in treatment).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from smdb.files import create_owner_only

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS steps (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    course_key TEXT NOT NULL,
    cpr_masked TEXT NOT NULL,
    step TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    status TEXT NOT NULL,
    smdb_id INTEGER,
    reason TEXT,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS steps_course ON steps (course_key);
CREATE TABLE IF NOT EXISTS courses (
    course_key TEXT PRIMARY KEY,
    content_hash TEXT NOT NULL,
    status TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
"""

PENDING, CONFIRMED, REJECTED, FAILED, UNKNOWN = "pending", "confirmed", "rejected", "failed", "unknown"
#: A write of unknown outcome for content that has changed since: the newer content is what gets reconciled.
SUPERSEDED = "superseded"
#: Every status a step can be written with.
STEP_STATUSES = (PENDING, CONFIRMED, REJECTED, FAILED, UNKNOWN, SUPERSEDED)


@dataclass(frozen=True, slots=True)
class StepRow:
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


def _steps(db: sqlite3.Connection, course_key: str | None = None, statuses: tuple[str, ...] = ()) -> list[StepRow]:
    where, args = [], []
    if course_key is not None:
        where.append("course_key = ?")
        args.append(course_key)
    if statuses:
        where.append(f"status IN ({', '.join('?' * len(statuses))})")
        args.extend(statuses)
    sql = f"SELECT {_STEP_COLUMNS} FROM steps" + (f" WHERE {' AND '.join(where)}" if where else "") + " ORDER BY id"
    return [StepRow(*r) for r in db.execute(sql, args).fetchall()]


class NotAJournal(Exception):
    """The file does not exist or is not a journal written by smdb."""


def read_steps(path: str | Path, statuses: tuple[str, ...] = ()) -> list[StepRow]:
    """The steps recorded in the journal at ``path``, oldest first, opened read-only: looking at a journal (to find
    last night's failures, say) must never create or change one, nor touch a database that is something else."""
    if not Path(path).is_file():
        raise NotAJournal(f"{path}: filen findes ikke")
    try:
        db = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
        try:
            return _steps(db, statuses=statuses)
        finally:
            db.close()
    except sqlite3.DatabaseError:
        raise NotAJournal(f"{path}: er ikke en smdb-journal") from None


class Journal:
    """SQLite journal; ``Journal(None)`` keeps it in memory (a single run with no resume)."""

    def __init__(self, path: str | Path | None = None) -> None:
        target = ":memory:"
        if path is not None:
            create_owner_only(path)  # it holds CPR numbers
            target = str(path)
        self._db = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
        self._db.executescript(SCHEMA)
        self._lock = threading.Lock()
        row = self._db.execute("SELECT value FROM meta WHERE key = 'salt'").fetchone()
        if row is None:
            salt = os.urandom(16).hex()
            self._db.execute("INSERT INTO meta (key, value) VALUES ('salt', ?)", (salt,))
        else:
            salt = row[0]
        self._salt = salt

    def course_key(self, cpr: str, kommunekode: int, anmodningsdato: str) -> str:
        """Stable within this journal, meaningless outside it (no CPR in clear)."""
        return hashlib.sha256(f"{self._salt}|{cpr}|{kommunekode}|{anmodningsdato}".encode()).hexdigest()[:32]

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
    ) -> int:
        with self._lock:
            cur = self._db.execute(
                "INSERT INTO steps (course_key, cpr_masked, step, content_hash, status, smdb_id, reason, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (course_key, cpr_masked, step, chash, status, smdb_id, reason, self._now()),
            )
            return int(cur.lastrowid or 0)

    def update(self, step_id: int, status: str, smdb_id: int | None = None, reason: str | None = None) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE steps SET status = ?, smdb_id = COALESCE(?, smdb_id), reason = ?, updated_at = ? WHERE id = ?",
                (status, smdb_id, reason, self._now(), step_id),
            )

    def unresolved(self, course_key: str, chash: str) -> list[tuple[int, str]]:
        """(id, step) of the course's writes still pending or of unknown outcome for this content, oldest first.

        Such writes for other (older) content of the course cannot be judged against today's plan, so they are
        marked superseded here: the course's current content is what the caller reconciles with SMDB."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, step, content_hash FROM steps WHERE course_key = ? AND status IN (?, ?) ORDER BY id",
                (course_key, PENDING, UNKNOWN),
            ).fetchall()
            for step_id, _, other in rows:
                if other != chash:
                    self._db.execute(
                        "UPDATE steps SET status = ?, reason = ?, updated_at = ? WHERE id = ?",
                        (SUPERSEDED, "afløst af en nyere udgave af forløbet", self._now(), step_id),
                    )
        return [(int(i), str(d)) for i, d, h in rows if h == chash]

    def course_done(self, course_key: str, chash: str) -> bool:
        """Was exactly this content confirmed complete (for audits; reporting always re-checks SMDB itself)?"""
        with self._lock:
            row = self._db.execute(
                "SELECT content_hash, status FROM courses WHERE course_key = ?", (course_key,)
            ).fetchone()
        return row is not None and row[0] == chash and row[1] == CONFIRMED

    def set_course(self, course_key: str, chash: str, status: str) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO courses (course_key, content_hash, status, updated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT(course_key) DO UPDATE SET content_hash = excluded.content_hash,"
                " status = excluded.status, updated_at = excluded.updated_at",
                (course_key, chash, status, self._now()),
            )

    def steps(self, course_key: str | None = None) -> list[StepRow]:
        with self._lock:
            return _steps(self._db, course_key)

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._db.execute("SELECT status, COUNT(*) FROM steps GROUP BY status").fetchall())

    def close(self) -> None:
        with self._lock:
            self._db.close()
