"""STS mode against the NemLog-in STS rules and OIO-IDWS SOAP Binding 1.1, point by point (docs/security.md,
"OIO-IDWS conformance"). The simulated STS and service enforce each point, so each is a test that the old, wrong
form is refused and the right one accepted; the reference implementations' own messages are in
tests/test_oioidws_vectors.py.
"""

from __future__ import annotations

import base64
import copy
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography import x509
from lxml import etree

from smdb.auth import strtransform, sts, wsse, xmldsig
from smdb.auth.certificates import Credentials
from smdb.auth.sts import (
    STS_RULE_FAULT_CODES,
    StsAuthenticationFailed,
    StsClockSkew,
    StsConfig,
    StsError,
    StsTokenProvider,
    StsUnknownAudience,
    build_issue_request,
    parse_issue_response,
    raise_for_fault,
)
from smdb.errors import SmdbSecurityFault
from smdb.sim import SimServer, Simulator
from smdb.sim.sts import SIM_AUDIENCE
from smdb.soap.contract import NS, OPERATIONS, SERVICES

VECTORS = Path(__file__).parent / "vectors" / "oioidws"
SOAP = wsse.SOAP_NS
SOAP12 = wsse.SOAP12_NS
WSA = sts.WSA_NS


@pytest.fixture
def sts_sim(client_creds: Credentials) -> Iterator[SimServer]:
    app = Simulator(trusted=[client_creds.certificate], auth="sts")
    with SimServer(app, client_credentials=client_creds) as server:
        yield server


def config(server: SimServer, **kw: Any) -> StsConfig:
    assert server.app.sts is not None
    settings: dict[str, Any] = {
        "endpoint": server.sts_url,
        "audience": SIM_AUDIENCE,
        "certificates": (server.app.sts.certificate,),
        **kw,
    }
    return StsConfig(**settings)


# ----------------------------------------------------------------------------- the request (RST)
def test_the_rst_has_the_shape_of_the_reference_implementations(client_creds: Credentials) -> None:
    """As OIOIDWS.Net's RST (tests/vectors/oioidws/net-wsc-to-sts-rst.xml)."""
    now = datetime(2026, 11, 24, 12, 0, 0, 123000, tzinfo=UTC)
    body, message_id = build_issue_request(client_creds, StsConfig(audience="https://smdb.example"), now)
    env = etree.fromstring(body)
    header = env.find(f"{{{SOAP}}}Header")
    assert header is not None
    assert header.findtext(f"{{{WSA}}}To") == "https://signature.sts.nemlog-in.dk/"  # the entity id, not the URL
    assert message_id.startswith("uuid:") and header.findtext(f"{{{WSA}}}MessageID") == message_id
    address = env.find(f".//{{http://schemas.xmlsoap.org/ws/2002/12/policy}}AppliesTo/{{{WSA}}}EndpointReference")
    assert address is not None and address.findtext(f"{{{WSA}}}Address") == "https://smdb.example"
    assert env.findtext(f".//{{{sts.WST_NS}}}Lifetime/{{{wsse.WSU_NS}}}Expires") == "2026-11-24T20:00:00Z"
    assert env.findtext(f".//{{{wsse.WSU_NS}}}Timestamp/{{{wsse.WSU_NS}}}Created") == "2026-11-24T12:00:00Z"
    sec = header.find(f"{{{wsse.WSSE_NS}}}Security")
    assert sec is not None
    signature = sec.find(f"{{{xmldsig.DS_NS}}}Signature")
    assert signature is not None
    key = client_creds.certificate.public_key()
    covered = {etree.QName(el).localname for el in xmldsig.verify(signature, key)}  # type: ignore[arg-type]
    assert covered == {"Action", "MessageID", "To", "Timestamp", "BinarySecurityToken", "Body"}


def _wrong(monkeypatch: pytest.MonkeyPatch, what: str) -> dict[str, Any]:
    """Make build_issue_request send the old, wrong form of one point; returns StsConfig overrides."""
    if what == "To is the endpoint URL":
        return {"entity_id": "ENDPOINT"}
    if what == "AppliesTo in the W3C policy namespace":
        monkeypatch.setattr(sts, "WSP_NS", sts.WSP_W3C_NS)
    if what == "BinarySecurityToken not signed":
        real = sts.sign_envelope
        monkeypatch.setattr(sts, "sign_envelope", lambda *a, **kw: real(*a, **{**kw, "sign_token": False}))
    if what == "Lifetime with fractions of a second":
        monkeypatch.setattr(sts, "_ts_seconds", wsse._ts)
    return {}


