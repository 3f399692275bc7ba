"""A simulated NemLog-in STS: issues signed SAML 2.0 holder-of-key assertions to trusted client certificates.

Its signing key is generated at start. The simulator's SMDB side, in ``auth="sts"`` mode, accepts only requests
that carry a valid assertion from this STS (signature, audience, validity window) and are signed by the key the
assertion names.
"""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree
from signxml.algorithms import DigestAlgorithm, SignatureConstructionMethod, SignatureMethod
from signxml.exceptions import InvalidInput, InvalidSignature
from signxml.signer import XMLSigner
from signxml.verifier import XMLVerifier

from smdb.auth import strtransform, testcert, xmldsig
from smdb.auth.certificates import Credentials
from smdb.auth.sts import (
    _PARSER,
    HOLDER_OF_KEY,
    ISSUE_ACTION,
    PUBLIC_KEY,
    SAML2_TOKEN,
    SIGNATURE_CASE_ENTITY_ID,
    WSP_NS,
    WST_NS,
)
from smdb.auth.wsse import (
    CLOCK_SKEW,
    DS_NS,
    EXC_C14N,
    MAX_MESSAGE_LIFETIME,
    SAML2_NS,
    SOAP_NS,
    WSA_NS,
    WSSE_NS,
    WSU_NS,
    _parse_ts,
    _ts,
    soap_ns,
    verify_envelope_covering,
    verify_timestamp_and_signature,
)
from smdb.auth.xmlenc import ENCRYPTED_ID, decrypt_assertion, encrypt_assertion
from smdb.errors import SecurityError, TimestampOutOfWindow

