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
from pydantic import BaseModel, ValidationError

from smdb.auth.certificates import Credentials
from smdb.auth.replay import ReplayCache
from smdb.auth.sts import verify_holder_of_key
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
from smdb.cpr import scrub
from smdb.errors import SecurityError
from smdb.forms import FORMS, Form, FormSpec, id_element
from smdb.logs import install_log_scrubbing
from smdb.models import (
    Afslutning,
    Anmodning,
    Indskrivning,
    Indskrivningsforloeb,
    Ivaerksaettelse,
    Kontaktforloeb,
    KvalHep,
    Tilbudstilknytning,
    Udskrivning,
    Ydelse,
)
from smdb.models._base import ascii_stavemaade
from smdb.register import Hentet, aendringens_brud, saml_forloeb
from smdb.rules import Violation, nye_brud
from smdb.rules import register as rr
from smdb.rules.parsing import fra_validation_error
from smdb.sim.codec import PARSER, CodecError, decode, encode
from smdb.sim.faults import ConnectionAborted, FaultPlan
from smdb.sim.store import Row, Store
from smdb.sim.sts import SIM_AUDIENCE, STS_PATH, SimSts
from smdb.soap import mapping
from smdb.soap.contract import BINDINGS, NS, OPERATIONS, SEARCH_IDS, SERVICES, Operation, build_wsdl

log = logging.getLogger("smdb.sim")

MAX_REQUEST = 5 * 1024 * 1024
_PATH = re.compile(r"^/smdbwebservice/api/external/(v0|v1)/(securehentdata|secureindsaetdata|securetokentest)\.svc$")
_SVC_BY_PATH = {s.path: key for key, s in SERVICES.items()}

#: The simulator's lookup lists: a register of treatment offers across several municipalities (fictional names,
#: DST's shape) and the countries the tests and demos use. Ids outside them are refused (REFERENCE), as SMDB does.
TILBUD = [
    {"TilbudId": 1000, "TilbudNavn": "Rusmiddelcenter København, modtagelse", "Postnummer": "2200", "KommuneKode": 101},
    {
        "TilbudId": 1001,
        "TilbudNavn": "Rusmiddelcenter København, substitution",
        "Postnummer": "2200",
        "KommuneKode": 101,
    },
    {"TilbudId": 1002, "TilbudNavn": "Rusmiddelcenter København, ambulant", "Postnummer": "2200", "KommuneKode": 101},
    {"TilbudId": 1003, "TilbudNavn": "Behandlingscenter Aarhus, døgn", "Postnummer": "8000", "KommuneKode": 751},
    {"TilbudId": 1004, "TilbudNavn": "Misbrugscenter Odense", "Postnummer": "5000", "KommuneKode": 461},
    {"TilbudId": 1005, "TilbudNavn": "Rusmiddelcenter Frederiksberg", "Postnummer": "2000", "KommuneKode": 147},
    {"TilbudId": 1006, "TilbudNavn": "Rusmiddelcenter Frederiksberg, unge", "Postnummer": "2000", "KommuneKode": 147},
    {"TilbudId": 1007, "TilbudNavn": "Behandlingscenter Aalborg", "Postnummer": "9000", "KommuneKode": 851},
    {"TilbudId": 1008, "TilbudNavn": "Rusmiddelcenter Esbjerg", "Postnummer": "6700", "KommuneKode": 561},
    {"TilbudId": 1009, "TilbudNavn": "Privat døgnbehandling (frit valg)", "Postnummer": "4000", "KommuneKode": 265},
    {"TilbudId": 1010, "TilbudNavn": "Misbrugscenter Vejle", "Postnummer": "7100", "KommuneKode": 630},
    {"TilbudId": 1011, "TilbudNavn": "Rusmiddelcenter Helsingør", "Postnummer": "3000", "KommuneKode": 217},
]
LANDE = [
    {"LandeKode": "5100", "LandeNavn": "Danmark"},
    {"LandeKode": "5110", "LandeNavn": "Norge"},
    {"LandeKode": "5120", "LandeNavn": "Sverige"},
    {"LandeKode": "5180", "LandeNavn": "Tyskland"},
    {"LandeKode": "5902", "LandeNavn": "Grønland"},
]
_TILBUD_IDS = {int(str(t["TilbudId"])) for t in TILBUD}
_LANDEKODER = {str(land["LandeKode"]) for land in LANDE}
YDELSESPAKKER = [
    {"YdelsespakkeKode": "01", "YdelsespakkeNavn": "Individuel samtale"},
    {"YdelsespakkeKode": "02", "YdelsespakkeNavn": "Gruppeforløb"},
    {"YdelsespakkeKode": "03", "YdelsespakkeNavn": "Familiesamtale"},
    {"YdelsespakkeKode": "04", "YdelsespakkeNavn": "Parbehandling"},
]


