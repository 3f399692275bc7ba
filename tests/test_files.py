"""Owner-only files: the mode is right from the first byte, also for a file that existed with a looser mode."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from smdb.files import create_owner_only, write_owner_only


def _mode(p: Path) -> int:
    return stat.S_IMODE(os.stat(p).st_mode)


def test_new_files_are_owner_only_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        write_owner_only(tmp_path / "plan.json", b"{}")
        create_owner_only(tmp_path / "journal.db")
    finally:
        os.umask(old)
    assert _mode(tmp_path / "plan.json") == 0o600 and (tmp_path / "plan.json").read_bytes() == b"{}"
    assert _mode(tmp_path / "journal.db") == 0o600


def test_an_existing_readable_file_is_restricted_and_replaced(tmp_path: Path) -> None:
    p = tmp_path / "plan.json"
    p.write_bytes(b"old content that is longer")
    p.chmod(0o644)
    write_owner_only(p, b"new")
    assert _mode(p) == 0o600 and p.read_bytes() == b"new"
    db = tmp_path / "journal.db"
    db.write_bytes(b"")
    db.chmod(0o666)
    create_owner_only(db)
    assert _mode(db) == 0o600
