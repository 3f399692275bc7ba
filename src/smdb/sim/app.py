"""The embedded SMDB simulator: a WSGI application speaking the same SOAP as the contract.

It serves the three services at DST's paths (v0 and v1), answers ``?singlewsdl`` with our WSDL, verifies
WS-Security against the certificates it trusts, enforces the same business rules as the client plus the
ones that need the whole register (§6.1.2 across all stored courses, references must exist, no deletes
through the webservice, §5.1), and answers with WCF-style faults carrying an error code and message.
"""

from __future__ import annotations

import logging
import random
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from cryptography import x509
from lxml import etree

from smdb.auth.certificates import Credentials
from smdb.auth.replay import ReplayCache
from smdb.auth.wsse import (
    CLOCK_SKEW,
    MAX_MESSAGE_LIFETIME,
    SOAP12_NS,
    SOAP_NS,
    WSA_NS,
    WSU_NS,
    check_structure,
    is_signed,
    message_times,
    sign_envelope,
    signature_value,
    signing_certificate,
    soap_ns,
    verify_envelope,
)
from smdb.errors import SecurityError
from smdb.logs import install_log_scrubbing
from smdb.sim.codec import PARSER, CodecError, decode, encode
from smdb.sim.faults import ConnectionAborted, FaultPlan
from smdb.sim.legacy import LegacyService
from smdb.sim.service import Caller, SimFault
from smdb.sim.store import Store
from smdb.sim.sts import SIM_AUDIENCE, STS_PATH, SimSts, verify_holder_of_key
from smdb.soap.contract import BINDINGS, NS, OPERATIONS, SERVICES, Operation, build_wsdl

log = logging.getLogger("smdb.sim")

MAX_REQUEST = 5 * 1024 * 1024
_PATH = re.compile(r"^/smdbwebservice/api/external/(v0|v1)/(securehentdata|secureindsaetdata|securetokentest)\.svc$")
_SVC_BY_PATH = {s.path: key for key, s in SERVICES.items()}


@dataclass
class _Reply:
    """What an answer echoes of its request: its MessageID (RelatesTo) and SignatureValue (SignatureConfirmation)."""

    message_id: str | None = None
    confirm: str | None = None


def _content_length(environ: dict[str, Any]) -> int | None:
    """The request's Content-Length, or None when it is negative or not a number (refused: a negative length
    would otherwise slip past the size limit)."""
    text = str(environ.get("CONTENT_LENGTH") or "0").strip()
    if not text.isdigit():
        return None
    return int(text)


def _content_type(soap: str) -> str:
    return "application/soap+xml; charset=utf-8" if soap == SOAP12_NS else "text/xml; charset=utf-8"


