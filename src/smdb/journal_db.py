"""Where a journal lives: an embedded SQLite file (the zero-setup default) or a shared PostgreSQL database (several
processes and machines). One small interface, :class:`JournalDb`: run a statement, know the citizen locks that reach
as far as the database is shared, close. The SQL is written once with ``?`` placeholders; each backend creates and
migrates its own schema, versioned, so an upgrade never needs hand-written SQL.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from smdb.errors import NotAJournal, UnsafeFile, UnsafeJournal
from smdb.files import check_sqlite_tables, create_owner_only, os_fejl
from smdb.journal_schema import ddl
from smdb.locks import CitizenLocks, FileLocks

SQLITE_SCHEMA = ddl("sqlite")
#: Tables every journal has, and those added later (a journal written before them is still a journal).
TABLES = {"meta", "steps", "courses"}
LATER_TABLES = frozenset({"plans", "outbox", "runs"})

#: File systems on which SQLite's locking (and so the journal's and the citizen locks') is not reliable.
NETWORK_FILESYSTEMS = frozenset(
    {
        "nfs",
        "nfs4",
        "cifs",
        "smb3",
        "smbfs",
        "fuse.sshfs",
        "sshfs",
        "9p",
        "ceph",
        "fuse.ceph",
        "glusterfs",
        "fuse.glusterfs",
        "afs",
        "fuse.s3fs",
        "fuse.gcsfuse",
        "lustre",
    }
)


def is_url(target: str | os.PathLike[str] | None) -> bool:
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


class JournalDb(Protocol):
    """A journal's database (:class:`SqliteDb`, :class:`smdb.journal_pg.PostgresDb`)."""

    #: "sqlite" or "postgresql".
    kind: str
    #: The citizen locks that reach as far as this database is shared.
    locks: CitizenLocks
    #: Where it is, for messages (no password).
    where: str

    def run(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run ``sql`` (``?`` placeholders); the rows it returns."""

    def insert_id(self, sql: str, params: Sequence[Any]) -> int:
        """Run an INSERT … RETURNING id; the new row's id."""

    def vacuum(self) -> None:
        """Reclaim (and wipe) freed space."""

    def close(self) -> None:
        """Close the database and release the locks it holds."""


def filesystem_of(path: Path, mounts: str | None = None) -> str | None:
    """The file system type ``path`` lives on, from ``/proc/mounts`` (Linux); None where that cannot be told."""
    if mounts is None:
        try:
            mounts = Path("/proc/mounts").read_text()
        except OSError:
            return None
    target = os.path.realpath(path)
    best, kind = "", None
    for line in mounts.splitlines():
        parts = line.split()
        if len(parts) < 3:
            continue
        mount = parts[1].replace("\\040", " ")
        if (target == mount or target.startswith(mount.rstrip("/") + "/")) and len(mount) >= len(best):
            best, kind = mount, parts[2]
    return kind


def refuse_network_filesystem(path: Path, mounts: str | None = None) -> None:
    """A SQLite journal on NFS or SMB: its locks (SQLite's own and the citizen locks) cannot be trusted there, so
    two runs could both send for the same citizen. Refused with the reason, pointing to PostgreSQL."""
    kind = filesystem_of(path.parent if not path.exists() else path, mounts)
    if kind in NETWORK_FILESYSTEMS:
        raise NotAJournal(
            f"{path}: SQLite-journalen ligger på et netværksfilsystem ({kind}), hvor låse ikke er pålidelige; brug "
            "en lokal disk, eller en fælles PostgreSQL-journal (--journal postgresql://…) for flere maskiner"
        )


class SqliteDb:
    """The embedded journal: a file (owner-only), or ``None`` for one in memory (a single run, nothing to resume)."""

    def __init__(self, path: str | Path | None) -> None:
        target = ":memory:"
        if path is not None:
            refuse_network_filesystem(Path(path))
            try:
                create_owner_only(path, check_is_journal)  # it describes citizens in treatment
            except NotAJournal:
                raise
            except UnsafeFile as exc:
                raise UnsafeJournal(str(exc)) from None
            except OSError as exc:
                raise NotAJournal(f"{path}: kan ikke åbnes ({os_fejl(exc)})") from None
            target = str(path)
        self.where = target
        self.locks: CitizenLocks
        self._lock = threading.Lock()
        self._db = sqlite3.connect(target, check_same_thread=False, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA secure_delete = ON")
        self._db.executescript(SQLITE_SCHEMA)
        columns = {r[1] for r in self._db.execute("PRAGMA table_info(steps)")}
        if "step_key" not in columns:  # a journal from before steps had stable keys
            self._db.execute("ALTER TABLE steps ADD COLUMN step_key TEXT")
        course_columns = {r[1] for r in self._db.execute("PRAGMA table_info(courses)")}
        for column, kind in (
            ("cpr_masked", "TEXT"),
            ("reason", "TEXT"),
            ("run_id", "TEXT"),
            ("input_index", "INTEGER"),
        ):
            if column not in course_columns:  # a journal from before courses were shown, or knew their runs
                self._db.execute(f"ALTER TABLE courses ADD COLUMN {column} {kind}")
        if path is None:
            self.locks = CitizenLocks()
        else:
            lock_path = Path(f"{path}.lock")
            try:
                create_owner_only(lock_path)
                self.locks = FileLocks.open(lock_path)
            except OSError as exc:
                self._db.close()
                raise NotAJournal(f"{lock_path}: låsefilen kan ikke åbnes ({os_fejl(exc)})") from None

    kind = "sqlite"

    def run(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, tuple(params)).fetchall()

    def insert_id(self, sql: str, params: Sequence[Any]) -> int:
        return int(self.run(sql + " RETURNING id", params)[0][0])

    def vacuum(self) -> None:
        with self._lock:
            self._db.execute("VACUUM")

    def close(self) -> None:
        with self._lock:
            self._db.close()
        self.locks.close()


def check_is_journal(path: Path) -> None:
    """Raise NotAJournal unless ``path`` is empty or a journal; opened read-only, so nothing is changed."""
    try:
        check_sqlite_tables(path, TABLES, "en smdb-journal", LATER_TABLES)
    except UnsafeFile as exc:
        raise NotAJournal(str(exc)) from None


def read_only(target: str | Path, sql: str, params: Sequence[Any] = (), table: str = "steps") -> list[tuple[Any, ...]]:
    """``sql`` on the journal at ``target`` opened read-only: looking at a journal (last night's failures, say) must
    never create or change one, nor touch a database that is something else. A journal written before ``table``
    existed has no rows of it."""
    if is_url(target):
        from smdb.journal_pg import read_only as pg_read_only

        return pg_read_only(str(target), sql, params, table)
    path = Path(target)
    if not path.is_file():
        raise NotAJournal(f"{path}: filen findes ikke")
    check_is_journal(path)
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            known = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if table not in known:
                return []
            if "FROM courses" in sql:
                columns = {r[1] for r in db.execute("PRAGMA table_info(courses)")}
                if "cpr_masked" not in columns:  # written before courses carried it: nothing to show
                    return []
                if "run_id" not in columns:  # written before runs were known
                    sql = sql.replace("run_id", "NULL").replace("input_index", "NULL")
            return db.execute(sql, tuple(params)).fetchall()
        finally:
            db.close()
    except sqlite3.DatabaseError:
        raise NotAJournal(f"{path}: er ikke en smdb-journal") from None


def open_db(target: str | Path | None) -> JournalDb:
    """The journal database ``target`` names: None (in memory), a path (SQLite) or a ``postgresql://`` URL."""
    if is_url(target):
        from smdb.journal_pg import PostgresDb

        return PostgresDb(str(target))
    return SqliteDb(target)
