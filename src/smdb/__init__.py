"""smdb-client: report citizens in drug-abuse treatment to SMDB (Stofmisbrugsdatabasen, Danmarks Statistik).

The public API, imported lazily so that ``import smdb`` (and ``smdb validate``) stays fast without zeep:

    from smdb import SmdbClient, Environment, Reporter, Kontaktforloeb, validate

``smdb.__all__`` (and ``dir(smdb)``) lists it; ``tests/test_public_api.py`` pins it, so a name can only leave it on
purpose. Two subpackages are public as well: :mod:`smdb.sim` (the simulator, the built-in test double) and
:mod:`smdb.models` (every form's model). Everything else is internal and may change between versions.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:  # the public API, listed once: type checkers read these imports, and _EXPORTS is derived from them
    from smdb.auth.certificates import Credentials as Credentials
    from smdb.auth.certificates import load_credentials as load_credentials
    from smdb.auth.sts import StsConfig as StsConfig
    from smdb.client import CheckResult as CheckResult
    from smdb.client import Environment as Environment
    from smdb.client import SmdbClient as SmdbClient
    from smdb.client import TransportOptions as TransportOptions
    from smdb.cpr import Cpr as Cpr
    from smdb.errors import AnswerNotVerified as AnswerNotVerified
    from smdb.errors import CertificateError as CertificateError
    from smdb.errors import ConfigurationError as ConfigurationError
    from smdb.errors import CprError as CprError
    from smdb.errors import NotAJournal as NotAJournal
    from smdb.errors import RequestNotSent as RequestNotSent
    from smdb.errors import SecurityError as SecurityError
    from smdb.errors import SmdbError as SmdbError
    from smdb.errors import SmdbFault as SmdbFault
    from smdb.errors import SmdbOutcomeUnknown as SmdbOutcomeUnknown
    from smdb.errors import SmdbRuleRejected as SmdbRuleRejected
    from smdb.errors import SmdbSecurityFault as SmdbSecurityFault
    from smdb.errors import SmdbUnavailable as SmdbUnavailable
    from smdb.errors import StsAuthenticationFailed as StsAuthenticationFailed
    from smdb.errors import StsClockSkew as StsClockSkew
    from smdb.errors import StsError as StsError
    from smdb.errors import StsUnavailable as StsUnavailable
    from smdb.errors import StsUnknownAudience as StsUnknownAudience
    from smdb.errors import TimestampOutOfWindow as TimestampOutOfWindow
    from smdb.errors import UnsafeFile as UnsafeFile
    from smdb.errors import ValidationFailed as ValidationFailed
    from smdb.forms import Form as Form
    from smdb.journal import Journal as Journal
    from smdb.journal import StepRow as StepRow
    from smdb.locks import CitizenLockLost as CitizenLockLost
    from smdb.locks import Held as Held
    from smdb.models import Afslutning as Afslutning
    from smdb.models import Anmodning as Anmodning
    from smdb.models import Indskrivning as Indskrivning
    from smdb.models import Indskrivningsforloeb as Indskrivningsforloeb
    from smdb.models import Ivaerksaettelse as Ivaerksaettelse
    from smdb.models import Kontaktforloeb as Kontaktforloeb
    from smdb.models import KvalHep as KvalHep
    from smdb.models import SmdbModel as SmdbModel
    from smdb.models import Tilbudstilknytning as Tilbudstilknytning
    from smdb.models import Udskrivning as Udskrivning
    from smdb.models import Ydelse as Ydelse
    from smdb.output import print_summary as print_summary
    from smdb.register import Hentet as Hentet
    from smdb.reporting import BatchInterrupted as BatchInterrupted
    from smdb.reporting import Outcome as Outcome
    from smdb.reporting import OutcomeStatus as OutcomeStatus
    from smdb.reporting import Reporter as Reporter
    from smdb.reporting import Summary as Summary
    from smdb.rules import Indlaest as Indlaest
    from smdb.rules import Violation as Violation
    from smdb.rules import indlaes as indlaes
    from smdb.rules import parse_and_validate as parse_and_validate
    from smdb.rules import parse_forloeb as parse_forloeb
    from smdb.rules import validate as validate
    from smdb.settings import KommuneCertifikat as KommuneCertifikat
    from smdb.settings import SmdbSettings as SmdbSettings
    from smdb.soap.caller import UnverifiedAnswersWarning as UnverifiedAnswersWarning
    from smdb.soap.mapping import IndsaetResultat as IndsaetResultat
    from smdb.status import Status as Status
    from smdb.systemskifte import Systemskifteplan as Systemskifteplan
    from smdb.systemskifte import mellemloesning as mellemloesning
    from smdb.systemskifte import model1 as model1
    from smdb.systemskifte import model2 as model2
    from smdb.udbakke import Arbejder as Arbejder
    from smdb.udbakke import Koeelement as Koeelement
    from smdb.udbakke import Udbakke as Udbakke


def _exports() -> dict[str, tuple[str, str]]:
    """Public name -> (module, name there), read from the ``TYPE_CHECKING`` imports above: one list, which type
    checkers and editors see as real imports and which ``__getattr__`` loads lazily (``import smdb`` stays fast:
    no zeep until a client is used)."""
    tree = ast.parse(Path(__file__).read_text(encoding="utf-8"))
    block = next(n for n in tree.body if isinstance(n, ast.If) and ast.unparse(n.test) == "TYPE_CHECKING")
    return {
        alias.asname or alias.name: (str(node.module), alias.name)
        for node in block.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }


_EXPORTS = _exports()
__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str) -> Any:
    target = _EXPORTS.get(name)
    if target is None:
        raise AttributeError(f"module 'smdb' has no attribute {name!r}")
    module, attribute = target
    return getattr(importlib.import_module(module), attribute)


def __dir__() -> list[str]:
    """The public API, not the module's internals (``dir(smdb)`` showed only ``Any`` and ``importlib``)."""
    return list(__all__)