# The STS family lives in smdb.errors (one exception tree); these names stay importable from here.
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
    """A simulated NemLog-in STS, at least as strict as the real one is documented to be (docs/security.md has
    the conformance table): the RST must be addressed to its entity id, carry AppliesTo in the 2002/12 policy
    namespace and times without fractions, and have every header element signed, the BinarySecurityToken
    included. Its answers are shaped as NemLog-in's: a signed RSTR (RelatesTo the request) whose token is an
    EncryptedAssertion for the service, named by RequestedAttachedReference; faults nested in a second Envelope
    with ``wst:``-qualified faultcode and faultstring."""

    def __init__(
        self,
        trusted: list[x509.Certificate],
        audiences: list[str] | None = None,
        credentials: Credentials | None = None,
        issuer: str = SIM_ISSUER,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        max_lifetime: timedelta = timedelta(hours=8),
        entity_id: str = SIGNATURE_CASE_ENTITY_ID,
        recipient: Callable[[], x509.Certificate | None] = lambda: None,
    ) -> None:
        self.trusted = trusted
        self.audiences = audiences or [SIM_AUDIENCE]
        self.credentials = credentials or testcert.generate("Simuleret NemLog-in STS", "34051178")
        self.issuer = issuer
        self.clock = clock
        self.max_lifetime = max_lifetime
        self.entity_id = entity_id
        #: The certificate of the service the tokens are for (they are encrypted for it); None: not encrypted.
        self.recipient = recipient
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
            signer, covered = verify_envelope_covering(env, self.trusted, now=now)
        except SecurityError as exc:
            code = "wsse:MessageExpired" if isinstance(exc, TimestampOutOfWindow) else "wst:FailedAuthentication"
            raise _StsFault(code, str(exc)) from None
        self._check_signed_headers(env, covered)
        header = env.find(f"{{{SOAP_NS}}}Header")
        assert header is not None  # verify_envelope found the Security header in it
        to = (header.findtext(f"{{{WSA_NS}}}To") or "").strip()
        if to != self.entity_id:
            raise _StsFault(
                "wst:InvalidRequest", f"wsa:To skal være STS'ens entity id {self.entity_id} (fik {to[:80]})"
            )
        message_id = (header.findtext(f"{{{WSA_NS}}}MessageID") or "").strip()
        if not re.fullmatch(r"(urn:)?uuid:[0-9a-fA-F-]{36}", message_id):
            raise _StsFault("wst:InvalidRequest", "wsa:MessageID mangler eller er ikke en uuid")
        rst = env.find(f"{{{SOAP_NS}}}Body/{{{WST_NS}}}RequestSecurityToken")
        if rst is None:
            raise _StsFault("wst:InvalidRequest", "Ingen RequestSecurityToken")
        if rst.findtext(f"{{{WST_NS}}}TokenType") != SAML2_TOKEN or rst.findtext(f"{{{WST_NS}}}KeyType") != PUBLIC_KEY:
            raise _StsFault("wst:InvalidRequest", "Kun SAML 2.0-tokens med offentlig nøgle udstedes")
        audience = rst.findtext(f"{{{WSP_NS}}}AppliesTo/{{{WSA_NS}}}EndpointReference/{{{WSA_NS}}}Address")
        if audience is None:
            raise _StsFault("wst:InvalidRequest", f"AppliesTo mangler (forventet i navnerummet {WSP_NS})")
        if audience not in self.audiences:
            raise _StsFault("wst:InvalidScope", f"Ukendt tjeneste (AppliesTo): {audience}")
        use_key = rst.findtext(f"{{{WST_NS}}}UseKey/{{{WSSE_NS}}}BinarySecurityToken")
        if not use_key or x509.load_der_x509_certificate(base64.b64decode(use_key)) != signer:
            raise _StsFault("wst:InvalidRequest", "UseKey skal være det certifikat, anmodningen er signeret med")
        requested = rst.findtext(f"{{{WST_NS}}}Lifetime/{{{WSU_NS}}}Expires")
        expires = now + self.max_lifetime
        if requested:
            if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", requested.strip()):
                raise _StsFault("wst:InvalidTimeRange", "Lifetime/Expires skal have formen yyyy-MM-ddTHH:mm:ssZ")
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
        recipient = self.recipient()
        token = encrypt_assertion(assertion, recipient) if recipient is not None else assertion
        return self._response(token, audience, now, expires, message_id, rst.get("Context"))

    @staticmethod
    def _check_signed_headers(env: etree._Element, covered: list[etree._Element]) -> None:
        """The STS rules: every header element (WS-Addressing and the BinarySecurityToken too) is signed."""
        sec = env.find(f"{{{SOAP_NS}}}Header/{{{WSSE_NS}}}Security")
        if sec is None:  # pragma: no cover - verification above requires it
            raise _StsFault("wst:FailedAuthentication", "Anmodningen er ikke signeret")
        header = sec.getparent()
        must = [el for el in (header if header is not None else []) if isinstance(el.tag, str) and el is not sec]
        must += [el for el in sec if el.tag == f"{{{WSSE_NS}}}BinarySecurityToken"]
        unsigned = [etree.QName(el).localname for el in must if not any(c is el for c in covered)]
        if unsigned:
            raise _StsFault(
                "wsse:InvalidSecurity", f"Alle headerelementer skal signeres; usigneret: {', '.join(unsigned)}"
            )

    def _response(
        self,
        token: etree._Element,
        audience: str,
        created: datetime,
        expires: datetime,
        relates_to: str,
        context: str | None,
    ) -> bytes:
        env = etree.Element(f"{{{SOAP_NS}}}Envelope", nsmap={"s": SOAP_NS, "wsa": WSA_NS, "wsu": WSU_NS})
        header = etree.SubElement(env, f"{{{SOAP_NS}}}Header")
        ids = []
        for name, value in (
            ("Action", ISSUE_ACTION),
            ("MessageID", f"uuid:{uuid.uuid4()}"),
            ("RelatesTo", relates_to),
        ):
            el = etree.SubElement(header, f"{{{WSA_NS}}}{name}")
            el.text = value
            el.set(f"{{{WSU_NS}}}Id", name.lower())
            ids.append(el)
        sec = etree.SubElement(header, f"{{{WSSE_NS}}}Security", nsmap={"wsse": WSSE_NS})
        sec.set(f"{{{SOAP_NS}}}mustUnderstand", "1")
        ts = etree.SubElement(sec, f"{{{WSU_NS}}}Timestamp")
        ts.set(f"{{{WSU_NS}}}Id", "sec_timestamp")
        etree.SubElement(ts, f"{{{WSU_NS}}}Created").text = _ts(created)
        etree.SubElement(ts, f"{{{WSU_NS}}}Expires").text = _ts(created + timedelta(minutes=5))
        body = etree.SubElement(env, f"{{{SOAP_NS}}}Body")
        body.set(f"{{{WSU_NS}}}Id", "body")
        coll = etree.SubElement(body, f"{{{WST_NS}}}RequestSecurityTokenResponseCollection", nsmap={"wst": WST_NS})
        rstr = etree.SubElement(coll, f"{{{WST_NS}}}RequestSecurityTokenResponse")
        if context:
            rstr.set("Context", context)
        etree.SubElement(rstr, f"{{{WST_NS}}}TokenType").text = SAML2_TOKEN
        applies = etree.SubElement(rstr, f"{{{WSP_NS}}}AppliesTo", nsmap={"wsp": WSP_NS})
        etree.SubElement(
            etree.SubElement(applies, f"{{{WSA_NS}}}EndpointReference"), f"{{{WSA_NS}}}Address"
        ).text = audience
        etree.SubElement(rstr, f"{{{WST_NS}}}RequestedSecurityToken").append(token)
        token_id = token.get("ID") or ENCRYPTED_ID
        for name in ("RequestedAttachedReference", "RequestedUnattachedReference"):
            ref = etree.SubElement(
                etree.SubElement(etree.SubElement(rstr, f"{{{WST_NS}}}{name}"), f"{{{WSSE_NS}}}SecurityTokenReference"),
                f"{{{WSSE_NS}}}Reference",
            )
            ref.set("URI", f"#{token_id}")
        lifetime = etree.SubElement(rstr, f"{{{WST_NS}}}Lifetime")
        etree.SubElement(lifetime, f"{{{WSU_NS}}}Created").text = _ts(created)
        etree.SubElement(lifetime, f"{{{WSU_NS}}}Expires").text = _ts(expires)
        key_info = etree.Element(f"{{{DS_NS}}}KeyInfo", nsmap={"ds": DS_NS})
        x509_data = etree.SubElement(key_info, f"{{{DS_NS}}}X509Data")
        etree.SubElement(x509_data, f"{{{DS_NS}}}X509Certificate").text = base64.b64encode(
            self.certificate.public_bytes(serialization.Encoding.DER)
        ).decode()
        xmldsig.sign(sec, [*ids, ts, body], self.credentials.private_key, key_info)
        out: bytes = etree.tostring(env, xml_declaration=True, encoding="utf-8")
        return out

    @staticmethod
    def _fault(fault: _StsFault) -> bytes:
        """NemLog-in's fault shape, as OIOIDWS.Net meets it: the fault in a second Envelope inside the Body, its
        faultcode and faultstring in the WS-Trust namespace (a default namespace), the code's prefix undeclared."""
        outer = etree.Element(f"{{{SOAP_NS}}}Envelope", nsmap={"s": SOAP_NS})
        inner = etree.SubElement(
            etree.SubElement(outer, f"{{{SOAP_NS}}}Body"), f"{{{SOAP_NS}}}Envelope", nsmap={None: WST_NS}
        )
        f = etree.SubElement(etree.SubElement(inner, f"{{{SOAP_NS}}}Body"), f"{{{SOAP_NS}}}Fault")
        etree.SubElement(f, f"{{{WST_NS}}}faultcode").text = fault.code
        etree.SubElement(f, f"{{{WST_NS}}}faultstring").text = fault.reason
        out: bytes = etree.tostring(outer, xml_declaration=True, encoding="utf-8")
        return out


