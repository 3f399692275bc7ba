"""NemLog-in STS (OIO-IDWS): get a SAML token for SMDB from a security token service, then call SMDB with it.

The flow, step by step (docs/security.md has the long version):

1. We send a WS-Trust 1.3 ``RequestSecurityToken`` (Issue) to the STS, signed with the organisation certificate
   (Timestamp, BinarySecurityToken, WS-Addressing Action/MessageID/To, all signed), asking for a SAML 2.0 token for
   the SMDB service's entity id (``AppliesTo``), key type *public key*, bound to our certificate (``UseKey``), with a
   requested lifetime.
2. The STS answers with a signed SAML 2.0 assertion (holder-of-key, naming our certificate). We treat it as opaque
   (it may be encrypted for the service), cache it per audience and renew it shortly before it expires.
3. Every SMDB request carries the assertion in ``wsse:Security`` and is signed with our key, the signature's
   KeyInfo referring to the assertion (SAMLID key identifier): holder-of-key proof.

The STS URLs and entity ids are not in the Kravspecifikation; DST hands vendors an "STS-vejledning og PoC til
NemLog-In/MitID" (§7.1). They are configuration (:class:`StsConfig`) with documented defaults to be checked
against that guide.
"""

from __future__ import annotations

import base64
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import requests
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree

from smdb.auth import strtransform, xmldsig
from smdb.auth.certificates import Credentials
from smdb.auth.wsse import (
    _WSU_ID,
    B64,
    CLOCK_SKEW,
    DS_NS,
    SAML2_NS,
    SOAP_NS,
    WSA_NS,
    WSSE_NS,
    WSU_NS,
    X509V3,
    _parse_ts,
    _ts_seconds,
    check_structure,
    sign_envelope,
)
from smdb.cpr import scrub
from smdb.errors import SecurityError

# The STS family lives in smdb.errors (one exception tree); these names stay importable from here.
from smdb.errors import StsAuthenticationFailed as StsAuthenticationFailed
from smdb.errors import StsClockSkew as StsClockSkew
from smdb.errors import StsError as StsError
from smdb.errors import StsUnavailable as StsUnavailable
from smdb.errors import StsUnknownAudience as StsUnknownAudience
from smdb.http import DeadlineExceeded, RedirectRefused, ResponseTooLarge, bounded_post

WST_NS = "http://docs.oasis-open.org/ws-sx/ws-trust/200512"
#: The WS-Policy namespace of AppliesTo that the NemLog-in STS reads (the reference implementations' RSTs and
#: RSTRs; OIOIDWS.Net rewrites WCF's newer namespace to this one): an AppliesTo in another namespace is not found.
WSP_NS = "http://schemas.xmlsoap.org/ws/2002/12/policy"
#: W3C WS-Policy 1.5: what this library wrongly used before; the simulated STS refuses it, as NemLog-in would.
WSP_W3C_NS = "http://www.w3.org/ns/ws-policy"
#: NemLog-in STS entity ids (wsa:To of an RST), from OIOIDWS.Net: the signature case is an organisation signing
#: with its own certificate, as SMDB's system users do.
SIGNATURE_CASE_ENTITY_ID = "https://signature.sts.nemlog-in.dk/"
ISSUE_ACTION = "http://docs.oasis-open.org/ws-sx/ws-trust/200512/RST/Issue"
ISSUE_REQUEST = "http://docs.oasis-open.org/ws-sx/ws-trust/200512/Issue"
PUBLIC_KEY = "http://docs.oasis-open.org/ws-sx/ws-trust/200512/PublicKey"
SAML2_TOKEN = "http://docs.oasis-open.org/wss/oasis-wss-saml-token-profile-1.1#SAMLV2.0"
HOLDER_OF_KEY = "urn:oasis:names:tc:SAML:2.0:cm:holder-of-key"

#: Defaults (assumptions; check them against DST's STS guide): the NemLog-in STS endpoints and SMDB entity ids.
STS_TEST_URL = "https://securetokenservice.test-nemlog-in.dk/SecurityTokenService.svc"
STS_PROD_URL = "https://securetokenservice.nemlog-in.dk/SecurityTokenService.svc"
AUDIENCE_PREPROD = "https://smdbpreprodws.dst.dk/smdbwebservice"
AUDIENCE_PROD = "https://smdbws.dst.dk/smdbwebservice"


