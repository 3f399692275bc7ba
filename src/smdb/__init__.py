"""smdb-client: report citizens in drug-abuse treatment to SMDB (Stofmisbrugsdatabasen, Danmarks Statistik).

The public API, imported lazily so that ``import smdb`` (and ``smdb validate``) stays fast without zeep:

    from smdb import SmdbClient, Environment, Reporter, Kontaktforloeb, validate

``smdb.__all__`` (and ``dir(smdb)``) lists it; ``tests/test_public_api.py`` pins it, so a name can only leave it on
purpose. Everything else is internal and may change between versions.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    # the client and the workflow
    "SmdbClient": "smdb.client",
    "Environment": "smdb.client",
    "CheckResult": "smdb.client",
    "Reporter": "smdb.reporting",
    "Summary": "smdb.reporting",
    "Outcome": "smdb.reporting",
    "Journal": "smdb.journal",
    "load_credentials": "smdb.auth.certificates",
    "Credentials": "smdb.auth.certificates",
    "StsConfig": "smdb.auth.sts",
    # the domain
    "Kontaktforloeb": "smdb.models",
    "Indskrivningsforloeb": "smdb.models",
    "Anmodning": "smdb.models",
    "Ivaerksaettelse": "smdb.models",
    "Tilbudstilknytning": "smdb.models",
    "KvalHep": "smdb.models",
    "Afslutning": "smdb.models",
    "Cpr": "smdb.cpr",
    "validate": "smdb.rules",
    "parse_and_validate": "smdb.rules",
    "parse_forloeb": "smdb.rules",
    "indlaes": "smdb.rules",
    "Indlaest": "smdb.rules",
    "Violation": "smdb.rules",
    # the exception tree (smdb.errors)
    "SmdbError": "smdb.errors",
    "ValidationFailed": "smdb.errors",
    "ConfigurationError": "smdb.errors",
    "CertificateError": "smdb.errors",
    "CprError": "smdb.errors",
    "SmdbFault": "smdb.errors",
    "SmdbRuleRejected": "smdb.errors",
    "SmdbSecurityFault": "smdb.errors",
    "SmdbUnavailable": "smdb.errors",
    "SmdbOutcomeUnknown": "smdb.errors",
    "RequestNotSent": "smdb.errors",
    "SecurityError": "smdb.errors",
    "AnswerNotVerified": "smdb.errors",
    "TimestampOutOfWindow": "smdb.errors",
    "NotAJournal": "smdb.errors",
    "UnsafeFile": "smdb.errors",
    "StsError": "smdb.errors",
    "StsAuthenticationFailed": "smdb.errors",
    "StsUnknownAudience": "smdb.errors",
    "StsClockSkew": "smdb.errors",
    "StsUnavailable": "smdb.errors",
}

__all__ = [
    "Afslutning",
    "Anmodning",
    "AnswerNotVerified",
    "CertificateError",
    "CheckResult",
    "ConfigurationError",
    "Cpr",
    "CprError",
    "Credentials",
    "Environment",
    "Indlaest",
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
    "StsAuthenticationFailed",
    "StsClockSkew",
    "StsConfig",
    "StsError",
    "StsUnavailable",
    "StsUnknownAudience",
    "Summary",
    "Tilbudstilknytning",
    "TimestampOutOfWindow",
    "UnsafeFile",
    "ValidationFailed",
    "Violation",
    "__version__",
    "indlaes",
    "load_credentials",
    "parse_and_validate",
    "parse_forloeb",
    "validate",
]

if TYPE_CHECKING:
    from smdb.auth.certificates import Credentials
    from smdb.auth.certificates import load as load_credentials
    from smdb.auth.sts import StsConfig
    from smdb.client import CheckResult, Environment, SmdbClient
    from smdb.cpr import Cpr
    from smdb.errors import (
        AnswerNotVerified,
        CertificateError,
        ConfigurationError,
        CprError,
        NotAJournal,
        RequestNotSent,
        SecurityError,
        SmdbError,
        SmdbFault,
        SmdbOutcomeUnknown,
        SmdbRuleRejected,
        SmdbSecurityFault,
        SmdbUnavailable,
        StsAuthenticationFailed,
        StsClockSkew,
        StsError,
        StsUnavailable,
        StsUnknownAudience,
        TimestampOutOfWindow,
        UnsafeFile,
        ValidationFailed,
    )
    from smdb.journal import Journal
    from smdb.models import (
        Afslutning,
        Anmodning,
        Indskrivningsforloeb,
        Ivaerksaettelse,
        Kontaktforloeb,
        KvalHep,
        Tilbudstilknytning,
    )
    from smdb.reporting import Outcome, Reporter, Summary
    from smdb.rules import Indlaest, Violation, indlaes, parse_and_validate, parse_forloeb, validate


#: Public names whose object has another name in its module.
_RENAMED = {"load_credentials": "load"}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'smdb' has no attribute {name!r}")
    return getattr(importlib.import_module(module), _RENAMED.get(name, name))


def __dir__() -> list[str]:
    """The public API, not the module's internals (``dir(smdb)`` showed only ``Any`` and ``importlib``)."""
    return list(__all__)