# ---------------------------------------------------------------------- the token, from the STS to the service
def issue_assertion(
    sts: Credentials,
    issuer: str,
    audience: str,
    holder: x509.Certificate,
    not_before: datetime,
    not_on_or_after: datetime,
    attributes: dict[str, str] | None = None,
) -> etree._Element:
    """A signed SAML 2.0 holder-of-key assertion naming ``holder`` (what a NemLog-in STS returns)."""
    nsmap = {"saml": SAML2_NS, "ds": DS_NS}
    a_id = f"_{uuid.uuid4()}"
    a = etree.Element(f"{{{SAML2_NS}}}Assertion", nsmap=nsmap, ID=a_id, Version="2.0", IssueInstant=_ts(not_before))
    etree.SubElement(a, f"{{{SAML2_NS}}}Issuer").text = issuer
    etree.SubElement(a, f"{{{DS_NS}}}Signature", Id="placeholder")
    subject = etree.SubElement(a, f"{{{SAML2_NS}}}Subject")
    name_id = etree.SubElement(subject, f"{{{SAML2_NS}}}NameID")
    name_id.set("Format", "urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName")
    name_id.text = holder.subject.rfc4514_string()
    conf = etree.SubElement(subject, f"{{{SAML2_NS}}}SubjectConfirmation", Method=HOLDER_OF_KEY)
    data = etree.SubElement(conf, f"{{{SAML2_NS}}}SubjectConfirmationData")
    key_info = etree.SubElement(data, f"{{{DS_NS}}}KeyInfo")
    x509_data = etree.SubElement(key_info, f"{{{DS_NS}}}X509Data")
    etree.SubElement(x509_data, f"{{{DS_NS}}}X509Certificate").text = base64.b64encode(
        holder.public_bytes(Encoding.DER)
    ).decode()
    cond = etree.SubElement(
        a, f"{{{SAML2_NS}}}Conditions", NotBefore=_ts(not_before), NotOnOrAfter=_ts(not_on_or_after)
    )
    restriction = etree.SubElement(cond, f"{{{SAML2_NS}}}AudienceRestriction")
    etree.SubElement(restriction, f"{{{SAML2_NS}}}Audience").text = audience
    if attributes:
        stmt = etree.SubElement(a, f"{{{SAML2_NS}}}AttributeStatement")
        for name, value in attributes.items():
            attr = etree.SubElement(stmt, f"{{{SAML2_NS}}}Attribute", Name=name)
            etree.SubElement(attr, f"{{{SAML2_NS}}}AttributeValue").text = value
    signer = XMLSigner(
        method=SignatureConstructionMethod.enveloped,
        signature_algorithm=SignatureMethod.RSA_SHA256,
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm=EXC_C14N,
    )
    signed: etree._Element = signer.sign(a, key=sts.private_key, cert=[sts.certificate], reference_uri=f"#{a_id}")
    return signed


