"""The code-quality gates run with the tests, so CI enforces them: ruff clean and mypy (strict) clean."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_clean() -> None:
    proc = run("ruff", "check", "src", "tests", "examples", "benchmarks")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy_strict_clean() -> None:
    proc = run("mypy")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_shipped_wsdls_are_generated_from_the_contract() -> None:
    from smdb.soap.contract import SERVICES, WSDL_DIR, build_wsdl, wsdl_filename

    for key in SERVICES:
        # the copy shipped in the package (what the client loads) and the top-level one (for people and diff tools)
        for directory in (WSDL_DIR, ROOT / "wsdl"):
            assert (directory / wsdl_filename(key)).read_bytes() == build_wsdl(key), (
                f"{directory / wsdl_filename(key)}: run python -m smdb.soap.contract to regenerate"
            )


def test_package_is_typed() -> None:
    assert (ROOT / "src" / "smdb" / "py.typed").exists()


def test_rules_documentation_is_current() -> None:
    from smdb.rules._docs import render

    assert (ROOT / "docs" / "rules.md").read_text(encoding="utf-8") == render(), (
        "run python -m smdb.rules._docs > docs/rules.md"
    )


def test_fields_documentation_is_current() -> None:
    from smdb.models._docs import render

    assert (ROOT / "docs" / "fields.md").read_text(encoding="utf-8") == render(), (
        "run python -m smdb.models._docs > docs/fields.md"
    )


def test_dependencies_point_down_the_domain_imports_no_protocol() -> None:
    """The domain (models, rules, the form table, the register, codes, CPR, errors) never imports SOAP, auth, HTTP,
    the client or the workflow: a new transport or a different WSDL cannot reach the business rules."""
    import re

    domain = [ROOT / "src" / "smdb" / p for p in ("models", "rules")]
    files = [f for d in domain for f in d.rglob("*.py")] + [
        ROOT / "src" / "smdb" / f"{m}.py" for m in ("forms", "register", "codes", "cpr", "errors", "stoffer")
    ]
    upward = re.compile(r"^\s*(from|import)\s+smdb\.(soap|auth|client|http|reporting|journal|sim|cli)\b", re.M)
    offenders = [str(f.relative_to(ROOT)) for f in files if upward.search(f.read_text(encoding="utf-8"))]
    assert offenders == []
