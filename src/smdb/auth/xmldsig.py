"""A lean XML-DSig for WS-Security envelopes: exactly the one profile this library signs and accepts.

Why by hand: signxml (kept for SAML assertions, and as the independent reference in the tests) re-parses the whole
envelope several times per signature and per verification; on a signed SMDB call its own work costs more than the
RSA operations themselves, and it is most of the client's CPU per call (docs/benchmarks.md measures both against
the RSA floor in the same run). The profile here is narrow on purpose, so it is short and auditable:

- SignedInfo: exclusive c14n (``xml-exc-c14n#``, optionally with ``InclusiveNamespaces PrefixList``),
  RSA-SHA256; each Reference: a same-document ``#id`` URI naming exactly one element by ``wsu:Id`` (or ``Id``),
  exactly one exclusive-c14n Transform, a SHA-256 digest; or, for the token of an OIO-IDWS call, the
  STR-Transform (:mod:`smdb.auth.strtransform`). Anything else (other algorithms, XPath transforms, external URIs)
  is refused rather than half-supported.
- Only to verify what the NemLog-in STS and the OIO-IDWS reference implementations send, ``verify`` can be told
  to accept RSA-SHA1/SHA-1 (``allow_sha1``) and the ``enveloped-signature`` transform on an element that does not
  contain the signature (then, by XML-DSig's default, inclusive c14n). We never sign with them.
- Canonicalisation is lxml's (libxml2's) exclusive c14n without comments, the same call signxml makes; digests
  with hashlib; RSA with cryptography; digests compared in constant time.
- Verification returns the very elements the signature covers, so callers check *which* elements are signed by
  identity (the envelope's own Body and Timestamp), not by an id an attacker could duplicate: an id that occurs
  twice is refused outright (signature wrapping).

``tests/test_xmldsig.py`` proves it against signxml both ways (our signatures verify with signxml, signxml's with
ours), and against tampering, wrapping, duplicate ids and foreign algorithms.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree

from smdb.auth import strtransform
from smdb.errors import SecurityError

DS_NS = "http://www.w3.org/2000/09/xmldsig#"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
RSA_SHA1 = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
SHA1 = "http://www.w3.org/2000/09/xmldsig#sha1"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
WSU_ID = "{http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd}Id"
_ID_ATTRIBUTES = (WSU_ID, "Id", "ID")


def _ds(tag: str) -> str:
    return f"{{{DS_NS}}}{tag}"


def c14n(element: etree._Element, inclusive_prefixes: Sequence[str] | None = None) -> bytes:
    """Exclusive canonical form of ``element`` in its document (namespaces it uses from its ancestors included)."""
    out: bytes = etree.tostring(
        element, method="c14n", exclusive=True, with_comments=False, inclusive_ns_prefixes=inclusive_prefixes or None
    )
    return out


def _ids(root: etree._Element) -> dict[str, list[etree._Element]]:
    found: dict[str, list[etree._Element]] = {}
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        for attribute in _ID_ATTRIBUTES:
            value = el.get(attribute)
            if value is not None:
                found.setdefault(value, []).append(el)
    return found


def sign(
    parent: etree._Element,
    references: Sequence[etree._Element],
    key: rsa.RSAPrivateKey,
    key_info: etree._Element,
    token_references: Sequence[etree._Element] = (),
) -> etree._Element:
    """Append a ``ds:Signature`` over ``references`` (each carrying a ``wsu:Id``) to ``parent``; return it.

    ``token_references``: SecurityTokenReferences (with a ``wsu:Id``) whose token is signed through the
    STR-Transform, as OIO-IDWS signs the SAML token of a service call."""
    signature = etree.SubElement(parent, _ds("Signature"), nsmap={"ds": DS_NS})
    signed_info = etree.SubElement(signature, _ds("SignedInfo"))
    etree.SubElement(signed_info, _ds("CanonicalizationMethod"), Algorithm=EXC_C14N)
    etree.SubElement(signed_info, _ds("SignatureMethod"), Algorithm=RSA_SHA256)
    for element in [*references, *token_references]:
        element_id = element.get(WSU_ID)
        if not element_id:
            raise SecurityError("Et element, der skal signeres, mangler wsu:Id")
        reference = etree.SubElement(signed_info, _ds("Reference"), URI=f"#{element_id}")
        transforms = etree.SubElement(reference, _ds("Transforms"))
        if element in token_references:
            transform = etree.SubElement(transforms, _ds("Transform"), Algorithm=strtransform.STR_TRANSFORM)
            transform.append(strtransform.parameters())
            data = strtransform.canonical(element)
        else:
            etree.SubElement(transforms, _ds("Transform"), Algorithm=EXC_C14N)
            data = c14n(element)
        etree.SubElement(reference, _ds("DigestMethod"), Algorithm=SHA256)
        etree.SubElement(reference, _ds("DigestValue")).text = base64.b64encode(hashlib.sha256(data).digest()).decode()
    value = key.sign(c14n(signed_info), padding.PKCS1v15(), hashes.SHA256())
    etree.SubElement(signature, _ds("SignatureValue")).text = base64.b64encode(value).decode()
    signature.append(key_info)
    return signature


def _prefixes(method: etree._Element) -> list[str] | None:
    inclusive = method.find(f"{{{EXC_C14N}}}InclusiveNamespaces")
    if inclusive is None:
        return None
    return [p if p != "#default" else "" for p in (inclusive.get("PrefixList") or "").split()]


def _b64(text: str | None, what: str) -> bytes:
    try:
        return base64.b64decode("".join((text or "").split()), validate=True)
    except ValueError:
        raise SecurityError(f"Signaturen har en ugyldig {what}") from None


def _reference_data(
    reference: etree._Element, target: etree._Element, signature: etree._Element, allow_legacy: bool
) -> bytes:
    """The octets a Reference's digest covers: its transforms applied to ``target``."""
    transforms = reference.findall(f"{_ds('Transforms')}/{_ds('Transform')}")
    algorithms = [t.get("Algorithm") for t in transforms]
    if algorithms == [EXC_C14N]:
        return c14n(target, _prefixes(transforms[0]))
    if algorithms == [strtransform.STR_TRANSFORM]:
        if target.tag != f"{{{strtransform.WSSE_NS}}}SecurityTokenReference":
            raise SecurityError("STR-Transform skal henvise til en SecurityTokenReference")
        strtransform.check_parameters(transforms[0])
        return strtransform.canonical(target)
    if allow_legacy and algorithms in ([ENVELOPED], [ENVELOPED, EXC_C14N]):
        if signature in target.iter():  # the signature inside: would need removing, which no message here needs
            raise SecurityError("enveloped-signature over et element, der indeholder signaturen, understøttes ikke")
        if algorithms == [ENVELOPED]:  # XML-DSig: a node-set output is canonicalised with inclusive c14n 1.0
            out: bytes = etree.tostring(target, method="c14n", exclusive=False, with_comments=False)
            return out
        return c14n(target, _prefixes(transforms[1]))
    raise SecurityError("Signaturens henvisninger skal have præcis én transform: exclusive c14n (eller STR-Transform)")


