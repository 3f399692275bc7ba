"""The public API is visible and guarded: a name leaves ``smdb.__all__`` only on purpose (this list changes too)."""

from __future__ import annotations

import inspect

import smdb
from smdb import errors

PUBLIC = [
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
