"""The public API is visible and guarded: a name leaves ``smdb.__all__`` only on purpose (this list changes too)."""

from __future__ import annotations

import inspect

import smdb
from smdb import errors

PUBLIC = [
    "Systemskifteplan",
    "mellemloesning",
    "model1",
    "model2",
    "print_summary",
    "Held",
    "Koeelement",
    "StepRow",
    "Arbejder",
    "BatchInterrupted",
    "CitizenLockLost",
    "Form",
    "Hentet",
    "IndsaetResultat",
    "Indskrivning",
    "KommuneCertifikat",
    "OutcomeStatus",
    "SmdbModel",
    "SmdbSettings",
    "Status",
    "TransportOptions",
    "Udbakke",
    "Udskrivning",
    "UnverifiedAnswersWarning",
    "Ydelse",
    "Indlaest",
    "indlaes",
    "parse_forloeb",
    "AnswerNotVerified",
    "Anmodning",
    "Afslutning",
    "CertificateError",
    "CheckResult",
    "ConfigurationError",
    "Cpr",
    "CprError",
    "Credentials",
    "Environment",
    "Indskrivningsforloeb",
    "Ivaerksaettelse",
    "Journal",
    "Kontaktforloeb",
    "KvalHep",
    "NotAJournal",
    "Outcome",
    "Reporter",
    "RequestNotSent",
    "SecurityError",
    "SmdbClient",
    "SmdbError",
    "SmdbFault",
    "SmdbOutcomeUnknown",
    "SmdbRuleRejected",
    "SmdbSecurityFault",
    "SmdbUnavailable",
    "StsClockSkew",
    "StsAuthenticationFailed",
    "StsConfig",
    "StsError",
    "StsUnavailable",
    "StsUnknownAudience",
    "Summary",
    "TimestampOutOfWindow",
    "Tilbudstilknytning",
    "UnsafeFile",
    "ValidationFailed",
    "Violation",
    "__version__",
    "load_credentials",
    "parse_and_validate",
    "validate",
]


def test_all_and_dir_list_the_public_api() -> None:
    assert sorted(smdb.__all__) == sorted(PUBLIC)
    assert sorted(dir(smdb)) == sorted(PUBLIC)


def test_every_public_name_resolves_and_is_documented() -> None:
    for name in smdb.__all__:
        obj = getattr(smdb, name)
        if name != "__version__":
            assert inspect.getdoc(obj), f"{name} has no docstring"


def test_every_public_method_and_property_of_the_public_classes_is_documented() -> None:
    """The API reference (docs/api.md, built by mkdocstrings) is only as good as the docstrings."""
    missing = []
    for name in smdb.__all__:
        cls = getattr(smdb, name)
        if not inspect.isclass(cls) or issubclass(cls, BaseException):
            continue
        fields = getattr(cls, "model_fields", {})
        for member, value in vars(cls).items():
            if member.startswith("_") or member in fields:
                continue
            target = value.fget if isinstance(value, property) else getattr(value, "__func__", value)
            if (callable(target) or isinstance(value, property)) and not inspect.getdoc(target):
                missing.append(f"{name}.{member}")
    assert missing == []


def test_one_exception_tree() -> None:
    """Every exception the library means to raise is an SmdbError; an unreachable STS is unavailable (retried on
    reads, caught by the workflow like an unreachable SMDB)."""
    for name, obj in vars(errors).items():
        if inspect.isclass(obj) and issubclass(obj, BaseException):
            assert issubclass(obj, errors.SmdbError), name
    assert issubclass(errors.StsUnavailable, errors.SmdbUnavailable)
    assert issubclass(errors.CprError, ValueError)  # pydantic turns it into a validation error
    from smdb.auth.sts import StsError
    from smdb.cpr import CprError
    from smdb.journal import NotAJournal

    assert (StsError, CprError, NotAJournal) == (errors.StsError, errors.CprError, errors.NotAJournal)


