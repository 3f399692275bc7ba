"""A simulated NemLog-in STS: issues signed SAML 2.0 holder-of-key assertions to trusted client certificates.

Its signing key is generated at start. The simulator's SMDB side, in ``auth="sts"`` mode, accepts only requests
that carry a valid assertion from this STS (signature, audience, validity window) and are signed by the key the
assertion names.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from cryptography import x509
from lxml import etree

from smdb.auth import testcert
from smdb.auth.certificates import Credentials
from smdb.auth.sts import (
    PUBLIC_KEY,
    SAML2_TOKEN,
    WSA_NS,
    WSP_NS,
    WST_NS,
    issue_assertion,
)
from smdb.auth.wsse import SOAP_NS, WSSE_NS, WSU_NS, _parse_ts, _ts, verify_envelope
from smdb.errors import SecurityError, TimestampOutOfWindow
from smdb.sim.codec import PARSER

STS_PATH = "/sts/service.svc"
#: The entity id of the simulated SMDB service (what clients ask tokens for).
SIM_AUDIENCE = "https://smdb-simulator.local/smdbwebservice"
SIM_ISSUER = "https://sts.smdb-simulator.local"


class _StsFault(Exception):
    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class SimSts:
    def __init__(
        self,
        trusted: list[x509.Certificate],
        audiences: list[str] | None = None,
        credentials: Credentials | None = None,
        issuer: str = SIM_ISSUER,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        max_lifetime: timedelta = timedelta(hours=8),
    ) -> None:
        self.trusted = trusted
        self.audiences = audiences or [SIM_AUDIENCE]
        self.credentials = credentials or testcert.generate("Simuleret NemLog-in STS", "34051178")
        self.issuer = issuer
        self.clock = clock
        self.max_lifetime = max_lifetime
        self.issued = 0

    @property
    def certificate(self) -> x509.Certificate:
        return self.credentials.certificate

    def handle(self, body: bytes) -> tuple[str, bytes]:
        try:
            return "200 OK", self._issue(body)
        except _StsFault as fault:
            return "500 Internal Server Error", self._fault(fault)

    def _issue(self, body: bytes) -> bytes:
        try:
            env = etree.fromstring(body, PARSER)
        except etree.XMLSyntaxError:
            raise _StsFault("wst:InvalidRequest", "Anmodningen er ikke XML") from None
        now = self.clock()
        try:
            signer = verify_envelope(env, self.trusted, now=now)
        except SecurityError as exc:
            code = "wsse:MessageExpired" if isinstance(exc, TimestampOutOfWindow) else "wst:FailedAuthentication"
            raise _StsFault(code, str(exc)) from None
        rst = env.find(f"{{{SOAP_NS}}}Body/{{{WST_NS}}}RequestSecurityToken")
        if rst is None:
            raise _StsFault("wst:InvalidRequest", "Ingen RequestSecurityToken")
        if rst.findtext(f"{{{WST_NS}}}TokenType") != SAML2_TOKEN or rst.findtext(f"{{{WST_NS}}}KeyType") != PUBLIC_KEY:
            raise _StsFault("wst:InvalidRequest", "Kun SAML 2.0-tokens med offentlig nøgle udstedes")
        audience = rst.findtext(f"{{{WSP_NS}}}AppliesTo/{{{WSA_NS}}}EndpointReference/{{{WSA_NS}}}Address")
        if audience not in self.audiences:
            raise _StsFault("wst:InvalidScope", f"Ukendt tjeneste (AppliesTo): {audience}")
        use_key = rst.findtext(f"{{{WST_NS}}}UseKey/{{{WSSE_NS}}}BinarySecurityToken")
        if not use_key or x509.load_der_x509_certificate(base64.b64decode(use_key)) != signer:
            raise _StsFault("wst:InvalidRequest", "UseKey skal være det certifikat, anmodningen er signeret med")
        requested = rst.findtext(f"{{{WST_NS}}}Lifetime/{{{WSU_NS}}}Expires")
        expires = now + self.max_lifetime
        if requested:
            try:
                expires = min(expires, _parse_ts(requested))
            except SecurityError as exc:
                raise _StsFault("wst:InvalidTimeRange", str(exc)) from None
        if expires <= now:
            raise _StsFault("wst:InvalidTimeRange", "Den ønskede levetid er udløbet")
        serials = signer.subject.get_attributes_for_oid(x509.oid.NameOID.SERIAL_NUMBER)
        m = re.search(r"CVR:(\d{8})", str(serials[0].value)) if serials else None
        assertion = issue_assertion(
            self.credentials,
            self.issuer,
            audience,
            signer,
            now - timedelta(seconds=30),
            expires,
            {"dk:gov:saml:attribute:CvrNumberIdentifier": m.group(1) if m else ""},
        )
        self.issued += 1
        return self._response(assertion, audience, now, expires)

    @staticmethod
    def _response(assertion: etree._Element, audience: str, created: datetime, expires: datetime) -> bytes:
        env = etree.Element(f"{{{SOAP_NS}}}Envelope", nsmap={"s": SOAP_NS})
        body = etree.SubElement(env, f"{{{SOAP_NS}}}Body")
        coll = etree.SubElement(
            body, f"{{{WST_NS}}}RequestSecurityTokenResponseCollection", nsmap={"wst": WST_NS, "wsu": WSU_NS}
        )
        rstr = etree.SubElement(coll, f"{{{WST_NS}}}RequestSecurityTokenResponse")
        etree.SubElement(rstr, f"{{{WST_NS}}}TokenType").text = SAML2_TOKEN
        etree.SubElement(rstr, f"{{{WST_NS}}}RequestedSecurityToken").append(assertion)
        applies = etree.SubElement(rstr, f"{{{WSP_NS}}}AppliesTo", nsmap={"wsp": WSP_NS})
        etree.SubElement(
            etree.SubElement(applies, f"{{{WSA_NS}}}EndpointReference"), f"{{{WSA_NS}}}Address"
        ).text = audience
        lifetime = etree.SubElement(rstr, f"{{{WST_NS}}}Lifetime")
        etree.SubElement(lifetime, f"{{{WSU_NS}}}Created").text = _ts(created)
        etree.SubElement(lifetime, f"{{{WSU_NS}}}Expires").text = _ts(expires)
        out: bytes = etree.tostring(env, xml_declaration=True, encoding="utf-8")
        return out

    @staticmethod
    def _fault(fault: _StsFault) -> bytes:
        env = etree.Element(f"{{{SOAP_NS}}}Envelope", nsmap={"s": SOAP_NS, "wst": WST_NS, "wsse": WSSE_NS})
        f = etree.SubElement(etree.SubElement(env, f"{{{SOAP_NS}}}Body"), f"{{{SOAP_NS}}}Fault")
        etree.SubElement(f, "faultcode").text = fault.code
        etree.SubElement(f, "faultstring").text = fault.reason
        out: bytes = etree.tostring(env, xml_declaration=True, encoding="utf-8")
        return out