@pytest.mark.parametrize(
    ("what", "error", "says"),
    [
        ("To is the endpoint URL", StsError, "entity id"),
        ("AppliesTo in the W3C policy namespace", StsError, "AppliesTo mangler"),
        ("BinarySecurityToken not signed", StsAuthenticationFailed, "BinarySecurityToken"),
        ("Lifetime with fractions of a second", StsClockSkew, "yyyy-MM-ddTHH:mm:ssZ"),
    ],
)
def test_the_simulated_sts_refuses_the_old_form_of_each_point(
    sts_sim: SimServer,
    client_creds: Credentials,
    monkeypatch: pytest.MonkeyPatch,
    what: str,
    error: type[StsError],
    says: str,
) -> None:
    overrides = _wrong(monkeypatch, what)
    if overrides.get("entity_id") == "ENDPOINT":
        overrides["entity_id"] = sts_sim.sts_url
    with pytest.raises(error, match=says):
        StsTokenProvider(client_creds, config(sts_sim, **overrides)).token()
    monkeypatch.undo()
    assert StsTokenProvider(client_creds, config(sts_sim)).token().assertion is not None  # the right form passes


# ----------------------------------------------------------------------------- the answer (RSTR)
def test_the_real_shaped_rstr_of_the_reference_sts_yields_its_encrypted_token() -> None:
    """NemLog-in's RSTR (2015, from OIOIDWS.Net): verified with the STS certificate (it signs with RSA-SHA1, so
    only with allow_sha1), its EncryptedAssertion kept as it is and named by RequestedAttachedReference."""
    cert = x509.load_pem_x509_certificate((VECTORS / "sts-nemlogin-test.pem").read_bytes())
    body = (VECTORS / "net-sts-to-wsc-rstr.xml").read_bytes()
    now = datetime(2015, 11, 4, 11, 55, tzinfo=UTC)
    request_id = "uuid:6b794c3a-49f0-4b6b-bece-ef52573089b9"  # the MessageID of net-wsc-to-sts-rst.xml
    cfg = StsConfig(audience="https://wsp.itcrew.dk", certificates=(cert,), allow_sha1=True)
    token = parse_issue_response(body, cfg, request_id, now)
    assert etree.QName(token.assertion).localname == "EncryptedAssertion"
    assert token.assertion_id == "encryptedassertion"  # before: an empty KeyIdentifier, every call refused
    assert token.expires == datetime(2015, 11, 4, 11, 59, 12, tzinfo=UTC)
    with pytest.raises(StsAuthenticationFailed, match="RSA-SHA256"):
        parse_issue_response(body, StsConfig(certificates=(cert,)), request_id, now)  # SHA-1 not allowed
    with pytest.raises(StsAuthenticationFailed, match="RelatesTo"):
        parse_issue_response(body, cfg, "uuid:00000000-0000-0000-0000-000000000000", now)
    tampered = body.replace(b"https://wsp.itcrew.dk", b"https://wsp.itcrew.de")
    with pytest.raises(StsAuthenticationFailed, match="digest"):
        parse_issue_response(tampered, cfg, request_id, now)


def test_an_rstr_not_signed_by_the_configured_sts_is_refused_before_the_token_is_used(
    sts_sim: SimServer, client_creds: Credentials
) -> None:
    other = StsConfig(endpoint=sts_sim.sts_url, audience=SIM_AUDIENCE, certificates=(client_creds.certificate,))
    with pytest.raises(StsAuthenticationFailed, match="STS-certifikatet"):
        StsTokenProvider(client_creds, other).token()


def test_a_replayed_rstr_is_refused(sts_sim: SimServer, client_creds: Credentials) -> None:
    cfg = config(sts_sim)
    request, message_id = build_issue_request(client_creds, cfg, datetime.now(UTC))
    answer = requests.post(sts_sim.sts_url, data=request, timeout=10).content
    seen: set[str] = set()
    parse_issue_response(answer, cfg, message_id, seen=seen)
    with pytest.raises(StsAuthenticationFailed, match="gentaget"):
        parse_issue_response(answer, cfg, message_id, seen=seen)


def test_the_simulated_sts_returns_an_encrypted_token_for_the_service(
    sts_sim: SimServer, client_creds: Credentials
) -> None:
    token = StsTokenProvider(client_creds, config(sts_sim)).token()
    assert etree.QName(token.assertion).localname == "EncryptedAssertion"
    assert b"CvrNumberIdentifier" not in etree.tostring(token.assertion)  # opaque to the client
    assert token.assertion_id == "encryptedassertion"


