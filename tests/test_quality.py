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


def _import_graph() -> dict[str, set[str]]:
    """Every import of every module of src/smdb, at module level, inside functions and under TYPE_CHECKING alike:
    ``from a.b import c`` depends on the module ``a.b.c`` when there is one, else on ``a.b``."""
    import ast

    src = ROOT / "src"
    modules: dict[str, Path] = {}
    for path in (src / "smdb").rglob("*.py"):
        parts = path.relative_to(src).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*up, base] if base else up)
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            graph[name].update(t for t in targets if t in modules and t != name)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


#: The layers, lowest first (docs/architecture.md): a module may import its own layer and those below it, and any
#: layer the domain. The simulator stands beside the client (it may use the client for its pytest plugin and
#: ``SimServer.client()``) and never imports the workflow or the CLI.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    (
        "domain",
        ("models", "rules", "forms", "register", "codes", "cpr", "errors", "stoffer", "eksempler"),
    ),
    ("plumbing", ("http", "files", "logs", "progress")),
    ("auth", ("auth",)),
    ("soap", ("soap",)),
    ("client", ("client", "client_aliases", "courses", "settings", "check", "sim")),
    (
        "workflow",
        (
            "reporting",
            "journal",
            "journal_db",
            "journal_pg",
            "journal_schema",
            "journalkey",
            "locks",
            "udbakke",
            "status",
            "systemskifte",
            "output",
        ),
    ),
    ("cli", ("cli", "demo", "__main__")),
]


def _layer(module: str) -> int:
    """The rank of ``module``'s layer (the package façade ``smdb`` itself is above all: it re-exports)."""
    parts = module.split(".")
    if len(parts) == 1:
        return len(LAYERS)
    for rank, (_, roots) in enumerate(LAYERS):
        if parts[1] in roots:
            return rank
    raise AssertionError(f"{module} has no layer: add it to LAYERS and docs/architecture.md")


def test_no_import_cycles_counting_every_import() -> None:
    """Imports inside functions and under TYPE_CHECKING count: a lazy import hides a circle, it does not remove it."""
    assert _cycles(_import_graph()) == []


def test_every_import_follows_the_layer_order() -> None:
    """cli → workflow → client/settings/check (and the simulator) → soap → auth → plumbing; the domain below all.
    Every import counts, as for the cycles; the simulator never imports the workflow or the CLI."""
    domain = 0
    against = sorted(
        f"{module} -> {target}"
        for module, targets in _import_graph().items()
        for target in targets
        if _layer(target) != domain and _layer(target) > _layer(module)
    )
    sim_up = sorted(
        f"{m} -> {t}"
        for m, ts in _import_graph().items()
        if m.startswith("smdb.sim")
        for t in ts
        if _layer(t) >= _layer("smdb.reporting")
    )
    assert against == [] and sim_up == []


def test_modules_are_small_enough_to_read() -> None:
    """No module over 450 lines (``codes.py`` is the code lists of §3: data); the client façade at most 250 lines;
    one CLI framework (click), so no argparse anywhere."""
    import ast
    import inspect

    from smdb.client import SmdbClient

    src = ROOT / "src" / "smdb"
    long = {
        str(p.relative_to(src)): n
        for p in src.rglob("*.py")
        if p.name != "codes.py" and (n := len(p.read_text(encoding="utf-8").splitlines())) > 450
    }
    assert long == {}
    assert len(inspect.getsource(SmdbClient).splitlines()) <= 250
    argparse_users = [
        str(p.relative_to(src))
        for p in src.rglob("*.py")
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8")))
        if isinstance(node, ast.Import | ast.ImportFrom)
        and any((getattr(node, "module", None) or a.name) == "argparse" for a in node.names)
    ]
    assert argparse_users == []
