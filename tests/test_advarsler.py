"""Warnings beside violations: each declared warning is raised where it should be and nowhere near it, and a
warning never makes data invalid (library and CLI)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from smdb import eksempler as ex
from smdb.cli import main
from smdb.models import Kontaktforloeb
from smdb.rules import parse_validate_and_warn, validate
from smdb.rules.advarsler import ADVARSLER, advarsler

TODAY = date(2025, 6, 1)


def late(days: int, aarsag: str | None = None) -> dict[str, Any]:
    """A valid course iværksat ``days`` after the anmodning (the lægesamtale held the day before iværksættelse)."""
    data = ex.kontaktforloeb(dage_til_ivaerksaettelse=days)
    if days > 14:  # the lægesamtale was then late too: its reason is required (§6.1.3), and given
        data["IVÆR"]["LaegesamtaleIkkeAfholdtAarsagTidsfristOverskredetKode"] = "03"
    if aarsag is not None:
        data["IVÆR"]["BehandlingGarantiOverskredetAarsagKode"] = aarsag
    return data


#: code -> (data that raises it, data nearby that does not)
def two(second_anmodet: date, first_closed: date | None = date(2024, 6, 1)) -> list[dict[str, Any]]:
    """Two courses of one citizen in one municipality: the first from 2024-03-01 (closed at ``first_closed``),
    the second anmodet ``second_anmodet`` and still open."""
    first = ex.kontaktforloeb(anmodningsdato=date(2024, 3, 1), afsluttet_efter_dage=None)
    if first_closed is not None:
        first["AFSL"] = {
            "BehandlingAfsluttetDato": first_closed,
            "BehandlingAfsluttetStatusKode": "03",
            "BehandlingAfsluttetAarsagKode": "01",
        }
        for t in first["TILB"]:
            t["TilbudTilknyttetBehandlingSlutDato"] = first_closed
    second = ex.kontaktforloeb(anmodningsdato=second_anmodet, afsluttet_efter_dage=None)
    return [first, second]


#: code -> (data that raises it, data nearby that does not); a list is a file of several courses
CASES: dict[str, tuple[Callable[[], Any], list[Callable[[], Any]]]] = {
    "garanti_aarsag_ubesvaret": (lambda: late(20), [lambda: late(14), lambda: late(20, "01")]),
    "overlappende_forloeb": (
        lambda: two(date(2024, 5, 1)),  # anmodet while the first was still active
        [lambda: two(date(2024, 6, 1)), lambda: two(date(2024, 7, 1))],  # the day it ended, or after
    ),
}


def _courses(data: Any) -> Any:
    if isinstance(data, list):
        return [Kontaktforloeb.model_validate(d) for d in data]
    return Kontaktforloeb.model_validate(data)


def test_every_warning_has_a_case() -> None:
    assert set(ADVARSLER) == set(CASES)


@pytest.mark.parametrize("code", sorted(CASES))
def test_warning_is_raised_and_is_not_a_violation(code: str) -> None:
    raising, quiet = CASES[code]
    course = _courses(raising())
    assert validate(course, TODAY) == []  # valid data: a warning never blocks
    assert [w.code for w in advarsler(course, TODAY)] == [code]
    for data in quiet:
        assert advarsler(_courses(data()), TODAY) == []


def test_warnings_keep_the_file_indices_and_the_cli_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = [{"kommunekode": 101, "ANM": {"PersonIdentifikator": "x"}}, late(14), late(20)]
    _, violations, warnings = parse_validate_and_warn(data, TODAY)
    assert [w.forloeb for w in warnings] == [2] and violations and all(v.forloeb == 0 for v in violations)
    path = tmp_path / "c.json"
    path.write_text(json.dumps(data[1:], default=str))
    assert main(["validate", str(path), "--today", "2025-06-01", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["valid"] is True and out["violations"] == []
    assert [w["code"] for w in out["warnings"]] == ["garanti_aarsag_ubesvaret"] and out["warnings"][0]["forloeb"] == 1
    assert main(["validate", str(path), "--today", "2025-06-01"]) == 0
    text = capsys.readouterr().out
    assert "advarsel: forløb 1: §6.1.3" in text and "1 advarsler" in text
