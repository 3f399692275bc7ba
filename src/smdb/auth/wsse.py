"""WS-Security for SOAP 1.1 envelopes: Timestamp + BinarySecurityToken + XML-DSig (:mod:`smdb.auth.xmldsig`).

The signature covers the Body and the Timestamp (RSA-SHA256, SHA-256 digests, exclusive c14n, which is
what survives moving the signature into the header; signxml's default C14N 1.1 does not). KeyInfo refers
to the BinarySecurityToken via a SecurityTokenReference, as WCF expects.
"""

from __future__ import annotations

import base64
import copy
import functools
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree

from smdb.auth import strtransform, xmldsig
from smdb.auth.certificates import Credentials
from smdb.errors import SecurityError, TimestampOutOfWindow

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
#: SOAP 1.2 (OIO-IDWS SOAP Binding 1.1 calls); everything here works on either, by the envelope's own namespace.
SOAP12_NS = "http://www.w3.org/2003/05/soap-envelope"
SOAP_NAMESPACES = (SOAP_NS, SOAP12_NS)
WSSE_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
DS_NS = "http://www.w3.org/2000/09/xmldsig#"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
X509V3 = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3"
B64 = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"

#: Lifetime of the Timestamp we send, and the clock skew we accept on what we receive.
TIMESTAMP_TTL = timedelta(minutes=5)
CLOCK_SKEW = timedelta(minutes=5)
#: The longest lifetime (Expires - Created) a received message may claim: a captured message stays replayable no
#: longer than this (plus the skew), whatever Expires its sender chose.
MAX_MESSAGE_LIFETIME = timedelta(minutes=5)

_WSU_ID = f"{{{WSU_NS}}}Id"


