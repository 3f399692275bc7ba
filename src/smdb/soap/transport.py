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
from smdb.auth.wsse import (
    SOAP12_NS,
    SOAP_NAMESPACES,
    check_structure,
    is_signed,
    sign_envelope,
    sign_envelope_with_token,
    verify_envelope_covering,
)
from smdb.cpr import scrub
from smdb.errors import AnswerNotVerified, SecurityError
from smdb.http import RedirectRefused, bounded_post
from smdb.soap.answers import AnswerBinder, RequestRecord

log = logging.getLogger("smdb.soap")

#: Hardened XML settings: no DTDs, no entities, no external resources, no huge trees.
SETTINGS = Settings(strict=True, xml_huge_tree=False, forbid_dtd=True, forbid_entities=True, forbid_external=True)


class _WsdlTransport(Transport):
    """zeep's loader for a WSDL given by URL, refusing redirects like every other call (:class:`RedirectRefused`)."""

    def _load_remote_data(self, url: str) -> bytes:
        response = self.session.get(url, timeout=self.load_timeout, allow_redirects=False)
        if response.is_redirect:
            target = str(response.headers.get("Location", "?"))[:200]
            raise RedirectRefused(f"{url} omdirigerer til {target}; omdirigeringer følges ikke")
        response.raise_for_status()
        content: bytes = response.content
        return content


@functools.lru_cache(maxsize=32)
def load_document(source: str) -> Document:
    """Parse a WSDL once per process (client construction must be cheap)."""
    doc: Document = Document(source, _WsdlTransport(), settings=SETTINGS)  # type: ignore[arg-type]  # zeep annotates the class, takes an instance
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
    """Per thread, per call: the deadline, whether the request left this process, what it looked like, whether the
    answer verified; per thread, the answers accepted without being bound to their request, only fresh
    (:meth:`smdb.soap.caller.SoapCaller.unbound_answers`)."""

    deadline: float | None = None
    sent: bool = False
    verified: bool = False
    request: RequestRecord | None = None
    soap: str | None = None
    unbound: int = 0


class SoapVersionMismatch(ValueError):
    """The answer is in another SOAP version than the request (a proxy, or the other mode's endpoint)."""


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
    """Answers and faults alike: when DST's certificate is configured, each must carry a valid signature by it, and
    be bound to its request (:mod:`smdb.soap.answers`).

    Configured means enforced: an answer whose signature was stripped (or moved) is refused, unless
    ``require_signed`` is switched off (``allow_unsigned_answers``), which only admits *unsigned* answers; a signed
    one is always verified. Any envelope is refused unless it is exactly one Header and one Body, and zeep is handed
    only the verified Body. An answer must also be the answer to the operation that was called.
    """

    def __init__(
        self,
        trusted: list[x509.Certificate],
        require_signed: bool,
        clock: Callable[[], datetime],
        state: CallState,
        max_lifetime: timedelta,
        binder: AnswerBinder,
    ) -> None:
        self._trusted = trusted
        self._require = require_signed
        self._clock = clock
        self._state = state
        self._max_lifetime = max_lifetime
        self._binder = binder

    def egress(self, envelope: Any, http_headers: Any, operation: Any, binding_options: Any) -> Any:
        """Note the request as signed (the last plugin out): what its answer must be bound to."""
        self._state.request = RequestRecord.of(envelope, self._clock())
        self._state.soap = etree.QName(envelope).namespace
        return envelope, http_headers

    def ingress(self, envelope: Any, http_headers: Any, operation: Any) -> Any:
        soap = etree.QName(envelope).namespace
        if envelope.tag != f"{{{soap}}}Envelope" or soap not in SOAP_NAMESPACES:
            return envelope, http_headers  # an error page, not SOAP: reported as unavailable, not as a forgery
        state = self._state
        if state.soap is not None and soap != state.soap:
            raise SoapVersionMismatch(
                f"svaret er SOAP {_version(soap)}, men forespørgslen var SOAP {_version(state.soap)} "
                "(forkert adresse eller tilstand: --auth)"
            )
        try:
            header, body = check_structure(envelope)
        except SecurityError as exc:
            forged_fault = any(b.find(f"{{{soap}}}Fault") is not None for b in envelope.iter(f"{{{soap}}}Body"))
            raise AnswerNotVerified(f"svaret fra SMDB afvises: {exc}", forged_fault) from None
        fault = body.find(f"{{{soap}}}Fault")
        what = "fejlen" if fault is not None else "svaret"
        if is_signed(envelope) and self._trusted:
            now = self._clock()
            try:
                _, covered = verify_envelope_covering(envelope, self._trusted, now=now, max_lifetime=self._max_lifetime)
            except SecurityError as exc:
                raise AnswerNotVerified(f"{what} fra SMDB kunne ikke verificeres: {exc}", fault is not None) from None
            if not self._binder.check(envelope, covered, state.request, now):
                state.unbound += 1
            state.verified = True
        elif self._require:
            why = "er ikke signeret" if self._trusted or not is_signed(envelope) else "kan ikke verificeres"
            code = _fault_code(fault) if fault is not None else ""
            raise AnswerNotVerified(
                f"{what}{code} fra SMDB {why}"
                + ("" if self._trusted else " (der er ikke konfigureret et DST-certifikat)"),
                fault is not None,
            )
        if fault is None:
            first = next((c for c in body if isinstance(c.tag, str)), None)
            expected = f"{operation.name}Response"
            if first is None or etree.QName(first).localname != expected:
                got = etree.QName(first).localname if first is not None else "intet"
                raise AnswerNotVerified(f"svaret hører ikke til {operation.name} (fik {got[:60]})")
        if header is not None:
            envelope.remove(header)  # zeep reads the verified Body and nothing else
        return envelope, http_headers


def _version(soap: str) -> str:
    return "1.2" if soap == SOAP12_NS else "1.1"


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
