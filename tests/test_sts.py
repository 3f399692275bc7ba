"""NemLog-in STS (OIO-IDWS) mode end to end over loopback, with an injectable clock."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from smdb import eksempler as ex
from smdb.auth import testcert
from smdb.auth.certificates import Credentials
from smdb.auth.sts import (
    SAML2_NS,
    StsAuthenticationFailed,
    StsClockSkew,
    StsConfig,
    StsUnknownAudience,
    Token,
)
from smdb.client import SmdbClient
from smdb.errors import SmdbFault, SmdbSecurityFault
from smdb.models import Kontaktforloeb
from smdb.reporting import Reporter
from smdb.sim import SimServer, Simulator
from smdb.sim.sts import SIM_AUDIENCE, SimSts, issue_assertion
from tests.processes import sim_serve


class Clock:
    """One clock for client, STS and service, moved by the test."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sts_sim(client_creds: Credentials, clock: Clock) -> Iterator[SimServer]:
    other = testcert.generate("Anden kommune", "11223344")
    sts = SimSts([client_creds.certificate, other.certificate], [SIM_AUDIENCE, "urn:anden:tjeneste"], clock=clock)
    app = Simulator(trusted=[client_creds.certificate], auth="sts", sts=sts, clock=clock)
    server = SimServer(app, client_credentials=client_creds)
    server.other_creds = other  # type: ignore[attr-defined]
    with server:
        yield server


def client_for(sim: SimServer, clock: Clock, **kw: Any) -> SmdbClient:
    return sim.client(clock=clock, **kw)


def test_token_is_issued_once_and_reused(sts_sim: SimServer, clock: Clock) -> None:
    c = client_for(sts_sim, clock)
    assert c.whoami()["Cvr"] == "29189900"
    for _ in range(5):
        assert c.echo("x") == "x"
    assert c.sts_provider is not None and c.sts_provider.issued == 1
    assert sts_sim.app.sts is not None and sts_sim.app.sts.issued == 1


def test_reporting_works_unchanged_in_sts_mode(sts_sim: SimServer, clock: Clock) -> None:
    c = client_for(sts_sim, clock, today=lambda: datetime(2025, 6, 1).date())
    out = Reporter(c).report(Kontaktforloeb.model_validate(ex.kontaktforloeb()))
    assert out.status == "sent"
    assert sts_sim.app.store.count() == 6


def test_token_is_renewed_shortly_before_it_expires(sts_sim: SimServer, clock: Clock) -> None:
    config = StsConfig(
        endpoint=sts_sim.sts_url, audience=SIM_AUDIENCE, lifetime=timedelta(hours=1), renew_before=timedelta(minutes=5)
    )
    c = client_for(sts_sim, clock, sts=config)
    assert c.sts_provider is not None
    c.echo("a")
    first = c.sts_provider.token()
    clock.advance(minutes=50)
    c.echo("b")
    assert c.sts_provider.issued == 1
    clock.advance(minutes=6)  # 56 minutes: inside the renewal margin
    c.echo("c")
    assert c.sts_provider.issued == 2
    assert c.sts_provider.token().expires > first.expires


def test_one_renewal_at_a_time_from_many_threads(sts_sim: SimServer, clock: Clock) -> None:
    c = client_for(sts_sim, clock)
    errors: list[BaseException] = []

    def call() -> None:
        try:
            c.echo("t")
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert c.sts_provider is not None and c.sts_provider.issued == 1


def _with_token(c: SmdbClient, token: Token) -> None:
    assert c.sts_provider is not None
    c.sts_provider.token = lambda: token  # type: ignore[method-assign]


def test_expired_token_is_refused(sts_sim: SimServer, clock: Clock) -> None:
    config = StsConfig(endpoint=sts_sim.sts_url, audience=SIM_AUDIENCE, lifetime=timedelta(minutes=30))
    c = client_for(sts_sim, clock, sts=config)
    assert c.sts_provider is not None
    old = c.sts_provider.token()
    clock.advance(hours=1)
    _with_token(c, old)
    with pytest.raises(SmdbSecurityFault, match="udløbet"):
        c.echo("x")


def test_forged_token_is_refused(sts_sim: SimServer, clock: Clock, client_creds: Credentials) -> None:
    c = client_for(sts_sim, clock)
    rogue_sts = testcert.generate("Falsk STS")
    forged = issue_assertion(
        rogue_sts, "https://falsk", SIM_AUDIENCE, client_creds.certificate, clock(), clock() + timedelta(hours=1)
    )
    _with_token(c, Token(forged, forged.get("ID") or "", clock() + timedelta(hours=1), SIM_AUDIENCE))
    with pytest.raises(SmdbSecurityFault, match="betroet STS"):
        c.echo("x")


def test_tampered_token_is_refused(sts_sim: SimServer, clock: Clock) -> None:
    """The STS's token is encrypted for the service: changed inside (re-encrypted by someone who could), or a
    changed byte of the ciphertext, it is refused."""
    from smdb.auth.xmlenc import decrypt_assertion, encrypt_assertion
    from smdb.sim.codec import PARSER

    c = client_for(sts_sim, clock)
    assert c.sts_provider is not None and sts_sim.app.server_credentials is not None
    token = c.sts_provider.token()
    assert token.assertion.tag == f"{{{SAML2_NS}}}EncryptedAssertion"
    assertion = decrypt_assertion(token.assertion, sts_sim.app.server_credentials.private_key, PARSER)
    name_id = assertion.find(f".//{{{SAML2_NS}}}NameID")
    assert name_id is not None
    name_id.text = "CN=Nogen anden"
    tampered = encrypt_assertion(assertion, sts_sim.server_certificate)
    _with_token(c, Token(tampered, token.assertion_id, token.expires, token.audience))
    with pytest.raises(SmdbSecurityFault, match="betroet STS"):
        c.echo("x")
    garbled = etree.fromstring(etree.tostring(token.assertion))
    value = garbled.find(
        ".//{http://www.w3.org/2001/04/xmlenc#}CipherData/{http://www.w3.org/2001/04/xmlenc#}CipherValue"
    )
    assert value is not None and value.text
    value.text = ("A" if value.text[40] != "A" else "B").join((value.text[:40], value.text[41:]))
    _with_token(c, Token(garbled, token.assertion_id, token.expires, token.audience))
    with pytest.raises(SmdbSecurityFault, match=r"dekrypteres|betroet STS"):
        c.echo("x")


