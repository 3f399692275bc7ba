"""The examples in examples/ run as documented (against the embedded simulator)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.py"))


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(script: Path) -> None:
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr


def test_there_are_examples() -> None:
    assert {p.name for p in EXAMPLES} >= {
        "whoami.py",
        "report_one_course.py",
        "batch_from_json.py",
        "systemskifte_plan.py",
    }