_ANM, _IVAER, _INDS = id_element(Form.ANM), id_element(Form.IVAER), id_element(Form.INDS)
#: The register's column that holds a reference to a record of each form (the store's schema).
_COLUMN = {Form.ANM: "anmodning_id", Form.IVAER: "ivaerksaettelse_id", Form.INDS: "indskrivning_id"}
#: Forms that come nested in their parent's Hent answer (no Hent of their own).
_NESTED: dict[Form, list[FormSpec]] = {}
for _spec in FORMS.values():
    if _spec.parent is not None and _spec.hent is None:
        _NESTED.setdefault(_spec.parent, []).append(_spec)
#: The Hent operation of each form, answered generically.
_HENT_FORMS = {spec.hent: spec for spec in FORMS.values() if spec.hent}


@dataclass
class _Reply:
    """What an answer echoes of its request: its MessageID (RelatesTo) and SignatureValue (SignatureConfirmation)."""

    message_id: str | None = None
    confirm: str | None = None


class SimFault(Exception):
    """Becomes a SOAP fault (HTTP 500) with DST-style detail."""

    def __init__(self, code: str, message: str, rule: str | None = None, client: bool = True) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.rule = rule
        self.client = client


@dataclass(frozen=True, slots=True)
class Caller:
    subject: str
    certificate: x509.Certificate | None

    @property
    def cvr(self) -> str | None:
        """The organisation's CVR number from the certificate's serialNumber (``CVR:…-FID:…``)."""
        if self.certificate is None:
            return None
        serials = self.certificate.subject.get_attributes_for_oid(x509.oid.NameOID.SERIAL_NUMBER)
        m = re.search(r"CVR:(\d{8})", str(serials[0].value)) if serials else None
        return m.group(1) if m else None


def _rule_fault(violations: list[Violation]) -> SimFault:
    msg = " | ".join(v.tekst() for v in violations)
    return SimFault("FORRETNINGSREGEL", scrub(msg), violations[0].rule)


def _refuse(rule: rr.RegisterRegel, detail: str | None = None) -> SimFault:
    """A declared register rule (smdb.rules.register) as SMDB's fault: its code, section and message."""
    return SimFault(rule.fejlkode, f"{detail}: {rule.beskrivelse}" if detail else rule.beskrivelse, rule.afsnit)


def _content_length(environ: dict[str, Any]) -> int | None:
    """The request's Content-Length, or None when it is negative or not a number (refused: a negative length
    would otherwise slip past the size limit)."""
    text = str(environ.get("CONTENT_LENGTH") or "0").strip()
    if not text.isdigit():
        return None
    return int(text)


def _parse(model: type[Any], data: dict[str, Any]) -> Any:
    try:
        return mapping.from_wire(model, data)
    except ValidationError as exc:
        raise _rule_fault(fra_validation_error(exc)) from None


def _content_type(soap: str) -> str:
    return "application/soap+xml; charset=utf-8" if soap == SOAP12_NS else "text/xml; charset=utf-8"