@dataclass(frozen=True)
class StsConfig:
    """Where the STS is and what to ask it for."""

    endpoint: str = STS_TEST_URL
    audience: str = AUDIENCE_PREPROD
    lifetime: timedelta = timedelta(hours=8)
    #: Renew this long before the token expires, so that no request carries a token that expires in flight.
    renew_before: timedelta = timedelta(minutes=5)
    timeout: tuple[float, float] = (5.0, 30.0)
    claims: tuple[str, ...] = field(default_factory=tuple)
    #: The STS's entity id: the RST's wsa:To (not the endpoint URL; the STS refuses a message not addressed to it).
    entity_id: str = SIGNATURE_CASE_ENTITY_ID
    #: The STS's signing certificate(s): when given, an RSTR whose signature does not verify with one of them is
    #: refused before its token is used (configured means enforced).
    certificates: tuple[x509.Certificate, ...] = ()
    #: Accept an RSTR signed with RSA-SHA1 (the reference STS samples are); off unless the STS needs it.
    allow_sha1: bool = False

    @classmethod
    def for_environment(cls, prod: bool) -> StsConfig:
        """The default STS endpoint and SMDB audience of production or PreProd (assumptions, docs/security.md)."""
        return cls(STS_PROD_URL, AUDIENCE_PROD) if prod else cls(STS_TEST_URL, AUDIENCE_PREPROD)


@dataclass(frozen=True)
class Token:
    """An issued token: the token element as the STS returned it (a SAML assertion, or an EncryptedAssertion we
    cannot and need not read), the id to reference it by (RequestedAttachedReference), when it expires, for whom."""

    assertion: etree._Element
    assertion_id: str
    expires: datetime
    audience: str


# ----------------------------------------------------------------------------- the request (client)
def build_issue_request(creds: Credentials, config: StsConfig, now: datetime) -> tuple[bytes, str]:
    """A signed WS-Trust 1.3 Issue request for a holder-of-key SAML 2.0 token bound to our certificate, shaped as
    the NemLog-in STS rules and the reference implementations' RSTs: wsa:To the STS's entity id, MessageID
    ``uuid:…``, AppliesTo in the 2002/12 policy namespace, times without fractions, and every header element
    (Action, MessageID, To, Timestamp, BinarySecurityToken) and the Body signed. Returns (request, MessageID)."""
    env = etree.Element(f"{{{SOAP_NS}}}Envelope", nsmap={"s": SOAP_NS, "wsa": WSA_NS, "wsu": WSU_NS})
    header = etree.SubElement(env, f"{{{SOAP_NS}}}Header")
    message_id = f"uuid:{uuid.uuid4()}"
    ids = []
    for name, value in (("Action", ISSUE_ACTION), ("MessageID", message_id), ("To", config.entity_id)):
        el = etree.SubElement(header, f"{{{WSA_NS}}}{name}")
        el.text = value
        el_id = f"{name.lower()}-{uuid.uuid4()}"
        el.set(_WSU_ID, el_id)
        ids.append(el_id)
    body = etree.SubElement(env, f"{{{SOAP_NS}}}Body")
    rst = etree.SubElement(body, f"{{{WST_NS}}}RequestSecurityToken", nsmap={"wst": WST_NS, "wsp": WSP_NS})
    rst.set("Context", f"urn:uuid:{uuid.uuid4()}")
    etree.SubElement(rst, f"{{{WST_NS}}}TokenType").text = SAML2_TOKEN
    etree.SubElement(rst, f"{{{WST_NS}}}RequestType").text = ISSUE_REQUEST
    applies = etree.SubElement(rst, f"{{{WSP_NS}}}AppliesTo")
    epr = etree.SubElement(applies, f"{{{WSA_NS}}}EndpointReference")
    etree.SubElement(epr, f"{{{WSA_NS}}}Address").text = config.audience
    etree.SubElement(rst, f"{{{WST_NS}}}KeyType").text = PUBLIC_KEY
    use_key = etree.SubElement(rst, f"{{{WST_NS}}}UseKey")
    bst = etree.SubElement(use_key, f"{{{WSSE_NS}}}BinarySecurityToken", nsmap={"wsse": WSSE_NS})
    bst.set("ValueType", X509V3)
    bst.set("EncodingType", B64)
    bst.text = base64.b64encode(creds.cert_der()).decode()
    lifetime = etree.SubElement(rst, f"{{{WST_NS}}}Lifetime")
    etree.SubElement(lifetime, f"{{{WSU_NS}}}Expires").text = _ts_seconds(now + config.lifetime)
    if config.claims:
        claims = etree.SubElement(rst, f"{{{WST_NS}}}Claims")
        for claim in config.claims:
            etree.SubElement(claims, f"{{{WST_NS}}}ClaimType").set("Uri", claim)
    sign_envelope(env, creds, now=now, extra_ids=tuple(ids), sign_token=True, seconds_only=True)
    out: bytes = etree.tostring(env, xml_declaration=True, encoding="utf-8")
    return out, message_id


