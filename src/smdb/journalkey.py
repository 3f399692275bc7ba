"""The journal key: the one secret that turns a journal's course keys back into CPR numbers, kept outside the
journal (``SMDB_JOURNAL_KEY``, or an owner-only key file), so the journal file or database alone reveals nothing.

It must survive restarts: a journal written with one key cannot be read with another, and a new key created beside
an existing journal (a container restarted with a new ``$HOME``) would only make the journal unusable. So a key is
created only for a *new* SQLite journal; an existing journal, and every PostgreSQL journal (shared by processes that
must all use the same key), need the key given, and the error names where it is looked for.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
from pathlib import Path

from smdb.errors import NotAJournal, UnsafeFile
from smdb.files import PRIVATE, read_capped

KEY_ENV = "SMDB_JOURNAL_KEY"
KEY_FILE_ENV = "SMDB_JOURNAL_KEY_FILE"


def default_key_file() -> Path:
    """``$SMDB_JOURNAL_KEY_FILE``, else ``journal.key`` in the user's configuration directory for smdb."""
    explicit = os.environ.get(KEY_FILE_ENV)
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CONFIG_HOME") or os.environ.get("APPDATA") or str(Path.home() / ".config")
    return Path(base) / "smdb" / "journal.key"


def where_the_key_is() -> str:
    """Where :func:`journal_key` looks, for messages."""
    return f"{KEY_ENV} (hex) eller nøglefilen {default_key_file()} ({KEY_FILE_ENV})"


def journal_key(key_file: str | Path | None = None, *, create: bool = True, why: str = "") -> bytes:
    """The journal key: ``$SMDB_JOURNAL_KEY`` (hex, at least 32 bytes), else the key file.

    With ``create`` a missing key file is created (owner-only, in an owner-only directory); without it, a missing
    key is a :class:`NotAJournal` naming the settings, and nothing is written. Keep the key off the machines and
    backups that the journals go to.
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
        if not create:
            raise NotAJournal(
                f"journalnøglen mangler{why}: sæt {KEY_ENV} (hex) eller {KEY_FILE_ENV} til nøglefilen, journalen blev "
                f"skrevet med (ledt efter {path}); der laves ikke en ny nøgle"
            ) from None
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


def key_id(key: bytes) -> str:
    """An id of the key (not the key): a journal remembers which key wrote it."""
    return hmac.new(key, b"smdb-journal-key-id", hashlib.sha256).hexdigest()[:16]


def citizen_digest(key: bytes, cpr: str, kommunekode: int) -> str:
    """The citizen as the locks know it: a keyed digest of CPR and municipality, never the CPR itself."""
    return hmac.new(key, f"borger|{cpr}|{kommunekode}".encode(), hashlib.sha256).hexdigest()
