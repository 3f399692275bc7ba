"""The exceptions of smdb-client, one tree rooted at :class:`SmdbError` (httpx-style).

Nothing raises a raw zeep, requests or lxml exception to the caller. ``except SmdbError`` catches everything the
library means to raise; the branches say what to do: fix the data (:class:`ValidationFailed`,
:class:`SmdbRuleRejected`), fix the setup (:class:`ConfigurationError`, :class:`CertificateError`, the STS family),
try again later (:class:`SmdbUnavailable`), or reconcile before sending again (:class:`SmdbOutcomeUnknown`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from smdb.rules._core import Violation


class SmdbError(Exception):
    """Base of every error raised by this library."""


class ValidationFailed(SmdbError):
    """Local validation found violations; nothing was sent."""

    def __init__(self, violations: list[Violation]) -> None:
        self.violations = violations
        lines = "\n".join(f"  - {v}" for v in violations)
        super().__init__(f"{len(violations)} regelbrud; intet er sendt:\n{lines}")


#: Fault codes of a server in trouble rather than a verdict on the request (see docs/reliability.md).
TRANSIENT_FAULT_CODES = frozenset({"INTERN", "UKENDT"})


class ConfigurationError(SmdbError, ValueError):
    """A setting cannot be used as given (e.g. plain http:// to a host that is not this machine)."""


class SmdbFault(SmdbError):
    """SMDB answered with a SOAP fault; ``code`` and ``message`` are DST's.

    ``verified`` is true when the fault carried a valid signature by DST's configured certificate: only then is it
    DST's word (a forged fault must never make the client send a write again).
    """

    def __init__(self, code: str, message: str, rule: str | None = None, verified: bool = False) -> None:
        self.code = code
        self.message = message
        self.rule = rule
        self.verified = verified
        super().__init__(f"SMDB-fejl {code}: {message}")

    @property
    def transient(self) -> bool:
        """An internal server error: a read may be retried; a write's outcome is unknown."""
        return self.code in TRANSIENT_FAULT_CODES


class SmdbRuleRejected(SmdbFault):
    """SMDB refused the record because it breaks a business rule."""


class SmdbSecurityFault(SmdbFault):
    """SMDB refused the request's security (signature, certificate, timestamp)."""


class SmdbUnavailable(SmdbError):
    """The service could not be reached or answered with something that is not SOAP (timeouts, 5xx, proxies)."""


class SmdbOutcomeUnknown(SmdbUnavailable):
    """A write was sent but no answer came back: it may or may not be stored. Reconcile with Hent* first."""


class RequestNotSent(SmdbError):
    """The request could not be built or signed: it never left this process, so nothing can have been stored."""


class SecurityError(SmdbError):
    """A response failed signature verification, or a signed response was required and missing."""


class AnswerNotVerified(SecurityError):
    """An answer (or fault) from SMDB could not be verified with DST's configured certificate.

    For a write this means the outcome is unknown (the client raises :class:`SmdbOutcomeUnknown` instead): the
    request was sent and may have been stored, whatever the unverifiable answer claims. For a read, an unverifiable
    *fault* is treated like a server in trouble (retried); an unverifiable result is refused.
    """

    def __init__(self, message: str, fault: bool = False) -> None:
        super().__init__(message)
        self.fault = fault


class TimestampOutOfWindow(SecurityError):
    """The message's wsu:Timestamp is outside the accepted window: a replay, or a wrong clock."""


class CertificateError(SmdbError):
    """The certificate or key cannot be used (expired, wrong password, key mismatch)."""


class CprError(SmdbError, ValueError):
    """A malformed CPR number; the message never contains the number itself."""


class NotAJournal(SmdbError):
    """The file does not exist, is not a journal written by smdb, or was written with another key."""


class UnsafeFile(SmdbError, OSError):
    """The path is a symbolic link, not a regular file, or not the kind of file the caller expects."""


class UnsafeJournal(NotAJournal, UnsafeFile):
    """The journal's path is not a regular file of its own (a symbolic link, a device): both a refused journal and
    an unsafe file, so either ``except`` catches it."""


class StsError(SmdbError):
    """The STS refused to issue a token. The message says what a support desk should check."""


class StsAuthenticationFailed(StsError):
    """The STS does not accept our certificate (not registered, revoked, expired, wrong organisation)."""


class StsUnknownAudience(StsError):
    """The STS does not know the service we asked a token for (wrong entity id / AppliesTo)."""


class StsClockSkew(StsError):
    """The STS refused our timestamp: our clock is off."""


class StsUnavailable(StsError, SmdbUnavailable):
    """The STS could not be reached or answered with something that is not WS-Trust (retried like SMDB itself)."""
