"""Our XML-DSig and STR-Transform against the OIO-IDWS reference implementations' signed sample messages.

The samples (tests/vectors/oioidws/README.md names each source) were signed by Digitaliseringsstyrelsen's .NET
and Java reference implementations and by the NemLog-in test STS. Our verifier must accept every one of their
signatures, including the STR-Transform digest of an encrypted SAML token, and refuse each after a one-byte change
in any part it signs.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree

from smdb.auth import strtransform, xmldsig
from smdb.errors import SecurityError

VECTORS = Path(__file__).parent / "vectors" / "oioidws"
DS = xmldsig.DS_NS
WSSE = strtransform.WSSE_NS


def _cert(name: str) -> rsa.RSAPublicKey:
    key = x509.load_pem_x509_certificate((VECTORS / name).read_bytes()).public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    return key


def _bst_key(root: etree._Element) -> rsa.RSAPublicKey:
    bst = root.find(f".//{{{WSSE}}}Security/{{{WSSE}}}BinarySecurityToken")
    assert bst is not None and bst.text
    key = x509.load_der_x509_certificate(base64.b64decode(bst.text)).public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    return key


#: (file, the key that signed it (a certificate file, or None: the message's own BinarySecurityToken), what the
#: signature must cover at least, by local name)
SAMPLES = [
    ("net-wsc-to-sts-rst.xml", None, {"Action", "MessageID", "To", "Timestamp", "BinarySecurityToken", "Body"}),
    ("net-sts-to-wsc-rstr.xml", "sts-nemlogin-test.pem", {"Action", "MessageID", "RelatesTo", "Timestamp", "Body"}),
    (
        "net-wsc-to-wsp-request.xml",
        "wsc-java-ref-test.pem",
        {"Action", "MessageID", "ReplyTo", "To", "Timestamp", "Body", "SecurityTokenReference"},
    ),
    ("net-wsp-to-wsc-response.xml", "wsp-eid-java-test.pem", {"Timestamp", "Body"}),
]


def _load(name: str) -> etree._Element:
    root: etree._Element = etree.fromstring((VECTORS / name).read_bytes())
    return root


def _verify(root: etree._Element, cert: str | None) -> list[etree._Element]:
    signature = root.find(f".//{{{WSSE}}}Security/{{{DS}}}Signature")
    assert signature is not None
    key = _bst_key(root) if cert is None else _cert(cert)
    return xmldsig.verify(signature, key, allow_sha1=True)


@pytest.mark.parametrize(("name", "cert", "covers"), SAMPLES, ids=[s[0] for s in SAMPLES])
def test_reference_signatures_verify(name: str, cert: str | None, covers: set[str]) -> None:
    covered = _verify(_load(name), cert)
    assert covers <= {etree.QName(el).localname for el in covered}


def test_the_str_transform_digest_of_the_encrypted_token_matches_the_dotnet_reference() -> None:
    """The request's STR-Transform reference: our dereferencing and canonical form give the .NET digest exactly."""
    root = _load("net-wsc-to-wsp-request.xml")
    covered = _verify(root, "wsc-java-ref-test.pem")
    (token_ref,) = [el for el in covered if etree.QName(el).localname == "SecurityTokenReference"]
    token = strtransform.dereference(token_ref)
    assert etree.QName(token).localname == "EncryptedAssertion"
    assert strtransform.referenced_id(token_ref) == "encryptedassertion"


def _signed_texts(root: etree._Element, cert: str | None) -> list[etree._Element]:
    """Elements with text inside what the signature covers (through the STR-Transform: inside the token)."""
    out = []
    for el in _verify(root, cert):
        scope = strtransform.dereference(el) if etree.QName(el).localname == "SecurityTokenReference" else el
        out.extend(x for x in scope.iter() if isinstance(x.tag, str) and (x.text or "").strip())
    return out


@pytest.mark.parametrize(("name", "cert", "covers"), SAMPLES, ids=[s[0] for s in SAMPLES])
def test_a_changed_byte_in_any_signed_part_is_refused(name: str, cert: str | None, covers: set[str]) -> None:
    count = len(_signed_texts(_load(name), cert))
    assert count >= len(covers) - 1
    for i in range(count):
        root = _load(name)
        target = _signed_texts(root, cert)[i]
        text = target.text or ""
        k = len(text) // 2
        target.text = text[:k] + ("A" if text[k] != "A" else "B") + text[k + 1 :]
        with pytest.raises(SecurityError):
            _verify(root, cert)


def test_the_signature_value_itself_is_checked() -> None:
    root = _load("net-sts-to-wsc-rstr.xml")
    value = root.find(f".//{{{DS}}}SignatureValue")
    assert value is not None and value.text
    raw = bytearray(base64.b64decode(value.text))
    raw[10] ^= 1
    value.text = base64.b64encode(bytes(raw)).decode()
    with pytest.raises(SecurityError, match="Signaturværdien"):
        _verify(root, "sts-nemlogin-test.pem")


def test_sha1_is_refused_unless_asked_for() -> None:
    """The STS's 2015 RSTR is signed with RSA-SHA1: accepted only where the caller allows it, never by default."""
    root = _load("net-sts-to-wsc-rstr.xml")
    signature = root.find(f".//{{{WSSE}}}Security/{{{DS}}}Signature")
    assert signature is not None
    with pytest.raises(SecurityError, match="RSA-SHA256"):
        xmldsig.verify(signature, _cert("sts-nemlogin-test.pem"))
