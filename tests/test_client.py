"""SmdbClient against stubbed HTTP (responses): endpoints, SOAPAction, envelopes, results, faults, errors."""

from __future__ import annotations

import io
from datetime import date
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import responses
from lxml import etree

from smdb import eksempler as ex
from smdb.auth import wsse
from smdb.auth.certificates import Credentials
from smdb.client import Environment, SmdbClient
from smdb.errors import (
    SecurityError,
    SmdbFault,
    SmdbOutcomeUnknown,
    SmdbRuleRejected,
    SmdbSecurityFault,
    SmdbUnavailable,
    ValidationFailed,
)
from smdb.models import Kontaktforloeb
from smdb.sim import Simulator
from smdb.soap.contract import OPERATIONS, SERVICES

TODAY = date(2025, 6, 1)


def wsgi(app: Simulator, request: requests.PreparedRequest) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(request.url or "")
    body = request.body if isinstance(request.body, bytes) else (request.body or "").encode()
    environ = {
        "REQUEST_METHOD": request.method,
        "PATH_INFO": parts.path,
        "QUERY_STRING": parts.query,
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_SOAPACTION": request.headers.get("SOAPAction", ""),
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "HTTP_HOST": parts.netloc,
    }
    status: list[str] = []
    out = b"".join(app(environ, lambda s, h: status.append(s)))
    return int(status[0].split()[0]), {"Content-Type": "text/xml; charset=utf-8"}, out


@pytest.fixture
def app(client_creds: Credentials, server_creds: Credentials) -> Simulator:
    return Simulator(trusted=[client_creds.certificate], server_credentials=server_creds, today=lambda: TODAY)


