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

import contextlib
import hashlib
import hmac
import json
import os
import sqlite3
import threading
from collections.abc import Callable
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
from smdb.errors import UnsafeFile
from smdb.files import PRIVATE, check_sqlite_tables, create_owner_only, os_fejl, read_capped

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS steps (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    course_key TEXT NOT NULL,
    cpr_masked TEXT NOT NULL,
    step TEXT NOT NULL,
    step_key TEXT,
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
    updated_at TEXT NOT NULL,
    cpr_masked TEXT,
    reason TEXT
);
CREATE TABLE IF NOT EXISTS plans (
    name TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    nonce BLOB NOT NULL,
    data BLOB NOT NULL
);
"""
#: Tables every journal has, and those added later (a journal written before them is still a journal).
_TABLES = {"meta", "steps", "courses"}
_LATER_TABLES = frozenset({"plans"})


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


#: Journals of format 1 kept a salt beside salted CPR hashes; format 2 keys courses by an HMAC with an outside key.
FORMAT = "2"
KEY_ENV = "SMDB_JOURNAL_KEY"
KEY_FILE_ENV = "SMDB_JOURNAL_KEY_FILE"


def default_key_file() -> Path:
    """``$SMDB_JOURNAL_KEY_FILE``, else ``journal.key`` in the user's configuration directory for smdb."""
    explicit = os.environ.get(KEY_FILE_ENV)
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CONFIG_HOME") or os.environ.get("APPDATA") or str(Path.home() / ".config")
    return Path(base) / "smdb" / "journal.key"


def journal_key(key_file: str | Path | None = None) -> bytes:
    """The journal key: ``$SMDB_JOURNAL_KEY`` (hex, at least 32 bytes), else the key file, created on first use.

    The key file is created owner-only in an owner-only directory; it is the one secret that turns a journal's
    course keys back into CPR numbers, so keep it off the machines and backups that the journals go to.
    """
    env = os.environ.get(KEY_ENV)
    if env:
        try:
            key = bytes.fromhex(env.strip())
        except ValueError:
            raise NotAJournal(f"{KEY_ENV} skal være hex (mindst 64 tegn)") from None
        if len(key) < 32:
            raise NotAJournal(f"{KEY_ENV} er for kort: mindst 32 bytes (64 hex-tegn)")
        return key
    path = Path(key_file) if key_file is not None else default_key_file()
    try:
        text = read_capped(path, 1024, PRIVATE).decode("ascii").strip()
    except FileNotFoundError:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fresh = os.urandom(32)
        with contextlib.suppress(FileExistsError):
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0), 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(fresh.hex() + "\n")
            return fresh
        text = read_capped(path, 1024, PRIVATE).decode("ascii").strip()  # another process created it first
    except (UnsafeFile, OSError, UnicodeDecodeError) as exc:
        raise NotAJournal(f"journalnøglen {path} kan ikke læses ({exc})") from None
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise NotAJournal(f"journalnøglen {path} er ikke en gyldig nøgle (hex)") from None
    if len(key) < 32:
        raise NotAJournal(f"journalnøglen {path} er for kort")
    return key


def _key_id(key: bytes) -> str:
    """Names the key without revealing it, so a journal opened with another key is refused, not silently new."""
    return hmac.new(key, b"smdb-journal-key-id", hashlib.sha256).hexdigest()[:16]


def _check_is_journal(path: Path) -> None:
    """Raise NotAJournal unless ``path`` is empty or a journal; opened read-only, so nothing is changed."""
    try:
        check_sqlite_tables(path, _TABLES, "en smdb-journal", _LATER_TABLES)
    except UnsafeFile as exc:
        raise NotAJournal(str(exc)) from None


@dataclass(frozen=True, slots=True)
class CourseRow:
    """How a course as a whole ended in the journal (the steps say what was sent)."""

    cpr_masked: str
    status: str
    reason: str | None
    updated_at: str


def _read_only(path: str | Path, read: Callable[[sqlite3.Connection], list[Any]]) -> list[Any]:
    """``read`` on the journal at ``path`` opened read-only: looking at a journal (to find last night's failures,
    say) must never create or change one, nor touch a database that is something else."""
    if not Path(path).is_file():
        raise NotAJournal(f"{path}: filen findes ikke")
    _check_is_journal(Path(path))
    try:
        db = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
        try:
            return read(db)
        finally:
            db.close()
    except sqlite3.DatabaseError:
        raise NotAJournal(f"{path}: er ikke en smdb-journal") from None