def test_token_for_another_audience_is_refused(sts_sim: SimServer, clock: Clock) -> None:
    c = client_for(sts_sim, clock, sts=StsConfig(endpoint=sts_sim.sts_url, audience="urn:anden:tjeneste"))
    with pytest.raises(SmdbSecurityFault, match="anden tjeneste"):
        c.echo("x")


def test_token_presented_by_another_key_is_refused(sts_sim: SimServer, clock: Clock) -> None:
    other_creds = sts_sim.other_creds  # type: ignore[attr-defined]
    other = SmdbClient(
        base_url=sts_sim.url,
        credentials=other_creds,
        auth="sts",
        clock=clock,
        sts=StsConfig(endpoint=sts_sim.sts_url, audience=SIM_AUDIENCE),
    )
    assert other.sts_provider is not None
    stolen = other.sts_provider.token()  # issued to the other organisation's key
    c = client_for(sts_sim, clock)
    _with_token(c, stolen)
    with pytest.raises(SmdbSecurityFault, match="nøgle"):
        c.echo("x")


def test_sts_refusals_are_typed_for_the_support_desk(sts_sim: SimServer, clock: Clock) -> None:
    stranger = SmdbClient(
        base_url=sts_sim.url,
        credentials=testcert.generate("Ukendt"),
        auth="sts",
        clock=clock,
        sts=StsConfig(endpoint=sts_sim.sts_url, audience=SIM_AUDIENCE),
    )
    with pytest.raises(StsAuthenticationFailed, match="registreret hos NemLog-in"):
        stranger.echo("x")
    unknown = client_for(sts_sim, clock, sts=StsConfig(endpoint=sts_sim.sts_url, audience="urn:findes:ikke"))
    with pytest.raises(StsUnknownAudience, match="entity id"):
        unknown.echo("x")
    skewed = client_for(sts_sim, lambda: clock() + timedelta(hours=1))  # type: ignore[arg-type]
    with pytest.raises(StsClockSkew, match="ur"):
        skewed.echo("x")


def test_certificate_mode_request_is_refused_in_sts_mode(
    sts_sim: SimServer, clock: Clock, client_creds: Credentials
) -> None:
    """A certificate-mode call (SOAP 1.1, no token) is refused: the STS-mode service speaks SOAP 1.2 (OIO-IDWS SOAP
    Binding 1.1) and requires the token."""
    plain = SmdbClient(base_url=sts_sim.url, credentials=client_creds, clock=clock)
    with pytest.raises(SmdbFault, match=r"SOAP 1\.2"):
        plain.echo("x")


def test_cli_whoami_and_demo_with_sts(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from smdb.cli import main

    with SimServer(auth="sts") as sim:
        cert_pem, key_pem = testcert.to_pem(sim.client_credentials)
        (tmp_path / "c.pem").write_bytes(cert_pem)
        (tmp_path / "k.pem").write_bytes(key_pem)
        for var, value in {
            "SMDB_ENV": "local",
            "SMDB_ENDPOINT": sim.url,
            "SMDB_CERT": str(tmp_path / "c.pem"),
            "SMDB_KEY": str(tmp_path / "k.pem"),
        }.items():
            monkeypatch.setenv(var, value)
        assert main(["--auth", "sts", "whoami"]) == 2  # local STS needs its URL and audience
        assert "--sts-url" in capsys.readouterr().err
        assert main(["--auth", "sts", "--sts-url", sim.sts_url, "--sts-audience", sim.app.audience, "whoami"]) == 0
        assert "Cvr: 29189900" in capsys.readouterr().out
        assert main(["whoami"]) == 1  # certificate mode against an STS-mode service: refused
        assert "SOAP 1.2" in capsys.readouterr().err  # a certificate-mode call to the STS-mode service
    assert main(["demo", "--auth", "sts"]) == 0
    assert "STS-token" in capsys.readouterr().out


def test_cli_whoami_sts_against_sim_serve_sts_process(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from smdb.cli import main

    assert main(["sim", "cert", "--out", str(tmp_path)]) == 0
    capsys.readouterr()
    with sim_serve(Path(tmp_path), monkeypatch, "--auth", "sts"):
        assert main(["--auth", "sts", "whoami"]) == 0
        assert "Cvr: 29189900" in capsys.readouterr().out


def test_a_refused_token_is_replaced_once(sts_sim: SimServer, clock: Clock) -> None:
    config = StsConfig(endpoint=sts_sim.sts_url, audience=SIM_AUDIENCE, lifetime=timedelta(minutes=30))
    c = client_for(sts_sim, clock, sts=config)
    assert c.sts_provider is not None
    c.echo("a")
    stale = c.sts_provider.token()
    # the service stops accepting the cached token (here: it is presented after its lifetime)
    c.sts_provider._tokens[SIM_AUDIENCE] = Token(
        stale.assertion, stale.assertion_id, clock() + timedelta(hours=2), SIM_AUDIENCE
    )
    clock.advance(minutes=40)
    assert c.echo("b") == "b"
    assert c.sts_provider.issued == 2
