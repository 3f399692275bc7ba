"""smdb-client: report citizens in drug-abuse treatment to SMDB (Stofmisbrugsdatabasen, Danmarks Statistik).

The public API, imported lazily so that ``import smdb`` (and ``smdb validate``) stays fast without zeep:

    from smdb import SmdbClient, Environment, Reporter, Kontaktforloeb, validate
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "SmdbClient": "smdb.client",
    "Environment": "smdb.client",
    "Reporter": "smdb.reporting",
    "Journal": "smdb.journal",
    "Kontaktforloeb": "smdb.models",
    "Indskrivningsforloeb": "smdb.models",
    "validate": "smdb.rules",
    "parse_and_validate": "smdb.rules",
    "Violation": "smdb.rules",
    "SmdbError": "smdb.errors",
    "ValidationFailed": "smdb.errors",
    "SmdbFault": "smdb.errors",
    "SmdbRuleRejected": "smdb.errors",
    "SmdbUnavailable": "smdb.errors",
    "SmdbOutcomeUnknown": "smdb.errors",
}

__all__ = [
    "Environment",
    "Indskrivningsforloeb",
    "Journal",
    "Kontaktforloeb",
    "Reporter",
    "SmdbClient",
    "SmdbError",
    "SmdbFault",
    "SmdbOutcomeUnknown",
    "SmdbRuleRejected",
    "SmdbUnavailable",
    "ValidationFailed",
    "Violation",
    "__version__",
    "parse_and_validate",
    "validate",
]

if TYPE_CHECKING:
    from smdb.client import Environment, SmdbClient
    from smdb.errors import (
        SmdbError,
        SmdbFault,
        SmdbOutcomeUnknown,
        SmdbRuleRejected,
        SmdbUnavailable,
        ValidationFailed,
    )
    from smdb.journal import Journal
    from smdb.models import Indskrivningsforloeb, Kontaktforloeb
    from smdb.reporting import Reporter
    from smdb.rules import Violation, parse_and_validate, validate


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'smdb' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
