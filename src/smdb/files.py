"""Files that hold CPR numbers or key material: owner-only from the first byte, never through a planted link.

Writing first and restricting afterwards leaves a moment in which another user on the machine can read the
file; following a symbolic link planted at the target path lets that user choose where a private key or a list
of CPR numbers ends up. So new files are created with ``O_EXCL`` and mode 0600 (a link is never followed), whole
files are written to a temporary file beside the target and renamed over it (a link at the target is replaced,
not written through), and an existing database is checked to be of its kind *before* its mode is touched.
Input files are read with a size cap and must be regular files (``/dev/urandom`` or a FIFO would never end).
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

from smdb.errors import UnsafeFile as UnsafeFile  # re-exported for callers of smdb.files

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def write_atomic(path: str | Path, data: bytes, mode: int = 0o600) -> None:
    """Write ``data`` to ``path`` in one step with ``mode`` (owner-only by default).

    The bytes go to a new temporary file in the same directory (created exclusively, 0600) and are renamed over
    ``path``: a reader never sees half a file, and a symbolic link planted at ``path`` is replaced rather than
    followed.
    """
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or Path("."))
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), mode)
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_owner_only(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` (replacing it), readable by its owner only."""
    write_atomic(path, data, 0o600)


def create_owner_only(path: str | Path, check_existing: Callable[[Path], None] | None = None) -> None:
    """Make sure ``path`` is an owner-only regular file (a database then opened by SQLite).

    A new file is created exclusively with mode 0600 and without following links. An existing one must be a
    regular file, not a link; ``check_existing`` (which raises when the file is not of the caller's kind) runs
    before anything about the file is changed, so pointing a tool at the wrong file never alters that file.
    """
    p = Path(path)
    try:
        fd = os.open(p, os.O_CREAT | os.O_EXCL | os.O_WRONLY | _NOFOLLOW, 0o600)
    except FileExistsError:
        pass
    else:
        os.close(fd)
        return
    info = os.lstat(p)
    if stat.S_ISLNK(info.st_mode):
        raise UnsafeFile(f"{p}: er et symbolsk link; angiv selve filen")
    if not stat.S_ISREG(info.st_mode):
        raise UnsafeFile(f"{p}: er ikke en almindelig fil")
    if check_existing is not None:
        check_existing(p)
    if stat.S_IMODE(info.st_mode) & 0o077:
        os.chmod(p, 0o600, follow_symlinks=False)


#: What a file that steers the library (a config file) may not allow: writing by group or others.
NOT_WRITABLE_BY_OTHERS = 0o022
#: What a secret (the journal key) may not allow: any access by group or others (as ssh demands of a private key).
PRIVATE = 0o077


def _check_owner(p: Path, st: os.stat_result, forbidden: int) -> None:
    """Refuse, as ssh does, a file whose content others could have chosen (or, for a secret, read)."""
    if st.st_mode & forbidden:
        what = "læses eller skrives" if forbidden & 0o044 else "skrives"
        mode = oct(stat.S_IMODE(st.st_mode))[2:]
        fix = "chmod 600" if forbidden & 0o044 else "chmod go-w"
        raise UnsafeFile(f"{p}: kan {what} af andre end ejeren (rettigheder {mode}); ret med {fix} {p}")
    uid = getattr(os, "getuid", lambda: None)()
    if uid is not None and st.st_uid not in (uid, 0):
        raise UnsafeFile(f"{p}: ejes af en anden bruger (uid {st.st_uid}); brug en fil, du selv ejer")


def read_capped(path: str | Path, max_bytes: int, forbidden_mode: int = 0) -> bytes:
    """The bytes of a regular file of at most ``max_bytes``; anything else raises :class:`UnsafeFile`.

    The file is opened non-blocking and checked on the very descriptor that is read, so a FIFO does not hang
    the open and a device such as ``/dev/urandom`` is refused instead of read forever. With ``forbidden_mode``
    (:data:`NOT_WRITABLE_BY_OTHERS`, :data:`PRIVATE`) the file must also be owned by this user (or root) and
    grant none of those permission bits.
    """
    p = Path(path)
    fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UnsafeFile(f"{p}: er ikke en almindelig fil")
        if forbidden_mode:
            _check_owner(p, st, forbidden_mode)
        os.set_blocking(fd, True)
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise UnsafeFile(f"{p}: filen er større end grænsen på {max_bytes} bytes; del den op")
    return data


def check_sqlite_tables(path: Path, required: set[str], what: str, optional: frozenset[str] = frozenset()) -> None:
    """Raise :class:`UnsafeFile` unless ``path`` is empty or an SQLite database holding ``required`` tables, and
    besides them only ``optional`` ones (tables a later version added; SQLite's own excepted). Opened read-only: a
    file that is something else is never changed."""
    import sqlite3

    if path.stat().st_size == 0:
        return
    if Path(f"{path}-journal").exists() and _header(path) == b"SQLite format 3\x00":
        # a crash mid-transaction left a hot rollback journal: only a read-write open rolls it back, which is what
        # any opening would do; a read-only one cannot and fails, making a crashed database look like another file
        with contextlib.suppress(sqlite3.DatabaseError):
            recovering = sqlite3.connect(str(path))
            try:
                recovering.execute("SELECT count(*) FROM sqlite_master").fetchall()
            finally:
                recovering.close()
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            db.close()
    except sqlite3.DatabaseError:
        raise UnsafeFile(f"{path}: er ikke {what} (filen er ikke ændret)") from None
    tables -= {"sqlite_sequence"}
    if tables and not (required <= tables <= required | optional):
        raise UnsafeFile(f"{path}: er en anden database, ikke {what} (filen er ikke ændret)")


def _header(path: Path) -> bytes:
    with path.open("rb") as fh:
        return fh.read(16)


def os_fejl(exc: OSError) -> str:
    """An operating-system error in Danish (Python's strerror texts are English): for messages to the user."""
    import errno

    texts = {
        errno.ENOENT: "findes ikke",
        errno.EACCES: "ingen adgang",
        errno.EPERM: "ingen adgang",
        errno.EISDIR: "er en mappe",
        errno.ENOTDIR: "en del af stien er ikke en mappe",
        errno.EEXIST: "findes allerede",
        errno.ENOSPC: "disken er fuld",
        errno.EROFS: "filsystemet er skrivebeskyttet",
        errno.EADDRINUSE: "adressen er optaget",
        errno.EADDRNOTAVAIL: "adressen findes ikke på denne maskine",
    }
    if exc.errno is None:  # one of ours (UnsafeFile): already a Danish sentence
        return str(exc)
    return texts.get(exc.errno, f"systemfejl {exc.errno}")
