"""Certificates and WS-Security: loading, expiry, signing, verification, tampering, replay."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from lxml import etree

from smdb import auth
from smdb.auth import testcert, wsse
from smdb.auth.certificates import CertificateExpiryWarning, Credentials
from smdb.errors import CertificateError, SecurityError

ENV = b"""<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>
<Echo xmlns="http://smdb.dst.dk/api/external/v1"><Tekst>hej 0101904322</Tekst></Echo></s:Body></s:Envelope>"""


def signed(creds: Credentials, now: datetime | None = None) -> bytes:
    env = etree.fromstring(ENV)
    wsse.sign_envelope(env, creds, now=now)
    return etree.tostring(env)


def test_pkcs12_round_trip_and_wrong_password(tmp_path: Path, client_creds: Credentials) -> None:
    p = tmp_path / "org.p12"
    p.write_bytes(testcert.to_pkcs12(client_creds, "hemmelig"))
    loaded = auth.load(p, "hemmelig")
    assert loaded.certificate == client_creds.certificate
    with pytest.raises(CertificateError, match="forkert adgangskode"):
        auth.load(p, "forkert")
    assert "hemmelig" not in repr(loaded) and "PRIVATE" not in repr(loaded)


def test_pem_with_encrypted_key_and_key_mismatch(
    tmp_path: Path, client_creds: Credentials, server_creds: Credentials
) -> None:
    cert_pem, key_pem = testcert.to_pem(client_creds, "pw")
    (tmp_path / "c.pem").write_bytes(cert_pem)
    (tmp_path / "k.pem").write_bytes(key_pem)
    assert auth.load(tmp_path / "c.pem", "pw", tmp_path / "k.pem").subject == client_creds.subject
    with pytest.raises(CertificateError, match="adgangskode"):
        auth.load(tmp_path / "c.pem", "nej", tmp_path / "k.pem")
    _, other_key = testcert.to_pem(server_creds)
    (tmp_path / "other.pem").write_bytes(other_key)
    with pytest.raises(CertificateError, match="hører ikke til certifikatet"):
        auth.load(tmp_path / "c.pem", None, tmp_path / "other.pem")


def test_expiry_is_reported_and_warned_30_days_ahead() -> None:
    now = datetime.now(UTC)
    expired = testcert.generate(not_before=now - timedelta(days=400), days=365, key_size=2048)
    with pytest.raises(CertificateError, match="udløb"):
        expired.check_validity()
    future = testcert.generate(not_before=now + timedelta(days=2))
    with pytest.raises(CertificateError, match="først gyldigt"):
        future.check_validity()
    soon = testcert.generate(days=20)
    with pytest.warns(CertificateExpiryWarning):
        soon.check_validity()
    fine = testcert.generate(days=90)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fine.check_validity()


def test_signature_structure(client_creds: Credentials) -> None:
    env = etree.fromstring(signed(client_creds))
    sec = env.find(f"{{{wsse.SOAP_NS}}}Header/{{{wsse.WSSE_NS}}}Security")
    assert sec is not None
    assert sec.get(f"{{{wsse.SOAP_NS}}}mustUnderstand") == "1"
    assert sec.find(f"{{{wsse.WSU_NS}}}Timestamp") is not None
    assert sec.find(f"{{{wsse.WSSE_NS}}}BinarySecurityToken") is not None
    sig = sec.find(f"{{{wsse.DS_NS}}}Signature")
    assert sig is not None
    algs = [el.get("Algorithm") for el in sig.iter() if el.get("Algorithm")]
    assert "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256" in algs
    assert wsse.EXC_C14N in algs
    assert "http://www.w3.org/2006/12/xml-c14n11" not in algs
    refs = [r.get("URI") for r in sig.iter(f"{{{wsse.DS_NS}}}Reference")]
    assert len(refs) == 2


def test_signature_verifies_with_signxml_and_tampering_fails(client_creds: Credentials) -> None:
    raw = signed(client_creds)
    assert wsse.verify_envelope(etree.fromstring(raw), [client_creds.certificate]) == client_creds.certificate
    with pytest.raises(SecurityError, match="verificeres"):
        # only the Body text changes (a bare b"hej" could also occur inside the base64 certificate)
        wsse.verify_envelope(etree.fromstring(raw.replace(b"<Tekst>hej", b"<Tekst>hoj")), [client_creds.certificate])
    # moving the timestamp is tampering too
    later = raw.replace(b"<wsu:Expires>", b"<wsu:Expires>2099")
    with pytest.raises(SecurityError):
        wsse.verify_envelope(etree.fromstring(later), [client_creds.certificate])


def test_untrusted_certificate_is_refused(client_creds: Credentials, server_creds: Credentials) -> None:
    with pytest.raises(SecurityError, match="ikke betroet"):
        wsse.verify_envelope(etree.fromstring(signed(client_creds)), [server_creds.certificate])


def test_same_subject_different_key_is_refused(client_creds: Credentials) -> None:
    impostor = testcert.generate("Testkommune", "29189900")
    with pytest.raises(SecurityError, match="ikke betroet"):
        wsse.verify_envelope(etree.fromstring(signed(impostor)), [client_creds.certificate])


def test_replay_outside_timestamp_window_is_refused(client_creds: Credentials) -> None:
    old = signed(client_creds, now=datetime.now(UTC) - timedelta(hours=1))
    with pytest.raises(SecurityError, match="tidsstempel"):
        wsse.verify_envelope(etree.fromstring(old), [client_creds.certificate])


def test_unsigned_is_refused(client_creds: Credentials) -> None:
    with pytest.raises(SecurityError, match="ikke signeret"):
        wsse.verify_envelope(etree.fromstring(ENV), [client_creds.certificate])