#: Comments are dropped at parse time: exclusive c14n ignores them, so a comment inside a signed value (an
#: Audience, an id) would verify while the parsed text differs from what was signed.
_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False, remove_comments=True
)

#: The fault codes the NemLog-in STS rules list (WS-Trust and WS-Security, local names) -> what to tell a support
#: desk. Codes outside the list still raise StsError with the STS's own code and text.
_FAULTS: dict[str, tuple[type[StsError], str]] = {
    "FailedAuthentication": (
        StsAuthenticationFailed,
        "STS'en afviste certifikatet: er organisationscertifikatet registreret hos NemLog-in og gyldigt?",
    ),
    "InvalidSecurity": (
        StsAuthenticationFailed,
        "STS'en kunne ikke verificere signaturen: bruges den rigtige private nøgle til certifikatet?",
    ),
    "InvalidSecurityToken": (
        StsAuthenticationFailed,
        "STS'en kunne ikke bruge certifikatet i anmodningen (BinarySecurityToken): er det organisationens "
        "gyldige certifikat?",
    ),
    "InvalidRequest": (StsError, "STS'en forstod ikke anmodningen (InvalidRequest): kontroller STS-konfigurationen"),
    "BadRequest": (StsError, "STS'en afviste anmodningen som fejlformet (BadRequest)"),
    "RequestFailed": (StsError, "STS'en kunne ikke udstede et token (RequestFailed): prøv igen senere"),
    "InvalidScope": (
        StsUnknownAudience,
        "STS'en kender ikke tjenesten (AppliesTo): kontroller SMDB's entity id i konfigurationen",
    ),
    "ExpiredData": (StsClockSkew, "STS'en afviste udløbne data (ExpiredData): kontroller maskinens ur (NTP)"),
    "MessageExpired": (StsClockSkew, "STS'en afviste tidsstemplet: kontroller maskinens ur (NTP)"),
    "InvalidTimeRange": (StsClockSkew, "STS'en afviste den ønskede levetid eller tidsstemplet: kontroller uret"),
}
#: The codes the NemLog-in STS rules name, each mapped above (a test keeps the list and the map together).
STS_RULE_FAULT_CODES = (
    "InvalidRequest",
    "FailedAuthentication",
    "RequestFailed",
    "InvalidSecurityToken",
    "BadRequest",
    "ExpiredData",
    "InvalidTimeRange",
)


def _fault_of(env: etree._Element) -> etree._Element | None:
    """The SOAP fault of an STS answer, in either shape the reference implementation meets: a plain SOAP 1.1 fault,
    or NemLog-in's, nested in a second Envelope inside the Body (OIOIDWS.Net removes the outer one)."""
    body = env.find(f"{{{SOAP_NS}}}Body")
    if body is None:
        return None
    fault = body.find(f"{{{SOAP_NS}}}Fault")
    if fault is None:
        fault = body.find(f"{{{SOAP_NS}}}Envelope/{{{SOAP_NS}}}Body/{{{SOAP_NS}}}Fault")
    return fault


def _fault_text(fault: etree._Element, name: str) -> str:
    """``faultcode``/``faultstring`` unqualified (SOAP 1.1), or in the WS-Trust namespace as NemLog-in sends them."""
    for tag in (name, f"{{{WST_NS}}}{name}"):
        text: str | None = fault.findtext(tag)
        if text is not None:
            return text.strip()
    return ""


def raise_for_fault(env: etree._Element) -> None:
    """Raise the typed StsError an STS fault means; return when the answer is not a fault."""
    fault = _fault_of(env)
    if fault is None:
        return
    code = _fault_text(fault, "faultcode").split(":")[-1]
    reason = scrub(_fault_text(fault, "faultstring"))[:300]
    cls, hint = _FAULTS.get(code, (StsError, "STS'en afviste anmodningen"))
    raise cls(f"{hint} (STS: {code or 'ukendt'}: {reason})")


