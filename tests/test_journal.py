"""The journal as a record: writes of unknown outcome, and reading a journal without changing it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from smdb.journal import CONFIRMED, PENDING, UNKNOWN, Journal, NotAJournal, read_steps


def test_unresolved_writes_are_those_of_the_current_content_older_ones_are_superseded(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.db")
    key = journal.course_key("0101904322", 101, "2024-03-01")
    old = journal.step(key, "010190-****", "ret tilbud 1002", "hash-old", PENDING)
    new = journal.step(key, "010190-****", "indsæt KvalHep", "hash-new", UNKNOWN, step_key="KvalHep:ny")
    keyless = journal.step(key, "010190-****", "afslut behandling", "hash-new", PENDING)
    done = journal.step(key, "010190-****", "tilknyt tilbud 1001", "hash-new", CONFIRMED)
    other = journal.step(journal.course_key("1506851233", 101, "2024-03-01"), "150685-****", "x", "hash-new", PENDING)
    # by the step's stable key; a step recorded without one (an older journal) by its description
    assert journal.unresolved(key, "hash-new") == [
        (new, "KvalHep:ny", "indsæt KvalHep"),
        (keyless, "afslut behandling", "afslut behandling"),
    ]
    by_id = dict(zip((old, new, keyless, done, other), journal.steps(), strict=True))
    assert (by_id[old].status, by_id[old].reason) == ("superseded", "afløst af en nyere udgave af forløbet")
    assert [by_id[i].status for i in (new, done, other)] == ["unknown", "confirmed", "pending"]


def test_read_steps_filters_and_never_writes(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    journal = Journal(path)
    key = journal.course_key("0101904322", 101, "2024-03-01")
    journal.step(key, "010190-****", "indsæt KvalHep", "h", CONFIRMED, smdb_id=7)
    journal.step(key, "010190-****", "afslut behandling", "h", UNKNOWN, reason="intet svar")
    journal.close()
    before = path.read_bytes()
    assert [(r.step, r.status, r.smdb_id) for r in read_steps(path)] == [
        ("indsæt KvalHep", "confirmed", 7),
        ("afslut behandling", "unknown", None),
    ]
    assert [r.reason for r in read_steps(path, ("unknown", "pending"))] == ["intet svar"]
    assert path.read_bytes() == before
    with pytest.raises(NotAJournal, match="findes ikke"):
        read_steps(tmp_path / "missing.db")
    assert not (tmp_path / "missing.db").exists()
    (tmp_path / "notes.txt").write_text("not a database")
    with pytest.raises(NotAJournal, match="ikke en smdb-journal"):
        read_steps(tmp_path / "notes.txt")
    other = sqlite3.connect(tmp_path / "other.db")
    other.execute("CREATE TABLE x (a)")
    other.close()
    with pytest.raises(NotAJournal, match="ikke en smdb-journal"):
        read_steps(tmp_path / "other.db")


def test_a_kept_plan_is_encrypted_with_the_journal_key(tmp_path: Path) -> None:
    """A systemskifte plan holds full CPR numbers; like the course keys, the journal file alone does not give them."""
    path = tmp_path / "j.sqlite"
    key = bytes(range(32))
    j = Journal(path, key=key)
    plan = {"genregistrering": [{"ANM": {"PersonIdentifikator": "0101904322"}}]}
    j.save_plan("systemskifte:101:2:2024-12-31", plan)
    j.close()
    assert b"0101904322" not in path.read_bytes()
    again = Journal(path, key=key)
    kept = again.load_plan("systemskifte:101:2:2024-12-31")
    assert kept is not None and kept[0] == plan
    assert again.load_plan("systemskifte:101:1:2024-12-31") is None
    # a changed byte, or a plan moved to another name, is refused rather than read as something else
    db = sqlite3.connect(path)
    db.execute("UPDATE plans SET name = 'systemskifte:147:2:2024-12-31'")
    db.commit()
    db.close()
    with pytest.raises(NotAJournal):
        again.load_plan("systemskifte:147:2:2024-12-31")
    again.close()


def test_a_journal_from_before_plans_is_still_a_journal(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
        "CREATE TABLE steps (id INTEGER PRIMARY KEY AUTOINCREMENT, course_key TEXT NOT NULL, cpr_masked TEXT NOT NULL,"
        " step TEXT NOT NULL, content_hash TEXT NOT NULL, status TEXT NOT NULL, smdb_id INTEGER, reason TEXT,"
        " updated_at TEXT NOT NULL);"
        "CREATE TABLE courses (course_key TEXT PRIMARY KEY, content_hash TEXT NOT NULL, status TEXT NOT NULL,"
        " updated_at TEXT NOT NULL);"
    )
    db.close()
    path.chmod(0o600)
    assert read_steps(path) == []
    j = Journal(path, key=bytes(32))
    j.save_plan("p", {"a": 1})
    assert j.load_plan("p") is not None
    j.close()