# ----------------------------------------------------------------------------- verification (service side)
@dataclass(frozen=True)
class HolderOfKey:
    """What a verified STS-mode request proves: who holds the key, and for whom the STS vouched."""

    certificate: x509.Certificate
    assertion_id: str
    issuer: str


def verify_assertion(
    assertion: etree._Element,
    sts_certificates: list[x509.Certificate],
    audience: str,
    now: datetime,
    skew: timedelta = CLOCK_SKEW,
) -> tuple[x509.Certificate, str]:
    """Check the STS's signature, the audience and the validity window; return (holder certificate, issuer)."""
    standalone = etree.tostring(assertion)
    a_id = assertion.get("ID")
    last_error: Exception | None = None
    for sts_cert in sts_certificates:
        try:
            result = XMLVerifier().verify(standalone, x509_cert=sts_cert)
        except (InvalidSignature, InvalidInput) as exc:
            last_error = exc
            continue
        signed = result.signed_xml if not isinstance(result, list) else result[0].signed_xml
        if signed is None or signed.get("ID") != a_id:
            raise SecurityError("STS-signaturen dækker ikke hele tokenet")
        break
    else:
        raise SecurityError(f"Tokenet er ikke udstedt af en betroet STS ({last_error})")
    cond = assertion.find(f"{{{SAML2_NS}}}Conditions")
    if cond is None:
        raise SecurityError("Tokenet mangler Conditions")
    not_before = _parse_ts(cond.get("NotBefore"))
    not_after = _parse_ts(cond.get("NotOnOrAfter"))
    if now + skew < not_before or now - skew >= not_after:
        raise SecurityError("Tokenet er udløbet eller endnu ikke gyldigt")
    audiences = [a.text for a in cond.iter(f"{{{SAML2_NS}}}Audience")]
    if audience not in audiences:
        raise SecurityError(f"Tokenet er udstedt til en anden tjeneste ({', '.join(str(a) for a in audiences)})")
    conf = assertion.find(f"{{{SAML2_NS}}}Subject/{{{SAML2_NS}}}SubjectConfirmation")
    if conf is None or conf.get("Method") != HOLDER_OF_KEY:
        raise SecurityError("Tokenet er ikke holder-of-key")
    cert_text = conf.findtext(f".//{{{DS_NS}}}X509Certificate")
    if not cert_text:
        raise SecurityError("Tokenet angiver ikke nøgleindehaverens certifikat")
    holder = x509.load_der_x509_certificate(base64.b64decode(cert_text))
    return holder, assertion.findtext(f"{{{SAML2_NS}}}Issuer") or ""


