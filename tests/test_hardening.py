"""The smaller points of the third security review (issue 19): files that steer the library or hold its key must be
the user's own and not writable by others, the systemskifte plan file says what it holds, and no dependency floor
admits a release with a known advisory."""

from __future__ import annotations

import os
import re
import stat
import tomllib
from pathlib import Path

import pytest

from smdb.cli import main
from smdb.errors import ConfigurationError, NotAJournal
from smdb.journalkey import journal_key
from smdb.settings import SmdbSettings

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("mode", [0o666, 0o620, 0o602])
def test_a_config_file_others_can_write_is_refused(
    tmp_path: Path, mode: int, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "smdb.toml"
    config.write_text('[smdb]\nenv = "local"\nendpoint = "http://127.0.0.1:1"\n')
    config.chmod(mode)
    with pytest.raises(ConfigurationError, match=r"kan skrives af andre end ejeren.*chmod go-w"):
        SmdbSettings.load(config)
    assert main(["--config", str(config), "whoami"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "chmod go-w" in err[0]
    config.chmod(0o644)  # readable by others is fine for a config file (it holds no secret)
    assert SmdbSettings.load(config).env == "local"


@pytest.mark.parametrize("mode", [0o644, 0o660, 0o606])
def test_a_journal_key_file_others_can_read_or_write_is_refused(tmp_path: Path, mode: int) -> None:
    key = tmp_path / "journal.key"
    key.write_text(os.urandom(32).hex() + "\n")
    key.chmod(mode)
    with pytest.raises(NotAJournal, match=r"af andre end ejeren.*chmod 600"):
        journal_key(key)
    key.chmod(0o600)
    assert len(journal_key(key)) == 32


@pytest.mark.skipif(os.geteuid() != 0, reason="chown to another user needs root")
def test_a_journal_key_file_owned_by_another_user_is_refused(tmp_path: Path) -> None:
    key = tmp_path / "journal.key"
    key.write_text(os.urandom(32).hex() + "\n")
    key.chmod(0o600)
    os.chown(key, 12345, 12345)
    with pytest.raises(NotAJournal, match="ejes af en anden bruger"):
        journal_key(key)


def test_a_created_journal_key_is_owner_only(tmp_path: Path) -> None:
    key = tmp_path / "sub" / "journal.key"
    journal_key(key)
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert journal_key(key)  # and reads back


def test_the_systemskifte_plan_help_says_the_file_always_holds_full_cpr_numbers() -> None:
    import click

    from smdb.cli import cli

    command = cli.commands["systemskifte"]
    help_text = " ".join(command.get_help(click.Context(command)).split())
    assert "altid med hele CPR-numre" in help_text
    assert "planfilen har dem altid" in help_text
    assert "output og plan (ellers maskeret)" not in help_text  # the old promise the file did not keep


#: Lowest releases without a known advisory (requests CVE-2024-47081, cryptography CVE-2024-26130 and the OpenSSL
#: fixes of 43.0.1, tqdm CVE-2024-34062, setuptools CVE-2024-6345).
FLOORS = {"requests": (2, 32, 4), "cryptography": (43, 0, 1), "tqdm": (4, 66, 3), "setuptools": (70, 0, 0)}


def test_dependency_floors_admit_no_release_with_a_known_advisory() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    specs = [*project["project"]["dependencies"], *project["build-system"]["requires"]]
    found = {}
    for spec in specs:
        m = re.fullmatch(r"([A-Za-z0-9_.-]+)\s*>=\s*([0-9.]+)", spec)
        if m and m.group(1).lower() in FLOORS:
            found[m.group(1).lower()] = tuple(int(x) for x in [*m.group(2).split("."), "0", "0"][:3])
    assert set(found) == set(FLOORS), found
    for name, floor in FLOORS.items():
        assert found[name] >= floor, f"{name}>={'.'.join(map(str, found[name]))} admits a release with an advisory"