class Simulator:
    """The WSGI application. ``trusted``: client certificates accepted; ``today``/``clock`` injectable."""

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
            args = self._arguments(envelope, op)
            form = _HENT_FORMS.get(op.name)
            result = self._hent_form(form, args) if form else getattr(self, f"_op_{op.name}")(args, caller)
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

    # ------------------------------------------------------------------ TokenTest
    def _op_Echo(self, args: dict[str, Any], caller: Caller) -> str:
        return str(args.get("Tekst") or "")

    def _op_Throw(self, args: dict[str, Any], caller: Caller) -> None:
        raise SimFault("THROW", "Throw: testfejl som bestilt", client=False)

    def _op_WhoAmI(self, args: dict[str, Any], caller: Caller) -> dict[str, Any]:
        org = None
        expires = None
        if caller.certificate is not None:
            orgs = caller.certificate.subject.get_attributes_for_oid(x509.oid.NameOID.ORGANIZATION_NAME)
            org = str(orgs[0].value) if orgs else None
            expires = caller.certificate.not_valid_after_utc
        return {"Subject": caller.subject, "Organisation": org, "Cvr": caller.cvr, "CertifikatUdloeber": expires}

    # ------------------------------------------------------------------ HentData
    @staticmethod
    def _s(args: dict[str, Any]) -> dict[str, Any]:
        s: dict[str, Any] = args.get("Soegning") or {}
        return s

    def _with_id(self, row: Row, id_name: str, **refs: Any) -> dict[str, Any]:
        return {**row.data, id_name: row.id, **{k: v for k, v in refs.items() if v is not None}}

    def _record_out(self, spec: FormSpec, row: Row) -> dict[str, Any]:
        """A stored record as the Hent answer carries it: its id, its parent's id, and the forms that come nested
        in it (the afslutning in the anmodning, the udskrivning in the indskrivning) -- all from the form table."""
        out = {**row.data, spec.id_element: row.id}
        if spec.parent is not None and spec.parent_id_element is not None:
            parent_id = getattr(row, _COLUMN[spec.parent])
            if parent_id is not None:
                out[spec.parent_id_element] = parent_id
        for child in _NESTED.get(spec.form, ()):
            rows = self.store.find(child.store_kind, **{_COLUMN[spec.form]: row.id})
            if rows:
                out[child.wire_name] = self._record_out(child, rows[0])
        return out

    def _may(self, caller: Caller | None, kommune: int | None) -> bool:
        """May ``caller`` see or write the municipality's records (``adgang``)?"""
        if self.adgang is None:
            return True
        allowed = self.adgang.get(caller.cvr or "", frozenset()) if caller is not None else frozenset()
        return kommune is not None and kommune in allowed

    def _hent_form(self, spec: FormSpec, args: dict[str, Any]) -> dict[str, Any]:
        """Every Hent of a form, driven by the table: CPR, KommuneKode and the ids of the search (the form's own
        id, its parent's, or another reference the record carries)."""
        s = self._s(args)
        where: dict[str, Any] = {"cpr": s.get("PersonIdentifikator"), "kommune": s.get("KommuneKode")}
        for form in SEARCH_IDS:
            value = s.get(id_element(form))
            if value is not None:
                where["id" if form is spec.form else _COLUMN[form]] = value
        caller = getattr(self._local, "caller", None)
        rows = [r for r in self.store.find(spec.store_kind, **where) if self._may(caller, r.kommune)]
        return {spec.wire_name: [self._record_out(spec, r) for r in rows]}

    def _op_HentAlleTilbud(self, args: dict[str, Any], caller: Caller) -> dict[str, Any]:
        k = self._s(args).get("KommuneKode")
        return {"Tilbud": [t for t in TILBUD if k is None or t["KommuneKode"] == k]}

    def _op_HentLandeliste(self, args: dict[str, Any], caller: Caller) -> dict[str, Any]:
        return {"Land": LANDE}

    def _op_HentYdelsespakker(self, args: dict[str, Any], caller: Caller) -> dict[str, Any]:
        return {"Ydelsespakke": YDELSESPAKKER}

    def _op_HentAsiForMyndighed(self, args: dict[str, Any], caller: Caller) -> dict[str, Any]:
        s = self._s(args)
        rows = self.store.find("ASI", anmodning_id=s.get(_ANM), cpr=s.get("PersonIdentifikator"))
        return {"Asi": [self._with_id(r, "AsiId") for r in rows if r.anmodning_id is not None]}

    def _op_HentAsiForTilbud(self, args: dict[str, Any], caller: Caller) -> dict[str, Any]:
        s = self._s(args)
        rows = self.store.find("ASI", indskrivning_id=s.get(_INDS), cpr=s.get("PersonIdentifikator"))
        return {"Asi": [self._with_id(r, "AsiId") for r in rows if r.indskrivning_id is not None]}

    # ------------------------------------------------------------------ register helpers
    def _hentet(self, form: Form, row: Row) -> Hentet[Any]:
        spec = FORMS[form]
        return mapping.hentet(spec.model, self._record_out(spec, row))

    def _course(self, anm_row: Row) -> Kontaktforloeb:
        """The stored course of an anmodning, assembled exactly as the client assembles it (smdb.register)."""
        parts = {
            form: [self._hentet(form, r) for r in self.store.find(FORMS[form].store_kind, anmodning_id=anm_row.id)]
            for form in (Form.IVAER, Form.TILB, Form.KVALHEP)
        }
        anm = self._hentet(Form.ANM, anm_row)
        return saml_forloeb([anm], parts[Form.IVAER], parts[Form.TILB], parts[Form.KVALHEP], anm_row.kommune)[0]

    def _check(self, after: Kontaktforloeb, before: Kontaktforloeb | None) -> None:
        """Refuse what the change breaks: the same question the client asks (smdb.register), over the register."""
        rows = self.store.find("ANM", cpr=str(after.cpr), kommune=after.kommunekode)
        courses = [self._course(r) for r in rows]
        new = aendringens_brud(after, before, courses, self.today())
        if new:
            raise _rule_fault(new)
        self._one_active_at_a_time(after, before, courses)

    @staticmethod
    def _one_active_at_a_time(
        after: Kontaktforloeb, before: Kontaktforloeb | None, courses: list[Kontaktforloeb]
    ) -> None:
        """§6.1.2 over time, not only today: the change may not make this course's period overlap another course
        of the citizen in the municipality (an anmodning dated inside a closed course, an afslutning moved past the
        next course's anmodning), which would make two courses active at once."""
        own = (before.anmodning.smdb_id if before is not None else None) or after.anmodning.smdb_id

        def overlapping(f: Kontaktforloeb) -> set[int]:
            return {
                int(o.anmodning.smdb_id or 0)
                for o in courses
                if o.anmodning.smdb_id != own and rr.forloeb_overlapper(f, o)
            }

        introduced = overlapping(after) - (overlapping(before) if before is not None else set())
        if introduced:
            raise _refuse(rr.EN_AKTIV_AD_GANGEN, f"overlapper forløb med AnmodningId {min(introduced)}")

    def _row(self, kind: str, record_id: Any) -> Row:
        """A referenced record that must exist (ids come from the caller: a wrong one is a REFERENCE fault)."""
        row = self.store.get(int(record_id), kind) if record_id is not None else None
        if row is None:
            raise _refuse(rr.ID_FINDES, f"{FORMS[Form(kind)].id_element} {record_id} findes ikke")
        return row

    @staticmethod
    def _stored(model: BaseModel) -> dict[str, Any]:
        data = {
            ascii_stavemaade(k): v for k, v in model.model_dump(mode="json", by_alias=True, exclude_none=True).items()
        }
        for key in [k for k in data if k.endswith("Id") and k not in ("TilbudId",)]:
            data.pop(key)
        return data

    def _result(self, record_id: int, anmodning_id: int | None = None, iv_id: int | None = None) -> dict[str, Any]:
        return {"Id": record_id, _ANM: anmodning_id, _IVAER: iv_id}

    # ------------------------------------------------------------------ IndsaetData: myndighed
    def _save(self, kind: str, record: Any, **cols: Any) -> int:
        """Update the stored record with the record's SMDB id, or insert it: the webservice never deletes (§5.1).
        Only in a municipality the caller may write to (``adgang``)."""
        if self.adgang is not None:
            existing = self.store.get(record.smdb_id, kind) if record.smdb_id is not None else None
            kommuner = {existing.kommune if existing is not None else None, cols.get("kommune")} - {None} or {None}
            caller = getattr(self._local, "caller", None)
            for kommune in kommuner:
                if not self._may(caller, kommune):
                    raise SimFault("SIKKERHED", f"Certifikatet har ikke adgang til kommune {kommune}")
        if record.smdb_id is not None:
            self.store.update(record.smdb_id, self._stored(record))
            return int(record.smdb_id)
        return self.store.insert(kind, self._stored(record), **cols)

    @staticmethod
    def _owned(before: Kontaktforloeb, record: Any, stored: Any, label: str) -> None:
        """An update must name a record of this very course."""
        ids = [x.smdb_id for x in (stored if isinstance(stored, list) else [stored]) if x is not None]
        if record.smdb_id is not None and record.smdb_id not in ids:
            raise _refuse(rr.ID_I_FORLOEBET, f"{label} {record.smdb_id} hører ikke til forløbet")

    def _op_IndsaetIvaerksaettelse(self, args: dict[str, Any], caller: Caller) -> dict[str, Any]:
        anm: Anmodning = _parse(Anmodning, args["Anmodning"])
        iv: Ivaerksaettelse | None = (
            _parse(Ivaerksaettelse, args["Ivaerksaettelse"]) if "Ivaerksaettelse" in args else None
        )
        if anm.kommunekode is None:
            raise _refuse(rr.KOMMUNEKODE_ANGIVET)
        if iv is not None and iv.statsborgerskab not in (None, "99", *_LANDEKODER):
            raise _refuse(rr.LAND_FINDES, f"PersonStatsborgerskabKode {iv.statsborgerskab}")
        with self.store.transaction():
            before: Kontaktforloeb | None = None
            if anm.smdb_id is not None:
                before = self._course(self._row("ANM", anm.smdb_id))
                if str(before.cpr) != str(anm.cpr):
                    raise _refuse(rr.CPR_UAENDRET)
                after = before.model_copy(update={"anmodning": anm, "kommunekode": anm.kommunekode})
            else:
                after = Kontaktforloeb(kommunekode=anm.kommunekode, anmodning=anm)
            if iv is not None:
                if before is not None:
                    self._owned(before, iv, before.ivaerksaettelse, _IVAER)
                after = after.med_skema(iv)
            self._check(after, before)
            cols = {"cpr": str(anm.cpr), "kommune": anm.kommunekode}
            anm_id = self._save("ANM", anm, **cols)
            stored_iv = before.ivaerksaettelse if before is not None else None
            iv_id = stored_iv.smdb_id if stored_iv is not None else None
            if iv is not None:
                iv_id = self._save("IVÆR", iv, anmodning_id=anm_id, **cols)
            return self._result(iv_id if iv is not None and iv_id else anm_id, anm_id, iv_id)

    def _attach(
        self,
        kind: str,
        record: Any,
        iv_ref: Any,
        label: str,
        stored: Callable[[Kontaktforloeb], Any],
        merged: Callable[[Kontaktforloeb], Kontaktforloeb],
    ) -> dict[str, Any]:
        """Insert or update a form that hangs on an iværksættelse (TILB, KvalHep), checked against its course."""
        with self.store.transaction():
            iv_row = self._row("IVÆR", iv_ref)
            anm_row = self._row("ANM", iv_row.anmodning_id)
            before = self._course(anm_row)
            self._owned(before, record, stored(before), label)
            self._check(merged(before), before)
            rid = self._save(
                kind,
                record,
                cpr=anm_row.cpr,
                kommune=anm_row.kommune,
                anmodning_id=anm_row.id,
                ivaerksaettelse_id=iv_row.id,
            )
            return self._result(rid, anm_row.id, iv_row.id)

    def _op_IndsaetTilbudstilknytning(self, args: dict[str, Any], caller: Caller) -> dict[str, Any]:
        data = args["Tilbudstilknytning"]
        t: Tilbudstilknytning = _parse(Tilbudstilknytning, data)
        if t.tilbud_id not in _TILBUD_IDS:
            raise _refuse(rr.TILBUD_FINDES, f"TilbudId {t.tilbud_id}")
        return self._attach(
            "TILB",
            t,
            data.get(_IVAER),
            id_element(Form.TILB),
            lambda f: f.tilbud,
            lambda f: f.med_tilbud(t),
        )

    def _op_IndsaetKvalHep(self, args: dict[str, Any], caller: Caller) -> dict[str, Any]:
        data = args["KvalHep"]
        k: KvalHep = _parse(KvalHep, data)
        return self._attach(
            "KvalHep", k, data.get(_IVAER), id_element(Form.KVALHEP), lambda f: f.kvalhep, lambda f: f.med_skema(k)
        )

    def _op_AfslutBehandling(self, args: dict[str, Any], caller: Caller) -> dict[str, Any]:
        data = args["Afslutning"]
        a: Afslutning = _parse(Afslutning, data)
        with self.store.transaction():
            anm_row = self._row("ANM", data.get(_ANM))
            before = self._course(anm_row)
            self._owned(before, a, before.afslutning, id_element(Form.AFSL))
            self._check(before.med_skema(a), before)
            rid = self._save("AFSL", a, cpr=anm_row.cpr, kommune=anm_row.kommune, anmodning_id=anm_row.id)
            iv = before.ivaerksaettelse
            return self._result(rid, anm_row.id, iv.smdb_id if iv else None)

    # ------------------------------------------------------------------ IndsaetData: tilbud (legacy)
    def _indskrivningsforloeb(self, row: Row) -> Indskrivningsforloeb:
        return Indskrivningsforloeb.model_validate(
            {
                "INDS": {**row.data, _INDS: row.id},
                "YDEL": [
                    {**r.data, id_element(Form.YDEL): r.id} for r in self.store.find("YDEL", indskrivning_id=row.id)
                ],
                "UDSK": next(
                    ({**r.data, id_element(Form.UDSK): r.id} for r in self.store.find("UDSK", indskrivning_id=row.id)),
                    None,
                ),
            }
        )

    def _check_inds(
        self, after: Indskrivningsforloeb, before: Indskrivningsforloeb | None, others: list[Indskrivningsforloeb]
    ) -> None:
        new = nye_brud(after, before, others, self.today())
        if new:
            raise _rule_fault(new)

    def _op_IndsaetIndskrivning(self, args: dict[str, Any], caller: Caller) -> dict[str, Any]:
        i: Indskrivning = _parse(Indskrivning, args["Indskrivning"])
        with self.store.transaction():
            others = [
                self._indskrivningsforloeb(r) for r in self.store.find("INDS", cpr=str(i.cpr)) if r.id != i.smdb_id
            ]
            self._check_inds(Indskrivningsforloeb(indskrivning=i), None, others)
            if i.smdb_id is not None:
                self._row("INDS", i.smdb_id)
            return self._result(self._save("INDS", i, cpr=str(i.cpr), kommune=i.myndighed))

    def _op_IndsaetYdelse(self, args: dict[str, Any], caller: Caller) -> dict[str, Any]:
        data = args["Ydelse"]
        y: Ydelse = _parse(Ydelse, data)
        with self.store.transaction():
            row = self._row("INDS", data.get(_INDS))
            before = self._indskrivningsforloeb(row)
            ydelser = [x for x in before.ydelser if y.smdb_id is None or x.smdb_id != y.smdb_id] + [y]
            self._check_inds(before.model_copy(update={"ydelser": ydelser}), before, [])
            return self._result(self._save("YDEL", y, cpr=row.cpr, kommune=row.kommune, indskrivning_id=row.id))

    def _op_AfslutIndskrivning(self, args: dict[str, Any], caller: Caller) -> dict[str, Any]:
        data = args["Udskrivning"]
        u: Udskrivning = _parse(Udskrivning, data)
        with self.store.transaction():
            row = self._row("INDS", data.get(_INDS))
            before = self._indskrivningsforloeb(row)
            if before.udskrivning is not None and u.smdb_id is None:
                raise _refuse(rr.EN_UDSKRIVNING, "Indskrivningen er allerede udskrevet")
            self._check_inds(before.model_copy(update={"udskrivning": u}), before, [])
            return self._result(self._save("UDSK", u, cpr=row.cpr, kommune=row.kommune, indskrivning_id=row.id))

    def _op_IndsaetAsi(self, args: dict[str, Any], caller: Caller) -> dict[str, Any]:
        asi = args["Asi"]
        with self.store.transaction():
            cpr = None
            if asi.get(_ANM) is not None:
                row = self._row("ANM", asi[_ANM])
                cpr = row.cpr
                if date.fromisoformat(row.data["BehandlingAnmodningDato"]) >= date(2019, 7, 1):
                    raise _refuse(rr.ASI_FOER_2019)
            elif asi.get(_INDS) is not None:
                cpr = self._row("INDS", asi[_INDS]).cpr
            else:
                raise _refuse(rr.ASI_HENVISNING)
            data = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in asi.items() if not k.endswith("Id")}
            rid = self.store.insert("ASI", data, cpr=cpr, anmodning_id=asi.get(_ANM), indskrivning_id=asi.get(_INDS))
            return self._result(rid, asi.get(_ANM))