def verify_holder_of_key(
    envelope: etree._Element,
    sts_certificates: list[x509.Certificate],
    audience: str,
    now: datetime | None = None,
    skew: timedelta = CLOCK_SKEW,
    max_lifetime: timedelta = MAX_MESSAGE_LIFETIME,
    decryption_key: rsa.RSAPrivateKey | None = None,
) -> HolderOfKey:
    """An STS-mode request as OIO-IDWS SOAP Binding 1.1 has it: a valid token from a trusted STS for this service
    (an EncryptedAssertion is decrypted with ``decryption_key``, the service's), a SecurityTokenReference naming
    it, and a message signature made by the key the token names that covers every header element, the Timestamp,
    the Body, and the token through the STR-Transform."""
    now = now or datetime.now(UTC)
    sec = envelope.find(f"{{{soap_ns(envelope)}}}Header/{{{WSSE_NS}}}Security")
    if sec is None:
        raise SecurityError("Beskeden har ingen wsse:Security")
    token = sec.find(f"{{{SAML2_NS}}}Assertion")
    if token is None:
        token = sec.find(f"{{{SAML2_NS}}}EncryptedAssertion")
    if token is None:
        raise SecurityError("Beskeden har intet SAML-token fra STS'en")
    if token.tag == f"{{{SAML2_NS}}}EncryptedAssertion":
        if decryption_key is None:
            raise SecurityError("Tokenet er krypteret, og tjenesten har ingen nøgle til det")
        assertion = decrypt_assertion(token, decryption_key, _PARSER)
    else:
        assertion = token
    holder, issuer = verify_assertion(assertion, sts_certificates, audience, now, skew)
    signature = sec.find(f"{{{DS_NS}}}Signature")
    if signature is None:
        raise SecurityError("Beskeden er ikke signeret med nøglen i tokenet")
    key_ref = signature.find(f"{{{DS_NS}}}KeyInfo/{{{WSSE_NS}}}SecurityTokenReference")
    try:
        if key_ref is None or strtransform.dereference(key_ref) is not token:
            raise SecurityError("Signaturen henviser ikke til tokenet")
        covered = verify_timestamp_and_signature(envelope, sec, holder, now, skew, max_lifetime)
    except TimestampOutOfWindow:
        raise
    except SecurityError as exc:
        raise SecurityError(f"Beskeden er ikke signeret af den nøgle, tokenet er udstedt til ({exc})") from None
    token_refs = [el for el in covered if el.tag == f"{{{WSSE_NS}}}SecurityTokenReference" and el.getparent() is sec]
    if not any(strtransform.dereference(el) is token for el in token_refs):
        raise SecurityError("Signaturen dækker ikke tokenet (STR-Transform over en SecurityTokenReference)")
    header = sec.getparent()
    unsigned = [
        etree.QName(el).localname
        for el in (header if header is not None else [])
        if isinstance(el.tag, str) and el is not sec and not any(c is el for c in covered)
    ]
    if unsigned:
        raise SecurityError(f"Signaturen dækker ikke headerelementerne {', '.join(unsigned)}")
    return HolderOfKey(holder, assertion.get("ID") or "", issuer)