def _verify_rstr(env: etree._Element, config: StsConfig, message_id: str, now: datetime) -> str:
    """The RSTR's signature with the STS's certificate before its token is used: the Body and the Timestamp must be
    covered, the Timestamp current, and RelatesTo (when the STS sends it) our MessageID. Returns SignatureValue."""
    sec = env.find(f"{{{SOAP_NS}}}Header/{{{WSSE_NS}}}Security")
    signature = sec.find(f"{{{DS_NS}}}Signature") if sec is not None else None
    if sec is None or signature is None:
        raise StsAuthenticationFailed("STS'ens svar er ikke signeret; tokenet bruges ikke")
    last: SecurityError | None = None
    for cert in config.certificates:
        public_key = cert.public_key()
        if not isinstance(public_key, rsa.RSAPublicKey):
            continue
        try:
            covered = xmldsig.verify(signature, public_key, allow_sha1=config.allow_sha1)
        except SecurityError as exc:
            last = exc
            continue
        break
    else:
        raise StsAuthenticationFailed(
            f"STS'ens svar kunne ikke verificeres med STS-certifikatet ({last}); tokenet bruges ikke"
        )
    body = env.find(f"{{{SOAP_NS}}}Body")
    ts = sec.find(f"{{{WSU_NS}}}Timestamp")
    if not any(el is body for el in covered) or ts is None or not any(el is ts for el in covered):
        raise StsAuthenticationFailed("STS'ens signatur dækker ikke svarets Body og Timestamp")
    try:
        expires = _parse_ts(ts.findtext(f"{{{WSU_NS}}}Expires"))
    except SecurityError as exc:
        raise StsAuthenticationFailed(f"STS'ens svar har et ugyldigt tidsstempel ({exc})") from None
    if now - CLOCK_SKEW >= expires:
        raise StsClockSkew("STS'ens svar er udløbet (Timestamp/Expires): kontroller maskinens ur (NTP)")
    relates_to = env.find(f"{{{SOAP_NS}}}Header/{{{WSA_NS}}}RelatesTo")
    if relates_to is not None and (
        not any(el is relates_to for el in covered) or (relates_to.text or "").strip() != message_id
    ):
        raise StsAuthenticationFailed("STS'ens svar hører ikke til denne anmodning (RelatesTo)")
    value: str = signature.findtext(f"{{{DS_NS}}}SignatureValue") or ""
    return value


def _token_reference(rstr: etree._Element, token: etree._Element) -> str:
    """The id to reference the token by: the RequestedAttachedReference's (KeyIdentifier or Reference URI), which
    must name this token; without one, the assertion's ID or the EncryptedData's wsu:Id."""
    own = strtransform.token_id(token)
    attached = rstr.find(f"{{{WST_NS}}}RequestedAttachedReference/{{{WSSE_NS}}}SecurityTokenReference")
    if attached is None:
        if own is None:
            raise StsUnavailable("STS'ens token har intet id at henvise til (og ingen RequestedAttachedReference)")
        return own
    try:
        ref_id = strtransform.referenced_id(attached)
    except SecurityError as exc:
        raise StsUnavailable(f"STS'ens RequestedAttachedReference kan ikke bruges: {exc}") from None
    if ref_id != own:
        raise StsUnavailable("STS'ens RequestedAttachedReference peger ikke på det udstedte token")
    return ref_id