def _ts(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _ts_seconds(t: datetime) -> str:
    """``yyyy-MM-ddTHH:mm:ssZ``: the form the NemLog-in STS rules mandate for a request's times (no fractions)."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


SAML2_NS = "urn:oasis:names:tc:SAML:2.0:assertion"
WSA_NS = "http://www.w3.org/2005/08/addressing"
WSSE11_NS = "http://docs.oasis-open.org/wss/oasis-wss-wssecurity-secext-1.1.xsd"
SAML_TOKEN_TYPE = "http://docs.oasis-open.org/wss/oasis-wss-saml-token-profile-1.1#SAMLV2.0"
SAML_ID_VALUE_TYPE = "http://docs.oasis-open.org/wss/oasis-wss-saml-token-profile-1.1#SAMLID"


def soap_ns(envelope: etree._Element) -> str:
    """The SOAP namespace of ``envelope`` (1.1 or 1.2); the 1.1 one for anything else (it is then not found)."""
    ns = etree.QName(envelope).namespace
    return ns if ns in SOAP_NAMESPACES else SOAP_NS


def _security_header(
    envelope: etree._Element, now: datetime, ttl: timedelta, fmt: Callable[[datetime], str] = _ts
) -> tuple[etree._Element, str, str]:
    """Create ``wsse:Security`` (mustUnderstand) with a Timestamp; id the Body. Returns (security, body id, ts id)."""
    soap = soap_ns(envelope)
    header = envelope.find(f"{{{soap}}}Header")
    body = envelope.find(f"{{{soap}}}Body")
    if body is None:
        raise SecurityError("SOAP-konvolutten har ingen Body")
    if header is None:
        header = etree.Element(f"{{{soap}}}Header")
        envelope.insert(0, header)
    body_id = body.get(_WSU_ID) or f"id-{uuid.uuid4()}"
    body.set(_WSU_ID, body_id)
    sec = etree.SubElement(header, f"{{{WSSE_NS}}}Security", nsmap={"wsse": WSSE_NS, "wsu": WSU_NS})
    sec.set(f"{{{soap}}}mustUnderstand", "1")
    ts_id = f"TS-{uuid.uuid4()}"
    ts = etree.SubElement(sec, f"{{{WSU_NS}}}Timestamp")
    ts.set(_WSU_ID, ts_id)
    etree.SubElement(ts, f"{{{WSU_NS}}}Created").text = fmt(now)
    etree.SubElement(ts, f"{{{WSU_NS}}}Expires").text = fmt(now + ttl)
    return sec, body_id, ts_id


def _sign_into(
    envelope: etree._Element, sec: etree._Element, creds: Credentials, ids: list[str], key_info: etree._Element
) -> None:
    by_id = {el.get(_WSU_ID): el for el in envelope.iter() if isinstance(el.tag, str) and el.get(_WSU_ID)}
    missing = [i for i in ids if i not in by_id]
    if missing:
        raise SecurityError(f"Elementer, der skal signeres, findes ikke: {', '.join(missing)}")
    xmldsig.sign(sec, [by_id[i] for i in ids], creds.private_key, key_info)


@functools.lru_cache(maxsize=64)
def _b64(der: bytes) -> str:
    """A certificate's DER in base64, once per certificate (every signed request carries it)."""
    return base64.b64encode(der).decode()


def sign_envelope(
    envelope: etree._Element,
    creds: Credentials,
    now: datetime | None = None,
    ttl: timedelta = TIMESTAMP_TTL,
    extra_ids: tuple[str, ...] = (),
    *,
    sign_token: bool = False,
    seconds_only: bool = False,
    confirm: str | None = None,
) -> etree._Element:
    """Add a signed ``wsse:Security`` header (certificate in a BinarySecurityToken) to ``envelope`` in place.

    The signature covers Body and Timestamp, plus any elements whose ``wsu:Id`` is in ``extra_ids`` (WS-Addressing
    headers of a WS-Trust request), and with ``sign_token`` the BinarySecurityToken too (the NemLog-in STS rules:
    every header element signed). ``seconds_only``: timestamps without fractions, as the STS rules want them.
    ``confirm``: the SignatureValue of the request this answers, echoed in a signed WS-Security 1.1
    ``SignatureConfirmation`` (what a WCF service with ``requireSignatureConfirmation`` sends), binding the answer
    to that one request.
    """
    sec, body_id, ts_id = _security_header(
        envelope, now or datetime.now(UTC), ttl, _ts_seconds if seconds_only else _ts
    )
    confirm_ids: list[str] = []
    if confirm is not None:
        sc = etree.SubElement(sec, f"{{{WSSE11_NS}}}SignatureConfirmation", nsmap={"wsse11": WSSE11_NS})
        sc.set("Value", "".join(confirm.split()))
        confirm_ids.append(f"SC-{uuid.uuid4()}")
        sc.set(_WSU_ID, confirm_ids[0])
    bst_id = f"X509-{uuid.uuid4()}"
    bst = etree.SubElement(sec, f"{{{WSSE_NS}}}BinarySecurityToken")
    bst.set("ValueType", X509V3)
    bst.set("EncodingType", B64)
    bst.set(_WSU_ID, bst_id)
    bst.text = _b64(creds.cert_der())
    key_info = etree.Element(f"{{{DS_NS}}}KeyInfo", nsmap={"ds": DS_NS})
    str_el = etree.SubElement(key_info, f"{{{WSSE_NS}}}SecurityTokenReference")
    ref = etree.SubElement(str_el, f"{{{WSSE_NS}}}Reference")
    ref.set("URI", f"#{bst_id}")
    ref.set("ValueType", X509V3)
    ids = [*extra_ids, ts_id, *confirm_ids, *([bst_id] if sign_token else []), body_id]
    _sign_into(envelope, sec, creds, ids, key_info)
    return envelope


def sign_envelope_with_token(
    envelope: etree._Element,
    creds: Credentials,
    token: etree._Element,
    now: datetime | None = None,
    ttl: timedelta = TIMESTAMP_TTL,
    token_id: str | None = None,
) -> etree._Element:
    """OIO-IDWS holder-of-key (OIO-IDWS SOAP Binding 1.1, as the reference implementations send it): put the STS's
    token (a SAML assertion, or the EncryptedAssertion the STS returned) in ``wsse:Security`` with a
    SecurityTokenReference naming it (``wsu:Id``, TokenType SAML 2.0, KeyIdentifier SAMLID = ``token_id``, the id
    the RSTR's RequestedAttachedReference gave), and sign with our key: every header element (WS-Addressing
    included), the Timestamp, the Body, and the token through the STR-Transform. KeyInfo refers to the token."""
    sec, body_id, ts_id = _security_header(envelope, now or datetime.now(UTC), ttl)
    ref_id = token_id or strtransform.token_id(token) or ""
    if not ref_id:
        raise SecurityError("Tokenet fra STS'en har intet id at henvise til")
    header = sec.getparent()
    assert header is not None
    signed_headers = []
    for el in header:
        if el is sec or not isinstance(el.tag, str):
            continue
        if not el.get(_WSU_ID):
            el.set(_WSU_ID, f"_{uuid.uuid4()}")
        signed_headers.append(el.get(_WSU_ID) or "")
    sec.append(copy.deepcopy(token))
    token_ref = _token_reference(ref_id)
    token_ref.set(_WSU_ID, f"_str{uuid.uuid4()}")
    sec.append(token_ref)
    key_info = etree.Element(f"{{{DS_NS}}}KeyInfo", nsmap={"ds": DS_NS})
    key_info.append(_token_reference(ref_id))
    ids = [*signed_headers, ts_id, body_id]
    by_id = {el.get(_WSU_ID): el for el in envelope.iter() if isinstance(el.tag, str) and el.get(_WSU_ID)}
    xmldsig.sign(sec, [by_id[i] for i in ids], creds.private_key, key_info, token_references=[token_ref])
    return envelope


def _token_reference(token_id: str) -> etree._Element:
    str_el = etree.Element(f"{{{WSSE_NS}}}SecurityTokenReference", nsmap={"wsse": WSSE_NS, "wsse11": WSSE11_NS})
    str_el.set(f"{{{WSSE11_NS}}}TokenType", SAML_TOKEN_TYPE)
    kid = etree.SubElement(str_el, f"{{{WSSE_NS}}}KeyIdentifier")
    kid.set("ValueType", SAML_ID_VALUE_TYPE)
    kid.text = token_id
    return str_el


def check_structure(envelope: etree._Element) -> tuple[etree._Element | None, etree._Element]:
    """A SOAP envelope as a signature can vouch for it: at most one Header, then exactly one Body, nothing else, and
    one element in the Body. Returns (header, body).

    A signature check finds *one* Body (and one Header); a second Body beside it is read by other code (zeep's fault
    handling reads the last), so a forged Body next to a genuinely signed one would be taken as verified."""
    soap = soap_ns(envelope)
    children = [c for c in envelope if isinstance(c.tag, str)]
    names = [c.tag for c in children]
    if names not in ([f"{{{soap}}}Header", f"{{{soap}}}Body"], [f"{{{soap}}}Body"]):
        shown = ", ".join(etree.QName(n).localname for n in names)[:120]
        raise SecurityError(f"SOAP-konvolutten skal have én Header og én Body og intet andet (fik: {shown or 'intet'})")
    body = children[-1]
    content = [c for c in body if isinstance(c.tag, str)]
    if len(content) != 1:
        raise SecurityError(f"SOAP-konvoluttens Body skal indeholde præcis ét element (fik {len(content)})")
    return (children[0] if len(children) == 2 else None), body


def security_header(envelope: etree._Element) -> etree._Element | None:
    """The envelope's ``wsse:Security`` header, if any."""
    return envelope.find(f"{{{soap_ns(envelope)}}}Header/{{{WSSE_NS}}}Security")


def signature_value(envelope: etree._Element) -> str | None:
    """The message signature's SignatureValue (whitespace removed): what identifies one signed message."""
    sec = security_header(envelope)
    value = sec.findtext(f"{{{DS_NS}}}Signature/{{{DS_NS}}}SignatureValue") if sec is not None else None
    return "".join(value.split()) if value else None


def message_times(envelope: etree._Element) -> tuple[datetime, datetime]:
    """(Created, Expires) of the envelope's ``wsu:Timestamp``; :class:`SecurityError` without a valid one."""
    sec = security_header(envelope)
    ts = sec.find(f"{{{WSU_NS}}}Timestamp") if sec is not None else None
    if ts is None:
        raise SecurityError("Beskeden mangler wsu:Timestamp")
    return _parse_ts(ts.findtext(f"{{{WSU_NS}}}Created")), _parse_ts(ts.findtext(f"{{{WSU_NS}}}Expires"))


def signing_certificate(envelope: etree._Element) -> x509.Certificate | None:
    """The certificate carried in the BinarySecurityToken, if any."""
    bst = envelope.find(f"{{{soap_ns(envelope)}}}Header/{{{WSSE_NS}}}Security/{{{WSSE_NS}}}BinarySecurityToken")
    if bst is None or not bst.text:
        return None
    try:
        return x509.load_der_x509_certificate(base64.b64decode(bst.text))
    except ValueError:
        raise SecurityError("BinarySecurityToken indeholder ikke et gyldigt certifikat") from None


def is_signed(envelope: etree._Element) -> bool:
    return envelope.find(f"{{{soap_ns(envelope)}}}Header/{{{WSSE_NS}}}Security/{{{DS_NS}}}Signature") is not None


def verify_envelope(
    envelope: etree._Element,
    trusted: list[x509.Certificate],
    now: datetime | None = None,
    skew: timedelta = CLOCK_SKEW,
    max_lifetime: timedelta = MAX_MESSAGE_LIFETIME,
) -> x509.Certificate:
    """Verify signature, references (Body and Timestamp) and timestamp window; return the signer's certificate.

    The signer must be one of ``trusted`` (compared by DER, not by name), so a certificate that merely
    claims a trusted subject is refused.
    """
    return verify_envelope_covering(envelope, trusted, now, skew, max_lifetime)[0]


def verify_envelope_covering(
    envelope: etree._Element,
    trusted: list[x509.Certificate],
    now: datetime | None = None,
    skew: timedelta = CLOCK_SKEW,
    max_lifetime: timedelta = MAX_MESSAGE_LIFETIME,
) -> tuple[x509.Certificate, list[etree._Element]]:
    """:func:`verify_envelope`, also returning the elements the signature covers (for a receiver with stricter
    coverage rules, such as the NemLog-in STS's "every header element signed")."""
    now = now or datetime.now(UTC)
    sec = envelope.find(f"{{{soap_ns(envelope)}}}Header/{{{WSSE_NS}}}Security")
    if sec is None or sec.find(f"{{{DS_NS}}}Signature") is None:
        raise SecurityError("Beskeden er ikke signeret (ingen wsse:Security/ds:Signature)")
    cert = signing_certificate(envelope)
    if cert is None:
        raise SecurityError("Beskeden mangler BinarySecurityToken med certifikat")
    if not any(cert == t for t in trusted):
        raise SecurityError(f"Certifikatet ({cert.subject.rfc4514_string()}) er ikke betroet")
    if not (cert.not_valid_before_utc <= now <= cert.not_valid_after_utc):
        raise SecurityError(f"Certifikatet ({cert.subject.rfc4514_string()}) er ikke gyldigt på nuværende tidspunkt")
    covered = verify_timestamp_and_signature(envelope, sec, cert, now, skew, max_lifetime)
    return cert, covered


def verify_timestamp_and_signature(
    envelope: etree._Element,
    sec: etree._Element,
    key_holder: x509.Certificate,
    now: datetime,
    skew: timedelta,
    max_lifetime: timedelta = MAX_MESSAGE_LIFETIME,
) -> list[etree._Element]:
    """The checks both authentication modes share: the Timestamp is present, has time zones, claims a lifetime of
    at most ``max_lifetime`` and is within the window (no replays, no wrong clocks), and the message signature in
    ``sec`` was made with ``key_holder``'s key over Body and Timestamp. Returns the elements it covers."""
    ts = sec.find(f"{{{WSU_NS}}}Timestamp")
    if ts is None:
        raise SecurityError("Beskeden mangler wsu:Timestamp")
    created = _parse_ts(ts.findtext(f"{{{WSU_NS}}}Created"))
    expires = _parse_ts(ts.findtext(f"{{{WSU_NS}}}Expires"))
    if expires < created or expires - created > max_lifetime:
        raise SecurityError(
            f"Beskedens levetid (Expires - Created) er over {max_lifetime.total_seconds():.0f} s eller negativ"
        )
    if created - skew > now or expires + skew < now:
        raise TimestampOutOfWindow(
            "Beskedens tidsstempel ligger uden for det tilladte vindue (gentaget eller forkert ur)"
        )
    signature = sec.find(f"{{{DS_NS}}}Signature")
    if signature is None:
        raise SecurityError("Beskeden er ikke signeret (ingen wsse:Security/ds:Signature)")
    body = envelope.find(f"{{{soap_ns(envelope)}}}Body")
    public_key = key_holder.public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise SecurityError(f"Certifikatet ({_who(key_holder)}) har ikke en RSA-nøgle")
    try:
        covered = xmldsig.verify(signature, public_key)
    except SecurityError as exc:
        raise SecurityError(f"Signaturen kunne ikke verificeres med nøglen til {_who(key_holder)}: {exc}") from None
    # by identity: the envelope's own Body and this header's Timestamp, not some element carrying a copied id
    if body is None or not any(c is body for c in covered) or not any(c is ts for c in covered):
        raise SecurityError("Signaturen dækker ikke både Body og Timestamp")
    return covered


def _who(cert: x509.Certificate) -> str:
    return cert.subject.rfc4514_string()


def _parse_ts(text: str | None) -> datetime:
    if not text:
        raise SecurityError("Tidsstempel mangler Created/Expires")
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise SecurityError("Ugyldigt tidsstempel") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        # comparing it with an aware "now" would raise TypeError and abort a whole batch; it is a forged or broken
        # message, so it is refused like one
        raise SecurityError("Tidsstempel uden tidszone")
    return parsed