class Simulator:
    """The WSGI application. ``trusted``: client certificates accepted; ``today``/``clock`` injectable."""

    #: The service behind the SOAP layer (:mod:`smdb.sim.service`); a subclass changes what operations do.
    service_class: type[LegacyService] = LegacyService

    def __init__(
        self,
        store: Store | None = None,
        *,
        trusted: Iterable[x509.Certificate] = (),
        require_signature: bool = True,
        server_credentials: Credentials | None = None,
        today: Callable[[], date] = date.today,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        auth: str = "certificate",
        sts: SimSts | None = None,
        audience: str = SIM_AUDIENCE,
        max_message_lifetime: timedelta = MAX_MESSAGE_LIFETIME,
        latency: float = 0.0,
        jitter: float = 0.0,
        seed: int | None = None,
        sleep: Callable[[float], None] = time.sleep,
        signature_confirmation: bool = True,
        adgang: Mapping[str, Iterable[int]] | None = None,
        opslag: Mapping[str, list[dict[str, Any]]] | None = None,
    ) -> None:
        if auth not in ("certificate", "sts"):
            raise ValueError("auth skal være 'certificate' eller 'sts'")
        install_log_scrubbing()  # signxml logs canonicalised requests (CPR numbers) at DEBUG
        self.auth = auth
        #: STS mode: the simulated STS (also served at /sts/service.svc) and this service's entity id.
        self.sts = sts or (SimSts(list(trusted), [audience], clock=clock) if auth == "sts" else None)
        if self.sts is not None:
            # the STS encrypts its tokens for this service, as NemLog-in does for the service they are for
            self.sts.recipient = lambda: self.server_credentials.certificate if self.server_credentials else None
        self.audience = audience
        #: Answer authenticated requests with a WS-Security 1.1 SignatureConfirmation (WCF's
        #: requireSignatureConfirmation); off: a service that binds answers only by RelatesTo (STS mode) or not at all.
        self.signature_confirmation = signature_confirmation
        #: Who may see what (an assumption about DST, docs/service-contract.md): CVR -> the municipalities its
        #: certificates may read and write. None: every authenticated caller may reach every municipality.
        self.adgang: dict[str, frozenset[int]] | None = (
            None if adgang is None else {cvr: frozenset(int(k) for k in koder) for cvr, koder in adgang.items()}
        )
        self._local = threading.local()
        self.store = store or Store()
        self.trusted = list(trusted)
        self.require_signature = require_signature
        self.server_credentials = server_credentials
        self.today = today
        self.clock = clock
        self._wsdl: dict[str, bytes] = {}
        self.max_message_lifetime = max_message_lifetime
        self.replays = ReplayCache()
        #: Seconds added to every SOAP and STS call (not to the WSDL), plus up to ``jitter`` more: DST-like pacing
        #: (a network round trip and DST's processing) for benchmarks and vendors' CI.
        self.latency = latency
        self.jitter = jitter
        self._rng = random.Random(seed)
        self._sleep = sleep
        #: Fault injection (see smdb.sim.faults): consulted before and after each call.
        self.fault_plan: FaultPlan | None = None
        #: More lookup lists (or other rows for one): operation -> rows, answered like the built-in ones.
        self.opslag: dict[str, list[dict[str, Any]]] = dict(opslag or {})

    def service(self) -> LegacyService:
        """The register's operations over this simulator's store, date and access rules (as set now: the pytest
        plugin swaps them between tests); ``service_class`` to answer differently (a stricter or a broken DST)."""
        return self.service_class(
            self.store,
            today=self.today,
            caller=lambda: getattr(self._local, "caller", None),
            adgang=self.adgang,
            opslag=self.opslag,
        )

    # ------------------------------------------------------------------ WSGI
    def _pace(self) -> None:
        if self.latency > 0 or self.jitter > 0:
            self._sleep(self.latency + (self._rng.uniform(0, self.jitter) if self.jitter > 0 else 0.0))

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == STS_PATH and self.sts is not None and environ.get("REQUEST_METHOD") == "POST":
            self._pace()
            length = _content_length(environ)
            if length is None:
                return self._plain(start_response, "400 Bad Request", b"Content-Length mangler eller er ugyldig")
            if length > MAX_REQUEST:
                return self._plain(start_response, "413 Payload Too Large", b"")
            status, payload = self.sts.handle(environ["wsgi.input"].read(length))
            start_response(status, [("Content-Type", "text/xml; charset=utf-8"), ("Content-Length", str(len(payload)))])
            return [payload]
        m = _PATH.match(path)
        if not m:
            return self._plain(start_response, "404 Not Found", b"Not found")
        version, svc_name = m.groups()
        service = _SVC_BY_PATH[f"{svc_name}.svc"]
        method = environ.get("REQUEST_METHOD", "GET")
        if method == "GET":
            query = environ.get("QUERY_STRING", "").lower()
            if query in ("singlewsdl", "wsdl"):
                return self._wsdl_response(start_response, service, version, environ)
            return self._plain(start_response, "200 OK", b"SMDB simulator")
        if method != "POST":
            return self._plain(start_response, "405 Method Not Allowed", b"")
        length = _content_length(environ)
        if length is None:
            return self._fault(start_response, SimFault("UGYLDIG_FORESPOERGSEL", "Content-Length er ugyldig"))
        if length > MAX_REQUEST:
            return self._fault(start_response, SimFault("UGYLDIG_FORESPOERGSEL", "Forespørgslen er for stor"))
        body = environ["wsgi.input"].read(length) if length else b""
        content_type = environ.get("CONTENT_TYPE", "")
        soap = SOAP12_NS if content_type.lower().startswith("application/soap+xml") else SOAP_NS
        if soap == SOAP12_NS:  # SOAP 1.2 carries the action in the Content-Type
            m_action = re.search(r'action="?([^";]+)"?', content_type)
            action = m_action.group(1) if m_action else ""
        else:
            action = environ.get("HTTP_SOAPACTION", "").strip('"')
        self._pace()
        return self.handle(start_response, service, action, body, soap)

    def handle(
        self, start_response: Callable[..., Any], service: str, action: str, body: bytes, soap: str = SOAP_NS
    ) -> Iterable[bytes]:
        op = next((o for o in OPERATIONS.values() if o.action == action), None)
        plan = self.fault_plan
        reply = _Reply()
        self._local.caller = None  # set once this request is authenticated; never the previous request's
        try:
            expected = BINDINGS[self.auth].envelope_ns
            if soap != expected:  # the binding of the mode, as the contract says (docs/service-contract.md)
                version = "1.2" if expected == SOAP12_NS else "1.1"
                raise SimFault("UGYLDIG_FORESPOERGSEL", f"Tjenesten bruger SOAP {version} i denne tilstand")
            if op is None or op.service != service:
                raise SimFault("UGYLDIG_FORESPOERGSEL", f"Ukendt SOAPAction {action!r} for {service}")
            if plan is not None:
                injected = plan.before(op)
                if injected is not None:
                    early: Iterable[bytes] = injected(start_response)
                    return early
            try:
                envelope = etree.fromstring(body, PARSER)
            except etree.XMLSyntaxError:
                raise SimFault("UGYLDIG_FORESPOERGSEL", "Forespørgslen er ikke gyldig XML") from None
            if envelope.tag != f"{{{soap}}}Envelope":
                raise SimFault("UGYLDIG_FORESPOERGSEL", "Konvolutten passer ikke til Content-Type (SOAP-version)")
            try:
                check_structure(envelope)
            except SecurityError as exc:
                raise SimFault("UGYLDIG_FORESPOERGSEL", str(exc)) from None
            if self.auth == "sts":  # WS-Addressing (OIO-IDWS): every answer, faults too, RelatesTo the request
                reply.message_id = envelope.findtext(f"{{{soap}}}Header/{{{WSA_NS}}}MessageID")
            caller = self._authenticate(envelope)
            self._local.caller = caller
            # WS-Security 1.1 (WCF's requireSignatureConfirmation): the answer to an authenticated request confirms
            # its signature, so the client can tell its own answer from any other DST signed
            reply.confirm = signature_value(envelope) if self.signature_confirmation else None
            result = self.service().dispatch(op, self._arguments(envelope, op), caller)
        except SimFault as fault:
            log.info("%s -> fault %s", op.name if op else action, fault.code)
            return self._fault(start_response, fault, soap, reply)
        except CodecError as exc:
            return self._fault(start_response, SimFault("UGYLDIG_FORESPOERGSEL", str(exc)), soap, reply)
        except ConnectionAborted:
            raise
        except Exception:  # pragma: no cover - a bug in the simulator must still answer like WCF would
            log.exception("simulator error")
            internal = SimFault("INTERN", "Intern fejl i simulatoren", client=False)
            return self._fault(start_response, internal, soap, reply)
        response = self._envelope(soap)
        wrapper = etree.SubElement(response[1], f"{{{NS}}}{op.name}Response")
        if op.result is not None and result is not None:
            encode(wrapper, op.result.name, result, op.result.type)
        self._sign(response, reply)
        payload = etree.tostring(response, xml_declaration=True, encoding="utf-8")
        if plan is not None:
            injected = plan.after(op, payload)
            if injected is not None:
                late: Iterable[bytes] = injected(start_response)
                return late
        start_response("200 OK", [("Content-Type", _content_type(soap)), ("Content-Length", str(len(payload)))])
        return [payload]

    # ------------------------------------------------------------------ envelopes
    @staticmethod
    def _envelope(soap: str = SOAP_NS) -> etree._Element:
        env = etree.Element(f"{{{soap}}}Envelope", nsmap={"s": soap})
        etree.SubElement(env, f"{{{soap}}}Header")
        etree.SubElement(env, f"{{{soap}}}Body")
        return env

    def _sign(self, env: etree._Element, reply: _Reply) -> None:
        """Sign an answer or fault as DST's WCF service would: RelatesTo the request's MessageID (STS mode) and a
        SignatureConfirmation of its signature, both covered by the signature."""
        if self.server_credentials is None:
            return
        extra: tuple[str, ...] = ()
        if reply.message_id:
            relates = etree.SubElement(env[0], f"{{{WSA_NS}}}RelatesTo", nsmap={"wsa": WSA_NS})
            relates.text = reply.message_id.strip()
            relates.set(f"{{{WSU_NS}}}Id", f"_rt{uuid.uuid4()}")
            extra = (relates.get(f"{{{WSU_NS}}}Id") or "",)
        sign_envelope(env, self.server_credentials, now=self.clock(), extra_ids=extra, confirm=reply.confirm)

    def _fault(
        self, start_response: Callable[..., Any], fault: SimFault, soap: str = SOAP_NS, reply: _Reply | None = None
    ) -> list[bytes]:
        env = self._envelope(soap)
        f = etree.SubElement(env[1], f"{{{soap}}}Fault")
        lang = "{http://www.w3.org/XML/1998/namespace}lang"
        if soap == SOAP12_NS:  # Code/Value, Reason/Text, Detail
            code = etree.SubElement(etree.SubElement(f, f"{{{soap}}}Code"), f"{{{soap}}}Value")
            code.text = "s:Sender" if fault.client else "s:Receiver"
            text = etree.SubElement(etree.SubElement(f, f"{{{soap}}}Reason"), f"{{{soap}}}Text")
            text.set(lang, "da-DK")
            text.text = fault.message
            detail = etree.SubElement(f, f"{{{soap}}}Detail")
        else:
            etree.SubElement(f, "faultcode").text = "s:Client" if fault.client else "s:Server"
            fs = etree.SubElement(f, "faultstring")
            fs.set(lang, "da-DK")
            fs.text = fault.message
            detail = etree.SubElement(f, "detail")
        encode(detail, "SmdbFejl", {"FejlKode": fault.code, "Besked": fault.message, "Regel": fault.rule}, "SmdbFejl")
        # signed like any answer: a client holding DST's certificate must be able to tell DST's faults from forged
        # ones (a forged fault after a stored write must not make it send the write again)
        self._sign(env, reply or _Reply())
        payload = etree.tostring(env, xml_declaration=True, encoding="utf-8")
        start_response(
            "500 Internal Server Error",
            [("Content-Type", _content_type(soap)), ("Content-Length", str(len(payload)))],
        )
        return [payload]

    @staticmethod
    def _plain(start_response: Callable[..., Any], status: str, body: bytes) -> list[bytes]:
        start_response(status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))])
        return [body]

    def _wsdl_response(
        self, start_response: Callable[..., Any], service: str, version: str, environ: dict[str, Any]
    ) -> list[bytes]:
        key = f"{service}/{version}"
        if key not in self._wsdl:
            self._wsdl[key] = build_wsdl(service)
        host = f"{environ.get('wsgi.url_scheme', 'http')}://{environ.get('HTTP_HOST', 'localhost')}"
        body = self._wsdl[key].replace(b"https://smdbpreprodws.dst.dk", host.encode())
        body = body.replace(b"/external/v1/", f"/external/{version}/".encode())
        start_response("200 OK", [("Content-Type", "text/xml; charset=utf-8"), ("Content-Length", str(len(body)))])
        return [body]

    def _authenticate(self, envelope: etree._Element) -> Caller:
        if self.auth == "sts":
            assert self.sts is not None
            try:
                proof = verify_holder_of_key(
                    envelope,
                    [self.sts.certificate],
                    self.audience,
                    now=self.clock(),
                    max_lifetime=self.max_message_lifetime,
                    decryption_key=self.server_credentials.private_key if self.server_credentials else None,
                )
            except SecurityError as exc:
                raise SimFault("SIKKERHED", str(exc)) from None
            self._refuse_replay(envelope)
            return Caller(proof.certificate.subject.rfc4514_string(), proof.certificate)
        if not is_signed(envelope):
            if self.require_signature:
                raise SimFault("SIKKERHED", "Forespørgslen er ikke signeret med et funktionscertifikat")
            return Caller("anonym", None)
        try:
            cert = verify_envelope(envelope, self.trusted, now=self.clock(), max_lifetime=self.max_message_lifetime)
        except SecurityError as exc:
            if not self.require_signature:
                claimed = signing_certificate(envelope)
                return Caller(claimed.subject.rfc4514_string() if claimed else "anonym", claimed)
            raise SimFault("SIKKERHED", str(exc)) from None
        self._refuse_replay(envelope)
        return Caller(cert.subject.rfc4514_string(), cert)

    def _refuse_replay(self, envelope: etree._Element) -> None:
        """A verified request whose signature was seen before is a replay (DST's WCF keeps a replay cache too)."""
        value = signature_value(envelope)
        try:
            _, expires = message_times(envelope)
        except SecurityError:  # pragma: no cover - verification above requires a valid Timestamp
            value = None
        if not value:  # pragma: no cover - verification above requires both
            raise SimFault("SIKKERHED", "Forespørgslen mangler signatur eller tidsstempel")
        if not self.replays.check_and_add(value, expires + CLOCK_SKEW, self.clock()):
            raise SimFault("SIKKERHED", "Forespørgslen er modtaget før (genafspilning); den behandles ikke igen")

    @staticmethod
    def _arguments(envelope: etree._Element, op: Operation) -> dict[str, Any]:
        body = envelope.find(f"{{{soap_ns(envelope)}}}Body")
        wrapper = body[0] if body is not None and len(body) else None
        if wrapper is None or etree.QName(wrapper).localname != op.name or etree.QName(wrapper).namespace != NS:
            raise SimFault("UGYLDIG_FORESPOERGSEL", f"Body passer ikke til {op.name}")
        args: dict[str, Any] = {}
        spec = {e.name: e for e in op.request}
        for child in wrapper:
            if not isinstance(child.tag, str):
                continue
            name = etree.QName(child).localname
            if name not in spec:
                raise CodecError(f"Ukendt element {name} i {op.name}")
            e = spec[name]
            args[name] = child.text if e.type.startswith("xs:") else decode(child, e.type)
        for e in op.request:
            if e.min_occurs and e.name not in args:
                raise CodecError(f"{op.name}: {e.name} mangler")
        return args