def parse_issue_response(
    body: bytes,
    config: StsConfig,
    message_id: str = "",
    now: datetime | None = None,
    seen: set[str] | None = None,
) -> Token:
    """The RSTR: verified (when STS certificates are configured), then its token (a SAML assertion, or the
    EncryptedAssertion the real STS returns, kept opaque) with the id to reference it by and its lifetime; faults
    in either of NemLog-in's shapes become typed errors."""
    now = now or datetime.now(UTC)
    try:
        env = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError:
        raise StsUnavailable("STS'en svarede ikke med XML") from None
    raise_for_fault(env)
    if config.certificates:
        value = _verify_rstr(env, config, message_id, now)
        if seen is not None:  # OIOIDWS.Net's replay check: the same signed answer twice is a replay
            if value in seen:
                raise StsAuthenticationFailed("STS'ens svar er modtaget før (gentaget); tokenet bruges ikke")
            seen.add(value)
    rstr = _rstr_in_body(env)
    holder = rstr.find(f"{{{WST_NS}}}RequestedSecurityToken")
    token = None if holder is None else next((c for c in holder if isinstance(c.tag, str)), None)
    if token is None or token.tag not in (f"{{{SAML2_NS}}}Assertion", f"{{{SAML2_NS}}}EncryptedAssertion"):
        raise StsUnavailable("STS'ens svar indeholder ingen SAML-token")
    expires_text = rstr.findtext(f"{{{WST_NS}}}Lifetime/{{{WSU_NS}}}Expires")
    if expires_text is None:
        cond = token.find(f"{{{SAML2_NS}}}Conditions")
        expires_text = cond.get("NotOnOrAfter") if cond is not None else None
    if expires_text is None:
        raise StsUnavailable("STS'ens svar angiver ikke tokenets levetid")
    try:
        expires = _parse_ts(expires_text)
    except SecurityError:
        raise StsUnavailable("STS'ens svar har en ugyldig levetid") from None
    return Token(token, _token_reference(rstr, token), expires, config.audience)


def _rstr_in_body(env: etree._Element) -> etree._Element:
    """The RSTR the Body holds (directly, or as the first of an RSTR collection): the part the signature covered.
    Anywhere else (an unsigned one in the Header, a second Body) it is not the STS's answer."""
    try:
        _, body = check_structure(env)
    except SecurityError as exc:
        raise StsAuthenticationFailed(f"STS'ens svar har en ugyldig struktur ({exc}); tokenet bruges ikke") from None
    content = next(c for c in body if isinstance(c.tag, str))
    if content.tag == f"{{{WST_NS}}}RequestSecurityTokenResponseCollection":
        content = next((c for c in content if isinstance(c.tag, str)), content)
    if content.tag != f"{{{WST_NS}}}RequestSecurityTokenResponse":
        raise StsUnavailable("STS'ens svar indeholder ingen RequestSecurityTokenResponse i Body")
    return content


class StsTokenProvider:
    """Issues, caches (per audience) and renews tokens; thread-safe, with one renewal at a time."""

    def __init__(
        self,
        creds: Credentials,
        config: StsConfig,
        session: requests.Session | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        max_response_bytes: int = 1024 * 1024,
        deadline: float = 60.0,
    ) -> None:
        self.creds = creds
        self.config = config
        self.session = session or requests.Session()
        self.clock = clock
        #: An RSTR is a few kB; the STS's answer is read within this cap and this many seconds, like SMDB's.
        self.max_response_bytes = max_response_bytes
        self.deadline = deadline
        self._tokens: dict[str, Token] = {}
        #: SignatureValues of the RSTRs accepted (a few per day): an answer seen before is a replay.
        self._seen: set[str] = set()
        self._lock = threading.Lock()
        #: How many tokens were issued (for tests and support).
        self.issued = 0

    def token(self) -> Token:
        with self._lock:
            current = self._tokens.get(self.config.audience)
            if current is not None and self.clock() < current.expires - self.config.renew_before:
                return current
            fresh = self._issue()
            self._tokens[self.config.audience] = fresh
            return fresh

    def invalidate(self) -> None:
        with self._lock:
            self._tokens.pop(self.config.audience, None)

    def _issue(self) -> Token:
        now = self.clock()
        request, message_id = build_issue_request(self.creds, self.config, now)
        try:
            response = bounded_post(
                self.session,
                self.config.endpoint,
                data=request,
                headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{ISSUE_ACTION}"'},
                timeout=self.config.timeout,
                deadline=time.monotonic() + self.deadline,
                max_bytes=self.max_response_bytes,
            )
        except (ResponseTooLarge, DeadlineExceeded, RedirectRefused) as exc:
            raise StsUnavailable(f"STS'en ({self.config.endpoint}) svarede ikke brugbart: {exc}") from None
        except requests.exceptions.RequestException as exc:
            raise StsUnavailable(f"STS'en ({self.config.endpoint}) kunne ikke nås: {type(exc).__name__}") from None
        token = parse_issue_response(response.content, self.config, message_id, now, self._seen)
        self.issued += 1
        return token


# ----------------------------------------------------------------------------- the token (STS side)
