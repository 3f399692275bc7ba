"""The lean XML-DSig (smdb.auth.xmldsig) against an independent implementation (signxml), both ways, and against
tampering, signature wrapping, duplicate ids and algorithms outside the profile."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
from lxml import etree
from signxml.algorithms import DigestAlgorithm, SignatureConstructionMethod, SignatureMethod
from signxml.signer import XMLSigner
from signxml.verifier import SignatureConfiguration, XMLVerifier

from smdb.auth import wsse, xmldsig
from smdb.auth.certificates import Credentials
from smdb.errors import SecurityError

ENV = (
    b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header/><s:Body>'
    b'<HentAnmodninger xmlns="http://smdb.dst.dk/api/external/v1"><Soegning><PersonIdentifikator>0101904322'
    b"</PersonIdentifikator><KommuneKode>101</KommuneKode></Soegning></HentAnmodninger></s:Body></s:Envelope>"
)
SEC = f"{{{wsse.SOAP_NS}}}Header/{{{wsse.WSSE_NS}}}Security"


def signed(creds: Credentials) -> bytes:
    env = etree.fromstring(ENV)
    wsse.sign_envelope(env, creds, now=datetime.now(UTC))
    out: bytes = etree.tostring(env)
    return out


def test_our_signature_verifies_with_signxml(client_creds: Credentials) -> None:
    raw = signed(client_creds)
    results = XMLVerifier().verify(
        raw,
        x509_cert=client_creds.certificate,
        expect_config=SignatureConfiguration(expect_references=2, location=f"./{SEC.replace('Security', 'Security/')}"),
    )
    assert len(results) == 2  # type: ignore[arg-type]


def test_a_signxml_signature_verifies_with_ours(client_creds: Credentials) -> None:
    env = etree.fromstring(signed(client_creds))
    sec = env.find(SEC)
    assert sec is not None
    ours = sec.find(f"{{{xmldsig.DS_NS}}}Signature")
    assert ours is not None
    key_info = ours.find(f"{{{xmldsig.DS_NS}}}KeyInfo")
    sec.remove(ours)
    ids = [
        f"#{sec.getparent().getparent()[1].get(xmldsig.WSU_ID)}",  # type: ignore[union-attr]
        f"#{sec.find(f'{{{wsse.WSU_NS}}}Timestamp').get(xmldsig.WSU_ID)}",
    ]  # type: ignore[union-attr]
    signer = XMLSigner(
        method=SignatureConstructionMethod.detached,
        signature_algorithm=SignatureMethod.RSA_SHA256,
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm=xmldsig.EXC_C14N,
    )
    sec.append(signer.sign(env, key=client_creds.private_key, reference_uri=ids, key_info=key_info))
    again = etree.fromstring(etree.tostring(env))  # as received
    assert wsse.verify_envelope(again, [client_creds.certificate]) == client_creds.certificate


def _verify(raw: bytes, creds: Credentials) -> None:
    wsse.verify_envelope(etree.fromstring(raw), [creds.certificate])


def test_tampering_with_any_covered_byte_is_refused(client_creds: Credentials) -> None:
    raw = signed(client_creds)
    _verify(raw, client_creds)
    for old, new in ((b"0101904322", b"0202804321"), (b"<KommuneKode>101", b"<KommuneKode>147")):
        with pytest.raises(SecurityError, match="digest"):
            _verify(raw.replace(old, new), client_creds)
    env = etree.fromstring(raw)
    value = env.find(f".//{{{xmldsig.DS_NS}}}SignatureValue")
    assert value is not None and value.text
    value.text = base64.b64encode(bytes(256)).decode()
    with pytest.raises(SecurityError, match="Signaturværdien"):
        wsse.verify_envelope(env, [client_creds.certificate])


def test_signature_wrapping_is_refused(client_creds: Credentials) -> None:
    """The classic attack: keep the signed Body somewhere the application does not look, put a forged Body (with the
    same id) where it does. A duplicated id is refused; a forged Body with another id is not the signed one."""
    env = etree.fromstring(signed(client_creds))
    body = env.find(f"{{{wsse.SOAP_NS}}}Body")
    assert body is not None
    header = env.find(f"{{{wsse.SOAP_NS}}}Header")
    assert header is not None
    wrapper = etree.SubElement(header, "Wrapper")
    forged = etree.fromstring(etree.tostring(body).replace(b"0101904322", b"0202804321"))
    env.replace(body, forged)
    wrapper.append(body)  # the signed original, hidden in the header
    with pytest.raises(SecurityError, match="2 elementer"):
        wsse.verify_envelope(etree.fromstring(etree.tostring(env)), [client_creds.certificate])
    forged.set(xmldsig.WSU_ID, "other")
    with pytest.raises(SecurityError, match="dækker ikke"):
        wsse.verify_envelope(etree.fromstring(etree.tostring(env)), [client_creds.certificate])


@pytest.mark.parametrize(
    ("old", "new", "match"),
    [
        (xmldsig.RSA_SHA256, "http://www.w3.org/2000/09/xmldsig#rsa-sha1", "RSA-SHA256"),
        (xmldsig.SHA256, "http://www.w3.org/2000/09/xmldsig#sha1", "SHA-256"),
        ('URI="#', 'URI="http://evil.example/#', "samme besked"),
    ],
)
def test_algorithms_and_references_outside_the_profile_are_refused(
    client_creds: Credentials, old: str, new: str, match: str
) -> None:
    raw = signed(client_creds).replace(old.encode(), new.encode(), 1)
    with pytest.raises(SecurityError, match=match):
        _verify(raw, client_creds)


def test_an_enveloped_or_xpath_transform_is_refused(client_creds: Credentials) -> None:
    raw = signed(client_creds).replace(
        f'<ds:Transform Algorithm="{xmldsig.EXC_C14N}"/>'.encode(),
        b'<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>',
        1,
    )
    with pytest.raises(SecurityError, match="præcis én transform"):
        _verify(raw, client_creds)