# ----------------------------------------------------------------------------- faults
def _fault(code: str, nested: bool) -> etree._Element:
    if not nested:
        xml = (
            f'<s:Envelope xmlns:s="{SOAP}"><s:Body><s:Fault><faultcode>wst:{code}</faultcode>'
            f"<faultstring>afvist</faultstring></s:Fault></s:Body></s:Envelope>"
        )
    else:  # NemLog-in's: a second Envelope in the Body, faultcode/faultstring in the WS-Trust namespace
        xml = (
            f'<s:Envelope xmlns:s="{SOAP}"><s:Body><s:Envelope xmlns="{sts.WST_NS}"><s:Body><s:Fault>'
            f"<faultcode>wst:{code}</faultcode><faultstring>afvist</faultstring>"
            "</s:Fault></s:Body></s:Envelope></s:Body></s:Envelope>"
        )
    root: etree._Element = etree.fromstring(xml)
    return root


@pytest.mark.parametrize("nested", [False, True], ids=["soap11", "nemlogin-nested"])
@pytest.mark.parametrize("code", STS_RULE_FAULT_CODES)
def test_every_sts_rule_fault_code_in_both_shapes_gets_a_clear_message(code: str, nested: bool) -> None:
    with pytest.raises(StsError) as raised:
        raise_for_fault(_fault(code, nested))
    message = str(raised.value)
    assert f"(STS: {code}: afvist)" in message
    assert not message.startswith("STS'en afviste anmodningen (")  # a specific hint, not the generic one
    expected = {
        "FailedAuthentication": StsAuthenticationFailed,
        "InvalidSecurityToken": StsAuthenticationFailed,
        "ExpiredData": StsClockSkew,
        "InvalidTimeRange": StsClockSkew,
    }.get(code, StsError)
    assert type(raised.value) is expected


def test_an_unknown_audience_is_reported_in_the_nested_shape_by_the_simulated_sts(
    sts_sim: SimServer, client_creds: Credentials
) -> None:
    cfg = config(sts_sim, audience="urn:findes:ikke")
    request, _ = build_issue_request(client_creds, cfg, datetime.now(UTC))
    answer = requests.post(sts_sim.sts_url, data=request, timeout=10)
    root = etree.fromstring(answer.content)
    assert root.find(f"{{{SOAP}}}Body/{{{SOAP}}}Envelope/{{{SOAP}}}Body/{{{SOAP}}}Fault") is not None
    with pytest.raises(StsUnknownAudience, match="InvalidScope"):
        raise_for_fault(root)


# ----------------------------------------------------------------------------- service calls with the token
WHOAMI = OPERATIONS["WhoAmI"]


def _call(server: SimServer, envelope: etree._Element) -> requests.Response:
    return requests.post(
        f"{server.url}/smdbwebservice/api/external/v1/{SERVICES[WHOAMI.service].path}",
        data=etree.tostring(envelope),
        headers={"Content-Type": f'application/soap+xml; charset=utf-8; action="{WHOAMI.action}"'},
        timeout=10,
    )


def _envelope() -> etree._Element:
    root: etree._Element = etree.fromstring(
        f'<s:Envelope xmlns:s="{SOAP12}" xmlns:a="{WSA}"><s:Header><a:Action>{WHOAMI.action}</a:Action>'
        f"<a:MessageID>urn:uuid:3e62d12d-ade5-4639-9ad4-aa34b58c3f70</a:MessageID></s:Header>"
        f'<s:Body><WhoAmI xmlns="{NS}"/></s:Body></s:Envelope>'
    )
    return root


def _signed_call(server: SimServer, creds: Credentials) -> tuple[etree._Element, etree._Element]:
    """A WhoAmI call signed with a fresh token as the client signs it; returns (envelope, its wsse:Security)."""
    token = StsTokenProvider(creds, config(server)).token()
    env = wsse.sign_envelope_with_token(_envelope(), creds, token.assertion, token_id=token.assertion_id)
    sec = env.find(f"{{{SOAP12}}}Header/{{{wsse.WSSE_NS}}}Security")
    assert sec is not None
    return env, sec


def test_a_service_call_signs_every_header_and_the_token_through_the_str_transform(
    sts_sim: SimServer, client_creds: Credentials
) -> None:
    env, sec = _signed_call(sts_sim, client_creds)
    signature = sec.find(f"{{{xmldsig.DS_NS}}}Signature")
    assert signature is not None
    transforms = [t.get("Algorithm") for t in signature.iter(f"{{{xmldsig.DS_NS}}}Transform")]
    assert strtransform.STR_TRANSFORM in transforms
    token_ref = sec.find(f"{{{wsse.WSSE_NS}}}SecurityTokenReference")
    assert token_ref is not None and token_ref.get(f"{{{wsse.WSU_NS}}}Id")
    assert token_ref.get(f"{{{wsse.WSSE11_NS}}}TokenType") == wsse.SAML_TOKEN_TYPE
    assert strtransform.referenced_id(token_ref) == "encryptedassertion"
    assert _call(sts_sim, env).status_code == 200


