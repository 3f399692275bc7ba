"""zeep plumbing: cached WSDL documents, hardened settings, and the signing/verifying/logging plugins."""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from cryptography import x509
from lxml import etree
from zeep import Plugin, Settings
from zeep.transports import Transport
from zeep.wsdl import Document

from smdb.auth.certificates import Credentials
from smdb.auth.sts import StsTokenProvider
from smdb.auth.wsse import SOAP_NAMESPACES, is_signed, sign_envelope, sign_envelope_with_token, verify_envelope
from smdb.cpr import scrub
from smdb.errors import AnswerNotVerified, SecurityError
from smdb.http import bounded_post

log = logging.getLogger("smdb.soap")

#: Hardened XML settings: no DTDs, no entities, no external resources, no huge trees.
SETTINGS = Settings(strict=True, xml_huge_tree=False, forbid_dtd=True, forbid_entities=True, forbid_external=True)


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
        token = self._provider.token()
        sign_envelope_with_token(envelope, self._creds, token.assertion, now=self._clock(), token_id=token.assertion_id)
        return envelope, http_headers


class CallState(threading.local):
    """Per thread, per call: the deadline, whether the request left this process, whether the answer verified."""

    deadline: float | None = None
    sent: bool = False
    verified: bool = False


class BoundedTransport(Transport):
    """zeep's transport, with every answer read within the call's deadline and a size cap (:mod:`smdb.http`), and
    a note of whether the request was handed to the network at all: a failure before that is never "may be
    stored"."""

    def __init__(
        self, session: requests.Session, timeout: tuple[float, float], max_bytes: int, default_deadline: float
    ) -> None:
        super().__init__(session=session, timeout=timeout[0], operation_timeout=timeout)
        self.max_bytes = max_bytes
        self.default_deadline = default_deadline
        self.state = CallState()

    def post(self, address: str, message: Any, headers: dict[str, str]) -> requests.Response:
        state = self.state
        state.sent = True
        deadline = state.deadline if state.deadline is not None else time.monotonic() + self.default_deadline
        return bounded_post(
            self.session,
            address,
            data=message,
            headers=headers,
            timeout=self.operation_timeout,
            deadline=deadline,
            max_bytes=self.max_bytes,
        )


class VerifyPlugin(Plugin):
    """Answers and faults alike: when DST's certificate is configured, each must carry a valid signature by it.

    Configured means enforced: an answer whose signature was stripped (or moved) is refused, unless
    ``require_signed`` is switched off (``allow_unsigned_answers``), which only admits *unsigned* answers; a signed
    one is always verified. An answer must also be the answer to the operation that was called.
    """

    def __init__(
        self,
        trusted: list[x509.Certificate],
        require_signed: bool,
        clock: Callable[[], datetime],
        state: CallState,
        max_lifetime: timedelta,
    ) -> None:
        self._trusted = trusted
        self._require = require_signed
        self._clock = clock
        self._state = state
        self._max_lifetime = max_lifetime

    def ingress(self, envelope: Any, http_headers: Any, operation: Any) -> Any:
        soap = etree.QName(envelope).namespace
        if envelope.tag != f"{{{soap}}}Envelope" or soap not in SOAP_NAMESPACES:
            return envelope, http_headers  # an error page, not SOAP: reported as unavailable, not as a forgery
        body = envelope.find(f"{{{soap}}}Body")
        fault = body.find(f"{{{soap}}}Fault") if body is not None else None
        what = "fejlen" if fault is not None else "svaret"
        if is_signed(envelope) and self._trusted:
            try:
                verify_envelope(envelope, self._trusted, now=self._clock(), max_lifetime=self._max_lifetime)
            except SecurityError as exc:
                raise AnswerNotVerified(f"{what} fra SMDB kunne ikke verificeres: {exc}", fault is not None) from None
            self._state.verified = True
        elif self._require:
            why = "er ikke signeret" if self._trusted or not is_signed(envelope) else "kan ikke verificeres"
            code = _fault_code(fault) if fault is not None else ""
            raise AnswerNotVerified(
                f"{what}{code} fra SMDB {why}"
                + ("" if self._trusted else " (der er ikke konfigureret et DST-certifikat)"),
                fault is not None,
            )
        if fault is None:
            first = next((c for c in (body if body is not None else []) if isinstance(c.tag, str)), None)
            expected = f"{operation.name}Response"
            if first is None or etree.QName(first).localname != expected:
                got = etree.QName(first).localname if first is not None else "intet"
                raise AnswerNotVerified(f"svaret hører ikke til {operation.name} (fik {got[:60]})")
        return envelope, http_headers


def _fault_code(fault: etree._Element) -> str:
    """The fault's own code, for the message (attacker-controlled text: short and masked)."""
    code = next((el.text for el in fault.iter() if isinstance(el.tag, str) and el.tag.endswith("FejlKode")), None)
    return f" ({scrub(code.strip())[:40]})" if code else ""


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
