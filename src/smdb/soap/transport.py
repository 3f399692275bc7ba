"""zeep plumbing: cached WSDL documents, hardened settings, and the signing/verifying/logging plugins."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from lxml import etree
from zeep import Plugin, Settings
from zeep.transports import Transport
from zeep.wsdl import Document

from smdb.auth.certificates import Credentials
from smdb.auth.sts import StsTokenProvider
from smdb.auth.wsse import SOAP_NS, is_signed, sign_envelope, sign_envelope_with_token, verify_envelope
from smdb.cpr import scrub
from smdb.errors import SecurityError

log = logging.getLogger("smdb.soap")

#: Hardened XML settings: no DTDs, no entities, no external resources, no huge trees.
SETTINGS = Settings(strict=True, xml_huge_tree=False, forbid_dtd=True, forbid_entities=True, forbid_external=True)


class _ScrubCpr(logging.Filter):
    """zeep.transports logs whole envelopes at DEBUG; mask CPR numbers before any handler sees them."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.msg = record.getMessage()
            record.args = None
        if isinstance(record.msg, bytes):
            record.msg = record.msg.decode("utf-8", "replace")
        if isinstance(record.msg, str):
            record.msg = scrub(record.msg)
        return True


def install_log_scrubbing() -> None:
    """Idempotent: attach the CPR filter to zeep's chatty loggers."""
    # A filter on a logger does not apply to its children's records, so every logger that can see an
    # envelope is listed: zeep's transport and binding, and signxml, which logs canonicalised XML at DEBUG.
    for name in ("zeep.transports", "zeep.wsdl.bindings.soap", "zeep", "signxml.processor", "urllib3.connectionpool"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _ScrubCpr) for f in logger.filters):
            logger.addFilter(_ScrubCpr())


@functools.lru_cache(maxsize=32)
def load_document(source: str) -> Document:
    """Parse a WSDL once per process (client construction must be cheap)."""
    doc: Document = Document(source, Transport(), settings=SETTINGS)  # type: ignore[arg-type]  # zeep annotates the class, takes an instance
    return doc


def wsdl_source(service_file: str, wsdl_dir: str | Path | None, wsdl_url: str | None) -> str:
    if wsdl_url:
        return f"{wsdl_url.rstrip('/')}/{service_file}"
    base = Path(wsdl_dir) if wsdl_dir else Path(__file__).resolve().parent.parent / "wsdl"
    return str(base / service_file)


class SigningPlugin(Plugin):
    """Adds the WS-Security header to every outgoing envelope."""

    def __init__(self, credentials: Credentials, clock: Callable[[], datetime]) -> None:
        self._creds = credentials
        self._clock = clock

    def egress(self, envelope: Any, http_headers: Any, operation: Any, binding_options: Any) -> Any:
        sign_envelope(envelope, self._creds, now=self._clock())
        return envelope, http_headers


class TokenSigningPlugin(Plugin):
    """STS mode (OIO-IDWS): carry the STS's token and sign with our key, referring to the token."""

    def __init__(self, credentials: Credentials, provider: StsTokenProvider, clock: Callable[[], datetime]) -> None:
        self._creds = credentials
        self._provider = provider
        self._clock = clock

    def egress(self, envelope: Any, http_headers: Any, operation: Any, binding_options: Any) -> Any:
        sign_envelope_with_token(envelope, self._creds, self._provider.token().assertion, now=self._clock())
        return envelope, http_headers


class VerifyPlugin(Plugin):
    """Verifies signed answers against DST's certificate. Faults are let through first: they may be unsigned."""

    def __init__(self, trusted: list[x509.Certificate], strict: bool, clock: Callable[[], datetime]) -> None:
        self._trusted = trusted
        self._strict = strict
        self._clock = clock

    def ingress(self, envelope: Any, http_headers: Any, operation: Any) -> Any:
        if envelope.tag != f"{{{SOAP_NS}}}Envelope":
            return envelope, http_headers  # an error page, not SOAP: reported as unavailable, not as a forgery
        body = envelope.find(f"{{{SOAP_NS}}}Body")
        if body is not None and body.find(f"{{{SOAP_NS}}}Fault") is not None:
            return envelope, http_headers
        if is_signed(envelope):
            if self._trusted:
                verify_envelope(envelope, self._trusted, now=self._clock())
            elif self._strict:
                raise SecurityError("strict: der er ikke konfigureret et DST-certifikat at verificere svaret med")
        elif self._strict:
            raise SecurityError("strict: svaret fra SMDB er ikke signeret")
        return envelope, http_headers


class LoggingPlugin(Plugin):
    """DEBUG dump of envelopes with CPR numbers masked and no key material (signatures are public data)."""

    def egress(self, envelope: Any, http_headers: Any, operation: Any, binding_options: Any) -> Any:
        if log.isEnabledFor(logging.DEBUG):
            log.debug("-> %s\n%s", operation.name, scrub(etree.tostring(envelope, encoding="unicode")))
        return envelope, http_headers

    def ingress(self, envelope: Any, http_headers: Any, operation: Any) -> Any:
        if log.isEnabledFor(logging.DEBUG):
            log.debug("<- %s\n%s", operation.name, scrub(etree.tostring(envelope, encoding="unicode")))
        return envelope, http_headers
