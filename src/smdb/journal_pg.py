"""The shared journal on PostgreSQL (``smdb-client[postgresql]``, psycopg 3): several processes on several machines
report through one journal, and hold citizens with session advisory locks that die with their holder.

The tables live in their own schema (``smdb_journal``), created and migrated by the library under an advisory lock
(versioned in ``meta``). Nothing here stores a CPR number: course keys and lock keys are keyed digests whose key is
not in the database. What breaks it (docs/deployment.md): a pooler in *transaction* mode (PgBouncer
``pool_mode=transaction``) hands the session, and with it the advisory locks, to other clients; use a direct
connection or session pooling.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from smdb.errors import ConfigurationError, NotAJournal
from smdb.journal_schema import ddl
from smdb.locks import CitizenLocks, Held, process_locks, wait_for

try:
    import psycopg
except ImportError:  # pragma: no cover - the optional extra is not installed
    psycopg = None  # type: ignore[assignment]

SCHEMA_NAME = "smdb_journal"
#: Migrations, in order; ``meta.schema_version`` says how many have run.
MIGRATIONS: tuple[str, ...] = (ddl("postgresql", SCHEMA_NAME),)
#: The advisory lock (transaction scope) under which one process creates or migrates the schema.
_MIGRATION_LOCK = 0x5_3D_B0_00_01


def shown(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def connect(url: str, *, read_only: bool = False) -> Any:
    """An autocommit connection with the journal's schema first on its search path."""
    if psycopg is None:
        raise ConfigurationError("en PostgreSQL-journal kræver psycopg: pip install 'smdb-client[postgresql]'")
    try:
        conn = psycopg.connect(url, autocommit=True, connect_timeout=10, application_name="smdb-client")
    except psycopg.Error as exc:
        raise NotAJournal(f"PostgreSQL-journalen {shown(url)} kan ikke nås: {_first_line(exc)}") from None
    conn.execute(f"SET search_path TO {SCHEMA_NAME}")
    if read_only:
        conn.execute("SET default_transaction_read_only = on")
    return conn


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


class PostgresDb:
    """A journal database on PostgreSQL; thread-safe (one connection, used by one thread at a time)."""

    kind = "postgresql"

    def __init__(self, url: str) -> None:
        self.url = url
        self.where = shown(url)
        self._conn = connect(url)
        self._lock = threading.Lock()
        self._migrate()
        self.locks: CitizenLocks = PgLocks(url)

    def _migrate(self) -> None:
        try:
            with self._conn.transaction():
                self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
                self._conn.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA_NAME}")
                self._conn.execute(
                    f"CREATE TABLE IF NOT EXISTS {SCHEMA_NAME}.meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
                )
                row = self._conn.execute(
                    f"SELECT value FROM {SCHEMA_NAME}.meta WHERE key = 'schema_version'"
                ).fetchone()
                done = int(row[0]) if row else 0
                if done > len(MIGRATIONS):
                    raise NotAJournal(
                        f"{self.where}: journalen er skrevet af en nyere smdb-client (skemaversion {done}); opgradér"
                    )
                for sql in MIGRATIONS[done:]:
                    self._conn.execute(sql)
                self._conn.execute(
                    f"INSERT INTO {SCHEMA_NAME}.meta (key, value) VALUES ('schema_version', %s)"
                    " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (str(len(MIGRATIONS)),),
                )
        except psycopg.Error as exc:
            raise NotAJournal(f"PostgreSQL-journalen {self.where} kan ikke oprettes: {_first_line(exc)}") from None

    def run(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                cur = self._conn.execute(sql.replace("?", "%s"), tuple(params))
                return [tuple(r) for r in cur.fetchall()] if cur.description else []
            except psycopg.OperationalError as exc:
                raise NotAJournal(
                    f"PostgreSQL-journalen {self.where}: forbindelsen er tabt ({_first_line(exc)})"
                ) from None

    def insert_id(self, sql: str, params: Sequence[Any]) -> int:
        rows = self.run(sql + " RETURNING id", params)
        return int(rows[0][0])

    def vacuum(self) -> None:
        """Nothing to do: PostgreSQL reclaims space itself."""

    def close(self) -> None:
        with self._lock:
            self._conn.close()
        self.locks.close()


def _lock_key(digest: str) -> int:
    """A citizen digest as a signed 64-bit advisory lock key."""
    value = int(digest[:16], 16)
    return value - (1 << 64) if value >= 1 << 63 else value


class PgLocks(CitizenLocks):
    """Session advisory locks on a connection of their own: held while this process's connection lives, released by
    the server the moment it ends (a killed process, a lost network). Before each write :meth:`Held.check` asks the
    connection whether it still lives; if not, the writer stops."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._conn = connect(url)
        self._lock = threading.Lock()

    def _alive(self) -> bool:
        with self._lock:
            try:
                self._conn.execute("SELECT 1")
                return True
            except psycopg.Error:
                return False

    @contextlib.contextmanager
    def hold(self, local: str, shared: str, timeout: float) -> Iterator[Held | None]:
        key = _lock_key(shared)
        with process_locks().hold_one(local, timeout) as in_process:
            if in_process is None:
                yield None
                return

            def try_once() -> bool:
                with self._lock:
                    row = self._conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
                return bool(row and row[0])

            try:
                acquired = wait_for(try_once, timeout)
            except psycopg.Error as exc:
                raise NotAJournal(
                    f"PostgreSQL-journalen {shown(self.url)}: låsen kan ikke tages ({_first_line(exc)})"
                ) from None
            if not acquired:
                yield None
                return
            try:
                yield Held(self._alive)
            finally:
                with self._lock, contextlib.suppress(psycopg.Error):
                    self._conn.execute("SELECT pg_advisory_unlock(%s)", (key,))

    def close(self) -> None:
        with self._lock, contextlib.suppress(psycopg.Error):
            self._conn.close()


def read_only(url: str, sql: str, params: Sequence[Any] = (), table: str = "steps") -> list[tuple[Any, ...]]:
    """``sql`` on the PostgreSQL journal, in a read-only session (nothing is created or changed)."""
    conn = connect(url, read_only=True)
    try:
        exists = conn.execute("SELECT to_regclass(%s)", (f"{SCHEMA_NAME}.steps",)).fetchone()
        if not exists or exists[0] is None:
            raise NotAJournal(f"{shown(url)}: der er ingen smdb-journal i databasen (skemaet {SCHEMA_NAME})")
        wanted = conn.execute("SELECT to_regclass(%s)", (f"{SCHEMA_NAME}.{table}",)).fetchone()
        if not wanted or wanted[0] is None:
            return []
        return [tuple(r) for r in conn.execute(sql.replace("?", "%s"), tuple(params)).fetchall()]
    finally:
        conn.close()
