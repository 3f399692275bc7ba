"""One citizen, one writer: per-citizen exclusion across threads, processes and machines.

At-most-once holds only if no two writers plan and send for the same citizen at once: each would fetch SMDB's state,
find the same offer missing, and send it (a duplicate). So a writer *holds* the citizen (a keyed digest of CPR and
municipality, never the CPR) from before it fetches SMDB's state until its last write is recorded. Three scopes, one
interface (:class:`CitizenLocks`):

- **threads of one process** (:class:`ProcessLocks`): a lock per citizen in a process-wide table, so one
  ``SmdbClient`` or ``Reporter`` shared by many threads, or one each, never writes for a citizen twice at once;
- **processes on one machine** sharing a SQLite journal (:class:`FileLocks`): a POSIX record lock on one byte of
  ``<journal>.lock`` per citizen (the offset from the digest), released by the kernel when the holder dies;
- **machines** sharing a PostgreSQL journal (:class:`smdb.journal_pg.PgLocks`): a session advisory lock keyed by the
  digest, released by the server when the holder's connection ends.

Every scope takes the process lock first: POSIX record locks and PostgreSQL session locks belong to the process (or
session), not the thread, so they cannot tell two threads apart themselves.
"""

from __future__ import annotations

import contextlib
import errno
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import ClassVar

from smdb.errors import SmdbError

try:  # POSIX only; elsewhere a SQLite journal excludes within its process only (docs/reliability.md)
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


class CitizenLockLost(SmdbError):
    """The lock on a citizen was lost (the PostgreSQL connection holding it ended): the writer stops before its next
    write for that citizen, since another writer may hold the citizen now."""


class Held:
    """A citizen held by this writer; :meth:`check` before each write proves it still is."""

    def __init__(self, check: Callable[[], bool] = lambda: True) -> None:
        self._check = check

    def check(self) -> None:
        """Raise CitizenLockLost unless this writer still holds the citizen (called before each write)."""
        if not self._check():
            raise CitizenLockLost(
                "forbindelsen, der holdt borgeren, er tabt; intet mere sendes for borgeren i denne kørsel (kør igen)"
            )


class CitizenLocks:
    """Per-citizen exclusion. :meth:`hold` yields a :class:`Held`, or None when the citizen stayed held elsewhere
    for ``timeout`` seconds (the caller leaves it for the next run)."""

    @contextlib.contextmanager
    def hold(self, local: str, shared: str, timeout: float) -> Iterator[Held | None]:
        """Hold the citizen named by ``local`` (a digest under this process's own key: every journal and reporter
        of the process agrees on it) and ``shared`` (under the journal key: every process of the journal agrees)."""
        with _PROCESS.hold_one(local, timeout) as held:
            yield held

    def close(self) -> None:
        """Release what the locks hold open (a file, a connection)."""


class ProcessLocks(CitizenLocks):
    """A lock per citizen digest for the threads of this process; entries live while someone holds or waits."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, tuple[threading.Lock, int]] = {}

    @contextlib.contextmanager
    def hold(self, local: str, shared: str, timeout: float) -> Iterator[Held | None]:
        with self.hold_one(local, timeout) as held:
            yield held

    @contextlib.contextmanager
    def hold_one(self, digest: str, timeout: float) -> Iterator[Held | None]:
        with self._guard:
            lock, users = self._locks.get(digest, (threading.Lock(), 0))
            self._locks[digest] = (lock, users + 1)
        try:
            if not lock.acquire(timeout=max(0.0, timeout)):
                yield None
                return
            try:
                yield Held()
            finally:
                lock.release()
        finally:
            with self._guard:
                lock, users = self._locks[digest]
                if users <= 1:
                    del self._locks[digest]
                else:
                    self._locks[digest] = (lock, users - 1)


#: The one table of the process: every journal, reporter and client of the process shares it.
_PROCESS = ProcessLocks()
#: The key of the process's own citizen digests (never stored; the journals' keys differ, the process's does not).
PROCESS_KEY = os.urandom(32)


def process_locks() -> ProcessLocks:
    return _PROCESS


def wait_for(try_once: Callable[[], bool], timeout: float, poll: float = 0.02) -> bool:
    """Call ``try_once`` until it returns True or ``timeout`` seconds have passed (polling with a growing pause)."""
    end = time.monotonic() + max(0.0, timeout)
    pause = poll
    while True:
        if try_once():
            return True
        now = time.monotonic()
        if now >= end:
            return False
        time.sleep(min(pause, end - now))
        pause = min(pause * 1.5, 0.25)


class FileLocks(CitizenLocks):
    """Processes on one machine sharing a journal file: a byte-range lock per citizen in ``path``.

    One instance per lock file and process (:meth:`open`): closing *any* descriptor of a file drops every POSIX
    record lock the process holds on it, so two journals opened on one file must share the descriptor."""

    _open: ClassVar[dict[str, tuple[FileLocks, int]]] = {}
    _open_guard: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        self._fd = os.open(self.path, flags, 0o600)

    @classmethod
    def open(cls, path: str | Path) -> FileLocks:
        key = os.path.realpath(path)
        with cls._open_guard:
            locks, users = cls._open.get(key, (None, 0))
            if locks is None:
                locks = cls(path)
            cls._open[key] = (locks, users + 1)
            return locks

    @staticmethod
    def _offset(digest: str) -> int:
        return int(digest[:14], 16)  # 56 bits: a collision would only make two citizens wait for each other

    @contextlib.contextmanager
    def hold(self, local: str, shared: str, timeout: float) -> Iterator[Held | None]:
        started = time.monotonic()
        with _PROCESS.hold_one(local, timeout) as in_process:
            if in_process is None or fcntl is None:
                yield in_process
                return
            offset = self._offset(shared)

            def try_once() -> bool:
                try:
                    fcntl.lockf(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, offset)
                except OSError as exc:
                    if exc.errno in (errno.EACCES, errno.EAGAIN):
                        return False
                    raise
                return True

            if not wait_for(try_once, timeout - (time.monotonic() - started)):
                yield None
                return
            try:
                yield Held()
            finally:
                fcntl.lockf(self._fd, fcntl.LOCK_UN, 1, offset)

    def close(self) -> None:
        key = os.path.realpath(self.path)
        with FileLocks._open_guard:
            locks, users = FileLocks._open.get(key, (None, 0))
            if locks is self and users > 1:
                FileLocks._open[key] = (self, users - 1)
                return
            FileLocks._open.pop(key, None)
        with contextlib.suppress(OSError):
            os.close(self._fd)
