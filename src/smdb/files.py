"""Files that hold CPR numbers or key material are created owner-only (0600) from the first byte.

Writing first and restricting afterwards leaves a moment in which another user on the machine can read the
file; so the mode is given to ``open`` itself, and an existing file is restricted before it is written.
"""

from __future__ import annotations

import os
from pathlib import Path


def create_owner_only(path: str | Path) -> None:
    """Make sure ``path`` exists and only its owner can read it (a database then opened by SQLite)."""
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    os.chmod(path, 0o600)


def write_owner_only(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` (replacing it), readable by its owner only."""
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        os.fchmod(fh.fileno(), 0o600)
        fh.write(data)