def stub(rsps: responses.RequestsMock, app: Simulator, base: str, version: str = "v1") -> list[Any]:
    seen: list[Any] = []

    def callback(request: requests.PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        seen.append(request)
        return wsgi(app, request)

    for svc in SERVICES.values():
        rsps.add_callback(responses.POST, f"{base}/smdbwebservice/api/external/{version}/{svc.path}", callback=callback)
    return seen


def make(client_creds: Credentials, server_creds: Credentials, **kw: Any) -> SmdbClient:
    kw.setdefault("credentials", client_creds)
    kw.setdefault("server_certificates", [server_creds.certificate])
    kw.setdefault("strict", True)
    kw.setdefault("today", lambda: TODAY)
    kw.setdefault("sleep", lambda s: None)
    return SmdbClient(**kw)


@pytest.mark.parametrize(
    ("env", "version", "host"),
    [
        (Environment.PROD, "v1", "https://smdbws.dst.dk"),
        (Environment.PREPROD, "v1", "https://smdbpreprodws.dst.dk"),
        (Environment.PREPROD, "v0", "https://smdbpreprodws.dst.dk"),
    ],
)
def test_every_operation_hits_the_right_endpoint_with_its_soap_action(
    app: Simulator, client_creds: Credentials, server_creds: Credentials, env: Environment, version: str, host: str
) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        seen = stub(rsps, app, host, version)
        c = make(client_creds, server_creds, environment=env, api_version=version)
        assert c.echo("hej") == "hej"
        assert c.whoami()["Cvr"] == "29189900"
        with pytest.raises(SmdbFault) as exc:
            c.throw()
        assert exc.value.code == "THROW"
        f = Kontaktforloeb.model_validate(ex.kontaktforloeb())
        r = c.indsaet_ivaerksaettelse(f)
        assert r.anmodning_id and r.ivaerksaettelse_id
        for t in f.tilbud:
            c.indsaet_tilbudstilknytning(t, r.ivaerksaettelse_id)
        assert f.kvalhep is not None and f.afslutning is not None
        c.indsaet_kvalhep(f.kvalhep, r.ivaerksaettelse_id)
        c.afslut_behandling(f.afslutning, r.anmodning_id)
        legacy = ex.indskrivningsforloeb()
        from smdb.models import Indskrivningsforloeb

        lf = Indskrivningsforloeb.model_validate(legacy)
        ri = c.indsaet_indskrivning(lf.indskrivning)
        (hentet,) = c.hent_indskrivninger(cpr=lf.indskrivning.cpr)
        c.indsaet_ydelse(lf.ydelser[0], hentet)
        assert lf.udskrivning is not None
        c.afslut_indskrivning(lf.udskrivning, hentet, lf.ydelser)
        assert ri.id == hentet.record.smdb_id
        old = Kontaktforloeb.model_validate(ex.kontaktforloeb(cpr="0101701234", anmodningsdato=date(2019, 3, 1)))
        ro = c.indsaet_ivaerksaettelse(old)
        c.indsaet_asi({"AnmodningId": ro.anmodning_id, "AsiDato": date(2019, 3, 1), "AsiData": "<asi/>"})
        assert c.hent_opslag("HentAsiForMyndighed", anmodning_id=ro.anmodning_id)
        assert c.hent_opslag("HentAsiForTilbud") == []
        (stored,) = c.hent_forloeb(f.cpr, 101)
        assert stored.afslutning is not None and len(stored.tilbud) == 2 and stored.kvalhep is not None
        assert c.hent_ydelser(indskrivning_id=ri.id)
        assert any(t["TilbudId"] == 1001 for t in c.hent_alle_tilbud())
        assert {"LandeKode": "5100", "LandeNavn": "Danmark"} in c.hent_landeliste()
        assert c.hent_opslag("HentYdelsespakker")
        actions = {r.headers["SOAPAction"].strip('"') for r in seen}
        assert actions == {op.action for op in OPERATIONS.values()}
        for r in seen:
            assert r.url.startswith(f"{host}/smdbwebservice/api/external/{version}/")
            env_el = etree.fromstring(r.body)
            assert wsse.is_signed(env_el)
            wsse.verify_envelope(env_el, [client_creds.certificate])


def test_hent_results_are_typed_models_with_ids(
    app: Simulator, client_creds: Credentials, server_creds: Credentials
) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        stub(rsps, app, "https://smdbpreprodws.dst.dk")
        c = make(client_creds, server_creds)
        f = Kontaktforloeb.model_validate(ex.kontaktforloeb(afsluttet_efter_dage=None))
        r = c.indsaet_ivaerksaettelse(f)
        (anm,) = c.hent_anmodninger(cpr=f.cpr)
        assert anm.record.smdb_id == r.anmodning_id
        assert anm.record.kommunekode == 101
        assert anm.afslutning is None
        (iv,) = c.hent_ivaerksaettelser(anmodning_id=r.anmodning_id)
        assert iv.anmodning_id == r.anmodning_id
        assert iv.record.alder == 34 and iv.record.dage_siden_anmodning == 9
        assert iv.record.stof(__import__("smdb.stoffer").stoffer.Stof.CANNABIS).dage == 8


def test_validation_failure_sends_nothing(app: Simulator, client_creds: Credentials, server_creds: Credentials) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        seen = stub(rsps, app, "https://smdbpreprodws.dst.dk")
        c = make(client_creds, server_creds)
        bad = ex.kontaktforloeb()
        del bad["IVÆR"]["PersonNogensindeTestetHIVKode"]
        with pytest.raises(ValidationFailed) as exc:
            c.indsaet_ivaerksaettelse(Kontaktforloeb.model_validate(bad))
        assert [v.code for v in exc.value.violations] == ["hiv_test_paakraevet"]
        assert all("Indsaet" not in r.headers["SOAPAction"] for r in seen)


FAULT = b"""<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault>
<faultcode>s:Client</faultcode><faultstring xml:lang="da-DK">Fejl for 0101904322</faultstring>
<detail><SmdbFejl xmlns="http://smdb.dst.dk/api/external/v1"><FejlKode>%s</FejlKode>
<Besked>Regelbrud for 0101904322</Besked><Regel>6.1.4</Regel></SmdbFejl></detail></s:Fault></s:Body></s:Envelope>"""


@pytest.mark.parametrize(
    ("code", "exc_type"),
    [(b"FORRETNINGSREGEL", SmdbRuleRejected), (b"SIKKERHED", SmdbSecurityFault), (b"ANDET", SmdbFault)],
)
def test_wcf_faults_become_typed_exceptions(client_creds: Credentials, code: bytes, exc_type: type) -> None:
    url = "https://smdbpreprodws.dst.dk/smdbwebservice/api/external/v1/securetokentest.svc"
    with responses.RequestsMock() as rsps:
        rsps.add(responses.POST, url, body=FAULT % code, status=500, content_type="text/xml")
        c = SmdbClient(credentials=client_creds, today=lambda: TODAY)
        with pytest.raises(exc_type) as exc:
            c.echo("x")
    assert exc.value.code == code.decode()
    assert exc.value.rule == "6.1.4"
    assert "0101904322" not in str(exc.value)
    assert "Regelbrud for 010190-****" in exc.value.message


@pytest.mark.parametrize(
    ("status", "body", "ctype"),
    [
        (503, b"<html><body>Service Unavailable</body></html>", "text/html"),
        (502, b"Bad gateway", "text/plain"),
        (200, b"<s:Envelope xmlns:s='http://schemas.xmlsoap.org/soap/envelope/'><s:Body><trunc", "text/xml"),
        (500, b"", "text/xml"),
    ],
)
def test_broken_answers_become_unavailable_and_reads_are_retried(status: int, body: bytes, ctype: str) -> None:
    url = "https://smdbpreprodws.dst.dk/smdbwebservice/api/external/v1/securehentdata.svc"
    with responses.RequestsMock() as rsps:
        rsps.add(responses.POST, url, body=body, status=status, content_type=ctype)
        sleeps: list[float] = []
        c = SmdbClient(retries=2, sleep=sleeps.append, today=lambda: TODAY)
        with pytest.raises(SmdbUnavailable) as exc:
            c.hent_landeliste()
        assert not isinstance(exc.value, SmdbOutcomeUnknown)
        assert len(rsps.calls) == 3
        assert len(sleeps) == 2 and all(0 < s <= 5 for s in sleeps)


def test_writes_are_never_resent_and_report_unknown_outcome(client_creds: Credentials) -> None:
    url = "https://smdbpreprodws.dst.dk/smdbwebservice/api/external/v1/secureindsaetdata.svc"
    with responses.RequestsMock() as rsps:
        rsps.add(responses.POST, url, body=b"<html>503</html>", status=503, content_type="text/html")
        c = SmdbClient(credentials=client_creds, retries=5, sleep=lambda s: None, today=lambda: TODAY)
        f = Kontaktforloeb.model_validate(ex.kontaktforloeb())
        with pytest.raises(SmdbOutcomeUnknown, match="afstem"):
            c.indsaet_ivaerksaettelse(f, validate_first=False)
        assert len(rsps.calls) == 1


def test_read_timeout_on_write_is_unknown_outcome(client_creds: Credentials) -> None:
    url = "https://smdbpreprodws.dst.dk/smdbwebservice/api/external/v1/secureindsaetdata.svc"
    with responses.RequestsMock() as rsps:
        rsps.add(responses.POST, url, body=requests.exceptions.ReadTimeout("slow"))
        c = SmdbClient(credentials=client_creds, today=lambda: TODAY)
        with pytest.raises(SmdbOutcomeUnknown):
            c.indsaet_ivaerksaettelse(Kontaktforloeb.model_validate(ex.kontaktforloeb()), validate_first=False)
        assert len(rsps.calls) == 1


def test_timeouts_and_tls_verification_are_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    c = SmdbClient(timeout=(3.0, 20.0))
    assert c.transport.operation_timeout == (3.0, 20.0)
    assert c.session.verify is True
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/custom.pem")
    assert SmdbClient().session.verify == "/etc/ssl/custom.pem"
    assert SmdbClient(verify="my-ca.pem").session.verify == "my-ca.pem"
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.kommune.local:3128")
    assert SmdbClient().session.proxies.get("https") == "http://proxy.kommune.local:3128"


XXE = b"""<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>&x;</s:Body></s:Envelope>"""
LAUGHS = b"""<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>&lol3;</s:Body></s:Envelope>"""


@pytest.mark.parametrize("body", [XXE, LAUGHS])
def test_hostile_xml_answers_are_refused(body: bytes) -> None:
    url = "https://smdbpreprodws.dst.dk/smdbwebservice/api/external/v1/securetokentest.svc"
    with responses.RequestsMock() as rsps:
        rsps.add(responses.POST, url, body=body, status=200, content_type="text/xml")
        c = SmdbClient(retries=0, today=lambda: TODAY)
        with pytest.raises(SmdbUnavailable, match=r"DTD|XML"):
            c.echo("x")


def test_deep_nesting_is_refused_quickly() -> None:
    import time

    url = "https://smdbpreprodws.dst.dk/smdbwebservice/api/external/v1/securetokentest.svc"
    deep = b"<a>" * 100_000 + b"</a>" * 100_000
    body = (
        b"<s:Envelope xmlns:s='http://schemas.xmlsoap.org/soap/envelope/'><s:Body>" + deep + b"</s:Body></s:Envelope>"
    )
    with responses.RequestsMock() as rsps:
        rsps.add(responses.POST, url, body=body, status=200, content_type="text/xml")
        c = SmdbClient(retries=0, today=lambda: TODAY)
        started = time.perf_counter()
        with pytest.raises(SmdbUnavailable):
            c.echo("x")
        assert time.perf_counter() - started < 5


def test_a_configured_certificate_requires_signed_answers(
    client_creds: Credentials, server_creds: Credentials, caplog: pytest.LogCaptureFixture
) -> None:
    """Configured means enforced: strict or not, an unsigned answer is refused once DST's certificate is given; the
    opt-out is named for what it does and says so in the log when the client is made."""
    app = Simulator(trusted=[client_creds.certificate], server_credentials=None, today=lambda: TODAY)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        stub(rsps, app, "https://smdbpreprodws.dst.dk")
        for strict in (False, True):
            with pytest.raises(SecurityError, match="ikke signeret"):
                make(client_creds, server_creds, strict=strict).echo("ok")
        with caplog.at_level("WARNING"):
            lax = make(client_creds, server_creds, strict=False, allow_unsigned_answers=True)
        assert any("allow_unsigned_answers" in r.getMessage() for r in caplog.records)
        assert lax.echo("ok") == "ok"


def test_answer_signed_by_someone_else_is_refused(client_creds: Credentials, server_creds: Credentials) -> None:
    from smdb.auth import testcert

    app = Simulator(
        trusted=[client_creds.certificate], server_credentials=testcert.generate("Falsk"), today=lambda: TODAY
    )
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        stub(rsps, app, "https://smdbpreprodws.dst.dk")
        with pytest.raises(SecurityError, match="ikke betroet"):
            make(client_creds, server_creds).echo("x")


def test_logging_masks_cpr_in_envelopes(
    app: Simulator, client_creds: Credentials, server_creds: Credentials, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    caplog.set_level(logging.DEBUG)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        stub(rsps, app, "https://smdbpreprodws.dst.dk")
        c = make(client_creds, server_creds)
        c.indsaet_ivaerksaettelse(Kontaktforloeb.model_validate(ex.kontaktforloeb()))
        c.hent_forloeb("0101904322")
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "IndsaetIvaerksaettelse" in text and "010190-****" in text
    assert "0101904322" not in text
    assert "PRIVATE KEY" not in text
    assert any(r.levelno == logging.INFO and "ms ok" in r.getMessage() for r in caplog.records)