def read_courses(path: str | Path, statuses: tuple[str, ...] = ()) -> list[CourseRow]:
    """The courses recorded in the journal at ``path``, oldest first, read-only (as :func:`read_steps`)."""

    def read(db: sqlite3.Connection) -> list[CourseRow]:
        columns = {r[1] for r in db.execute("PRAGMA table_info(courses)")}
        if "cpr_masked" not in columns:  # written before courses carried it: nothing to show
            return []
        where = f" WHERE status IN ({', '.join('?' * len(statuses))})" if statuses else ""
        rows = db.execute(
            f"SELECT COALESCE(cpr_masked, ''), status, reason, updated_at FROM courses{where} ORDER BY updated_at",
            statuses,
        ).fetchall()
        return [CourseRow(*r) for r in rows]

    out: list[CourseRow] = _read_only(path, read)
    return out


def read_steps(path: str | Path, statuses: tuple[str, ...] = ()) -> list[StepRow]:
    """The steps recorded in the journal at ``path``, oldest first, opened read-only (never created or changed)."""
    out: list[StepRow] = _read_only(path, lambda db: _steps(db, statuses=statuses))
    return out


class Journal:
    """SQLite journal; ``Journal(None)`` keeps it in memory (a single run with no resume).

    :param key: the HMAC key for course keys; default :func:`journal_key` (environment or key file). An in-memory
        journal uses a random key of its own.
    """

    def __init__(self, path: str | Path | None = None, *, key: bytes | None = None) -> None:
        target = ":memory:"
        if path is not None:
            try:
                create_owner_only(path, _check_is_journal)  # it describes citizens in treatment
            except UnsafeFile as exc:
                raise NotAJournal(str(exc)) from None
            except OSError as exc:
                raise NotAJournal(f"{path}: kan ikke åbnes ({os_fejl(exc)})") from None
            target = str(path)
        self._key = key if key is not None else (journal_key() if path is not None else os.urandom(32))
        self._db = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA secure_delete = ON")
        self._db.executescript(SCHEMA)
        columns = {r[1] for r in self._db.execute("PRAGMA table_info(steps)")}
        if "step_key" not in columns:  # a journal from before steps had stable keys
            self._db.execute("ALTER TABLE steps ADD COLUMN step_key TEXT")
        course_columns = {r[1] for r in self._db.execute("PRAGMA table_info(courses)")}
        for column in ("cpr_masked", "reason"):  # a journal from before courses were shown
            if column not in course_columns:
                self._db.execute(f"ALTER TABLE courses ADD COLUMN {column} TEXT")
        self._lock = threading.Lock()
        meta = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
        if "salt" in meta:
            self._migrate_salted()
        elif meta.get("key_id") not in (None, _key_id(self._key)):
            self._db.close()
            raise NotAJournal(
                f"{path}: journalen er skrevet med en anden journalnøgle (se {KEY_ENV} / {default_key_file()})"
            )
        self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('format', ?)", (FORMAT,))
        self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('key_id', ?)", (_key_id(self._key),))

    def _migrate_salted(self) -> None:
        """A format-1 journal: drop the salt (and with it any way back from its hashes to CPR numbers), wipe the
        freed pages, and let its open writes be reconciled afresh; SMDB's state, fetched before every course, is
        what decides what is sent, so nothing is lost or sent twice."""
        self._db.execute(
            "UPDATE steps SET status = ?, reason = ?, updated_at = ? WHERE status IN (?, ?)",
            (
                SUPERSEDED,
                "journalen er opgraderet; forløbet afstemmes med SMDB ved næste kørsel",
                self._now(),
                PENDING,
                UNKNOWN,
            ),
        )
        self._db.execute("DELETE FROM meta WHERE key = 'salt'")
        self._db.execute("VACUUM")

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
            cur = self._db.execute(
                "INSERT INTO steps (course_key, cpr_masked, step, step_key, content_hash, status, smdb_id, reason,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (course_key, cpr_masked, step, step_key, chash, status, smdb_id, reason, self._now()),
            )
            return int(cur.lastrowid or 0)

    def update(self, step_id: int, status: str, smdb_id: int | None = None, reason: str | None = None) -> None:
        """Record the outcome of a step recorded before (its status, SMDB id and reason)."""
        with self._lock:
            self._db.execute(
                "UPDATE steps SET status = ?, smdb_id = COALESCE(?, smdb_id), reason = ?, updated_at = ? WHERE id = ?",
                (status, smdb_id, reason, self._now(), step_id),
            )

    def unresolved(self, course_key: str, chash: str) -> list[tuple[int, str, str]]:
        """(id, step key, description) of the course's writes still pending or of unknown outcome for this content,
        oldest first (a step recorded without a key is recognised by its description).

        Such writes for other (older) content of the course cannot be judged against today's plan, so they are
        marked superseded here: the course's current content is what the caller reconciles with SMDB."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, COALESCE(step_key, step), step, content_hash FROM steps"
                " WHERE course_key = ? AND status IN (?, ?) ORDER BY id",
                (course_key, PENDING, UNKNOWN),
            ).fetchall()
            for step_id, _, _, other in rows:
                if other != chash:
                    self._db.execute(
                        "UPDATE steps SET status = ?, reason = ?, updated_at = ? WHERE id = ?",
                        (SUPERSEDED, "afløst af en nyere udgave af forløbet", self._now(), step_id),
                    )
        return [(int(i), str(k), str(d)) for i, k, d, h in rows if h == chash]

    def recorded_at(self, step_id: int) -> datetime | None:
        """When the step's status was last recorded (for a write of unknown outcome: just after it was sent)."""
        with self._lock:
            row = self._db.execute("SELECT updated_at FROM steps WHERE id = ?", (step_id,)).fetchone()
        return datetime.fromisoformat(row[0]) if row else None

    def course_done(self, course_key: str, chash: str) -> bool:
        """Was exactly this content confirmed complete (for audits; reporting always re-checks SMDB itself)?"""
        with self._lock:
            row = self._db.execute(
                "SELECT content_hash, status FROM courses WHERE course_key = ?", (course_key,)
            ).fetchone()
        return row is not None and row[0] == chash and row[1] == CONFIRMED

    def set_course(
        self, course_key: str, chash: str, status: str, cpr_masked: str = "", reason: str | None = None
    ) -> None:
        """Record how the course as a whole ended (confirmed, rejected by a rule, failed), with the masked CPR and
        the reason, so ``smdb journal`` shows courses that failed before any step was sent."""
        with self._lock:
            self._db.execute(
                "INSERT INTO courses (course_key, content_hash, status, updated_at, cpr_masked, reason)"
                " VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT(course_key) DO UPDATE SET content_hash = excluded.content_hash,"
                " status = excluded.status, updated_at = excluded.updated_at, cpr_masked = excluded.cpr_masked,"
                " reason = excluded.reason",
                (course_key, chash, status, self._now(), cpr_masked, reason),
            )

    def _plan_cipher(self) -> AESGCM:
        """Plans hold full CPR numbers (the re-registration needs them), so they are encrypted with a key derived
        from the journal key: like the course keys, the journal file alone does not reveal them."""
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"smdb-journal-plans").derive(self._key)
        return AESGCM(derived)

    def save_plan(self, name: str, data: dict[str, Any]) -> None:
        """Keep ``data`` (a systemskifte plan) under ``name``; an earlier plan of that name is replaced."""
        nonce = os.urandom(12)
        blob = self._plan_cipher().encrypt(nonce, json.dumps(data, ensure_ascii=False).encode(), name.encode())
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO plans (name, created_at, nonce, data) VALUES (?, ?, ?, ?)",
                (name, self._now(), nonce, blob),
            )

    def load_plan(self, name: str) -> tuple[dict[str, Any], str] | None:
        """The plan kept under ``name`` and when it was kept, or None."""
        with self._lock:
            row = self._db.execute("SELECT created_at, nonce, data FROM plans WHERE name = ?", (name,)).fetchone()
        if row is None:
            return None
        try:
            plain = self._plan_cipher().decrypt(row[1], row[2], name.encode())
        except InvalidTag:
            raise NotAJournal(f"planen {name!r} i journalen kan ikke læses (ændret, eller en anden nøgle)") from None
        data: dict[str, Any] = json.loads(plain)
        return data, str(row[0])

    def steps(self, course_key: str | None = None) -> list[StepRow]:
        """The steps recorded, oldest first (of one course when ``course_key`` is given)."""
        with self._lock:
            return _steps(self._db, course_key)

    def counts(self) -> dict[str, int]:
        """How many steps have each status."""
        with self._lock:
            return dict(self._db.execute("SELECT status, COUNT(*) FROM steps GROUP BY status").fetchall())

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()