def test_the_simulated_service_refuses_a_token_signed_only_through_keyinfo(
    sts_sim: SimServer, client_creds: Credentials
) -> None:
    """Today's old form: the token referenced from KeyInfo only, not signed through the STR-Transform."""
    env, sec = _signed_call(sts_sim, client_creds)
    old_sig = sec.find(f"{{{xmldsig.DS_NS}}}Signature")
    token_ref = sec.find(f"{{{wsse.WSSE_NS}}}SecurityTokenReference")
    assert old_sig is not None and token_ref is not None
    key_info = copy.deepcopy(old_sig.find(f"{{{xmldsig.DS_NS}}}KeyInfo"))
    sec.remove(old_sig)
    by_id = {el.get(xmldsig.WSU_ID): el for el in env.iter() if isinstance(el.tag, str) and el.get(xmldsig.WSU_ID)}
    signed = [el for i, el in by_id.items() if el is not token_ref and i is not None]
    assert key_info is not None
    xmldsig.sign(sec, signed, client_creds.private_key, key_info)
    answer = _call(sts_sim, env)
    assert answer.status_code == 500 and "STR-Transform" in answer.content.decode()


def test_the_simulated_service_refuses_an_unsigned_ws_addressing_header(
    sts_sim: SimServer, client_creds: Credentials
) -> None:
    env, _ = _signed_call(sts_sim, client_creds)
    header = env.find(f"{{{SOAP12}}}Header")
    assert header is not None
    etree.SubElement(header, f"{{{WSA}}}To").text = "https://andet.example"  # added after signing
    answer = _call(sts_sim, env)
    assert answer.status_code == 500 and "headerelementerne To" in answer.content.decode()


def test_sts_mode_end_to_end_with_the_cli_verifies_the_sts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`smdb sim serve --auth sts --sts-cert-out` hands the CLI the STS certificate; a wrong one is refused."""
    from smdb.cli import main
    from tests.processes import sim_serve

    assert main(["sim", "cert", "--out", str(tmp_path)]) == 0
    capsys.readouterr()
    with sim_serve(tmp_path, monkeypatch, "--auth", "sts", "--sts-cert-out", str(tmp_path / "sts.pem")):
        import os

        assert os.environ["SMDB_STS_CERT"] == str(tmp_path / "sts.pem")
        assert main(["--auth", "sts", "whoami"]) == 0
        capsys.readouterr()
        monkeypatch.setenv("SMDB_STS_CERT", str(tmp_path / "test-cert.pem"))  # not the STS's
        assert main(["--auth", "sts", "whoami"]) == 1
        assert "STS-certifikatet" in capsys.readouterr().err


def test_a_token_reference_names_exactly_one_token() -> None:
    """Two tokens with the reference's id (a wrapping attempt) are refused, not resolved to the first."""
    xml = (
        f'<r xmlns:wsse="{wsse.WSSE_NS}" xmlns:saml="{wsse.SAML2_NS}">'
        '<saml:Assertion ID="x"/><saml:Assertion ID="x"/>'
        f'<wsse:SecurityTokenReference><wsse:KeyIdentifier ValueType="{strtransform.SAML_ID}">x'
        "</wsse:KeyIdentifier></wsse:SecurityTokenReference></r>"
    )
    root = etree.fromstring(xml)
    ref = root.find(f"{{{wsse.WSSE_NS}}}SecurityTokenReference")
    assert ref is not None
    from smdb.errors import SecurityError

    with pytest.raises(SecurityError, match="2 tokens"):
        strtransform.dereference(ref)
    del root[1]
    assert base64.b64encode(strtransform.canonical(ref)).decode()


def test_a_service_answer_to_a_forged_token_is_a_security_fault(sts_sim: SimServer) -> None:
    c = sts_sim.client()
    assert c.sts_provider is not None
    assert c.whoami()["Cvr"] == "29189900"
    token = c.sts_provider.token()
    forged = copy.deepcopy(token.assertion)
    forged.find(f".//{{{strtransform.XENC_NS}}}CipherValue").text = "AAAA"  # type: ignore[union-attr]
    c.sts_provider.token = lambda: sts.Token(forged, token.assertion_id, token.expires, token.audience)  # type: ignore[method-assign]
    with pytest.raises(SmdbSecurityFault):
        c.echo("x")