def verify(
    signature: etree._Element, public_key: rsa.RSAPublicKey, *, allow_sha1: bool = False
) -> list[etree._Element]:
    """Check ``signature`` (in its document) with ``public_key``; return the elements it covers, in order (for an
    STR-Transform reference, the SecurityTokenReference; :func:`smdb.auth.strtransform.dereference` gives its token).

    Raises :class:`SecurityError` for anything outside the profile, a digest that does not match, an id that does
    not name exactly one element, or a signature value the key did not make. ``allow_sha1`` also accepts RSA-SHA1,
    SHA-1 digests and the enveloped-signature transform (the NemLog-in STS and the reference implementations'
    samples use them); never for what this library signs.
    """
    signed_info = signature.find(_ds("SignedInfo"))
    if signed_info is None:
        raise SecurityError("Signaturen mangler SignedInfo")
    method = signed_info.find(_ds("CanonicalizationMethod"))
    if method is None or method.get("Algorithm") != EXC_C14N:
        raise SecurityError("Signaturen skal kanoniseres med exclusive c14n")
    signature_method = signed_info.find(_ds("SignatureMethod"))
    signature_algorithms = {RSA_SHA256: hashes.SHA256(), **({RSA_SHA1: hashes.SHA1()} if allow_sha1 else {})}
    algorithm = signature_algorithms.get(signature_method.get("Algorithm", "") if signature_method is not None else "")
    if algorithm is None:
        raise SecurityError("Signaturen skal være RSA-SHA256")
    digests = {SHA256: hashlib.sha256, **({SHA1: hashlib.sha1} if allow_sha1 else {})}
    references = signed_info.findall(_ds("Reference"))
    if not references:
        raise SecurityError("Signaturen dækker ingen elementer")
    ids = _ids(signature.getroottree().getroot())
    covered: list[etree._Element] = []
    for reference in references:
        uri = reference.get("URI") or ""
        if not uri.startswith("#") or len(uri) < 2:
            raise SecurityError("Signaturen må kun henvise til elementer i samme besked (#id)")
        targets = ids.get(uri[1:], [])
        if len(targets) != 1:
            raise SecurityError(f"Signaturens henvisning {uri[:40]} peger på {len(targets)} elementer, ikke ét")
        digest_method = reference.find(_ds("DigestMethod"))
        digest = digests.get(digest_method.get("Algorithm", "") if digest_method is not None else "")
        if digest is None:
            raise SecurityError("Signaturens henvisninger skal bruge SHA-256")
        expected = _b64(reference.findtext(_ds("DigestValue")), "DigestValue")
        data = _reference_data(reference, targets[0], signature, allow_sha1)
        if not hmac.compare_digest(expected, digest(data).digest()):
            raise SecurityError("Et signeret element er ændret (digest passer ikke)")
        covered.append(targets[0])
    value = _b64(signature.findtext(_ds("SignatureValue")), "SignatureValue")
    try:
        public_key.verify(value, c14n(signed_info, _prefixes(method)), padding.PKCS1v15(), algorithm)
    except InvalidSignature:
        raise SecurityError("Signaturværdien passer ikke med nøglen") from None
    return covered