#: Exceptions that never leave the library: each is caught and translated where it is raised (the reason says where).
INTERNAL_EXCEPTIONS = {
    "smdb.reporting.reporter._Rejected": "a rule refusal inside one course's report, turned into its Outcome",
    "smdb.soap.transport.SoapVersionMismatch": "translated by SoapCaller into SmdbUnavailable (its text kept)",
    "smdb.sim.codec.CodecError": "the simulator answers it as an UGYLDIG_FORESPOERGSEL fault",
    "smdb.sim.faults.ConnectionAborted": "fault injection: the simulator's server drops the connection",
    "smdb.sim.sts._StsFault": "the simulated STS answers it as a WS-Trust fault",
    "smdb.http.ResponseTooLarge": "a requests error of the HTTP layer: SoapCaller/the STS client make it unavailable",
    "smdb.http.DeadlineExceeded": "a requests timeout of the HTTP layer: SoapCaller/the STS client make it unavailable",
    "smdb.http.RedirectRefused": "a requests error of the HTTP layer: SoapCaller/the STS client make it unavailable",
}


def test_every_exception_the_library_defines_is_in_the_tree() -> None:
    """Every exception class of every module derives from SmdbError, but the internal ones above; warnings are
    warnings; BatchInterrupted is a KeyboardInterrupt (a Ctrl-C must not be swallowed by ``except Exception``)."""
    import importlib
    import pkgutil

    outside = []
    for info in pkgutil.walk_packages(smdb.__path__, "smdb."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for obj in vars(module).values():
            if not (inspect.isclass(obj) and issubclass(obj, Exception) and obj.__module__ == info.name):
                continue
            if issubclass(obj, Warning) or issubclass(obj, errors.SmdbError):
                continue
            name = f"{obj.__module__}.{obj.__qualname__}"
            if name not in INTERNAL_EXCEPTIONS:
                outside.append(name)
    assert outside == []
    from smdb.reporting import BatchInterrupted

    assert issubclass(BatchInterrupted, KeyboardInterrupt) and not issubclass(BatchInterrupted, Exception)


def test_every_type_a_public_method_takes_returns_or_raises_is_exported() -> None:
    """The annotations of the public classes' methods name only exported types (or builtins and the standard
    library), so a user never needs an internal import to type their code."""
    import typing

    exported = {getattr(smdb, n) for n in smdb.__all__ if n != "__version__"}
    missing: set[str] = set()

    def check(tp: object, where: str) -> None:
        for arg in typing.get_args(tp):
            check(arg, where)
        origin = typing.get_origin(tp)
        target = origin if origin is not None else tp
        module = getattr(target, "__module__", "")
        if isinstance(target, type) and module.startswith("smdb") and target not in exported:
            missing.add(f"{where}: {target.__qualname__}")

    for name in ("SmdbClient", "Reporter", "Journal", "SmdbSettings", "Udbakke", "Arbejder"):
        cls = getattr(smdb, name)
        for member, value in inspect.getmembers(cls):
            if member.startswith("_") and member != "__init__":
                continue
            if callable(value) and getattr(value, "__module__", "").startswith("smdb"):
                hints = typing.get_type_hints(value)
                for hint in hints.values():
                    check(hint, f"{name}.{member}")
    assert sorted(missing) == []


def test_readme_and_examples_import_only_the_public_api() -> None:
    """What users copy uses only ``smdb`` and the public subpackages ``smdb.sim`` and ``smdb.models``."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    texts = {p.name: p.read_text(encoding="utf-8") for p in [root / "README.md", *(root / "examples").glob("*.py")]}
    imports = re.compile(r"^\s*(?:from\s+(smdb[\w.]*)\s+import|import\s+(smdb[\w.]*))", re.M)
    allowed = {"smdb", "smdb.sim", "smdb.models"}
    internal = sorted(
        f"{name}: {m.group(1) or m.group(2)}"
        for name, text in texts.items()
        for m in imports.finditer(text)
        if (m.group(1) or m.group(2)) not in allowed
    )
    assert internal == []


def test_importing_smdb_loads_no_soap_stack() -> None:
    """The lazy table is derived from the one list, and ``import smdb`` (so ``smdb validate``) loads neither zeep
    nor the client until a name needs them."""
    import subprocess
    import sys

    code = "import sys, smdb; smdb.validate; print(sorted(m for m in ('zeep', 'smdb.client') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
