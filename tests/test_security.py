"""One test per attack of the security review (docs/security.md, "Attacks and what stops them").

Each reproduces the attack against a running simulator or a hostile loopback server and fails on the code before
the fixes: a forged answer or fault, a substituted answer, naive and over-long timestamps, comments inside signed
values, replays, endless / oversized / dripping answers, planted symlinks, files of the wrong kind, a negative
Content-Length, half-open and excess connections, CPR numbers in a verbose simulator's log.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import socket
import sqlite3
import stat
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from lxml import etree

from smdb import eksempler as ex
from smdb.auth import wsse
from smdb.auth.certificates import Credentials
from smdb.auth.sts import SAML2_NS, StsConfig, StsTokenProvider, StsUnavailable
from smdb.auth.xmlenc import decrypt_assertion, encrypt_assertion
from smdb.cli import main
from smdb.client import SmdbClient
from smdb.cpr import CPR_IN_TEXT
from smdb.errors import (
    ConfigurationError,
    RequestNotSent,
    SecurityError,
    SmdbOutcomeUnknown,
    SmdbUnavailable,
)
from smdb.journal import Journal, NotAJournal
from smdb.models import Kontaktforloeb
from smdb.reporting import Reporter
from smdb.sim import SimServer, Simulator, Store
from smdb.sim.codec import PARSER
from smdb.sim.sts import SIM_AUDIENCE, SimSts
from smdb.soap.contract import NS, OPERATIONS, SERVICES
from tests.processes import sim_serve

TODAY = date(2025, 6, 1)
SOAP = wsse.SOAP_NS

Tamper = Callable[[str, bytes, bytes], bytes | None]


class Mitm(Simulator):
    """The simulator with a man in the middle on its answers: ``tamper(operation, request, answer)`` may return
    other bytes to send instead (the request has been processed, i.e. a write is committed, by then)."""

    tamper: Tamper | None = None
    requests_seen: list[tuple[str, bytes]]

    def handle(
        self, start_response: Callable[..., Any], service: str, action: str, body: bytes, soap: str = wsse.SOAP_NS
    ) -> Iterable[bytes]:
        self.requests_seen.append((action.rsplit("/", 1)[-1], body))
        captured: list[Any] = []
        answer = b"".join(super().handle(lambda s, h: captured.append((s, h)), service, action, body, soap))
        status, headers = captured[0]
        op = action.rsplit("/", 1)[-1]
        replaced = self.tamper(op, body, answer) if self.tamper else None
        if replaced is not None:
            answer = replaced
            status = "500 Internal Server Error" if b"Fault>" in replaced else "200 OK"
            headers = [(k, v) for k, v in headers if k.lower() == "content-type"]
        headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
        start_response(status, [*headers, ("Content-Length", str(len(answer)))])
        return [answer]


class Once:
    """A man in the middle who replaces the answer to the first call of ``operation`` (processed by then)."""

    def __init__(self, operation: str, replace: Callable[[bytes], bytes]) -> None:
        self.operation, self.replace, self.n = operation, replace, 0

    def __call__(self, op: str, req: bytes, ans: bytes) -> bytes | None:
        if op == self.operation and self.n == 0:
            self.n += 1
            return self.replace(ans)
        return None


def mitm_server(client_creds: Credentials, server_creds: Credentials, **kw: Any) -> SimServer:
    app = Mitm(trusted=[client_creds.certificate], server_credentials=server_creds, today=lambda: TODAY, **kw)
    app.requests_seen = []
    return SimServer(app, client_credentials=client_creds)


@pytest.fixture
def mitm(client_creds: Credentials, server_creds: Credentials) -> Iterator[SimServer]:
    with mitm_server(client_creds, server_creds) as server:
        yield server


def course(cpr: str = "0101904322") -> Kontaktforloeb:
    return Kontaktforloeb.model_validate(ex.kontaktforloeb(cpr=cpr, kommunekode=101))


FORGED_FAULT = (
    b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault>'
    b"<faultcode>s:Client</faultcode><faultstring>Token afvist</faultstring><detail>"
    b'<SmdbFejl xmlns="http://smdb.dst.dk/api/external/v1"><FejlKode>SIKKERHED</FejlKode>'
    b"<Besked>Token afvist</Besked></SmdbFejl></detail></s:Fault></s:Body></s:Envelope>"
)


def strip_security(answer: bytes, body_text: tuple[bytes, bytes] | None = None) -> bytes:
    env = etree.fromstring(answer)
    header = env.find(f"{{{SOAP}}}Header")
    if header is not None:
        for sec in list(header):
            header.remove(sec)
    out = etree.tostring(env)
    return out.replace(*body_text) if body_text else out


# ----------------------------------------------------------------------------- answers and faults
def test_a_forged_unsigned_answer_is_refused_when_a_certificate_is_configured(mitm: SimServer) -> None:
    client = mitm.client(strict=False)  # configured means enforced, strict or not
    assert isinstance(mitm.app, Mitm)
    mitm.app.tamper = lambda op, req, ans: strip_security(ans, (b"Testkommune", b"Forfalsket"))
    with pytest.raises(SecurityError, match="ikke signeret"):
        client.whoami()


def test_a_signature_moved_to_another_namespace_is_refused(mitm: SimServer) -> None:
    assert isinstance(mitm.app, Mitm)
    mitm.app.tamper = lambda op, req, ans: ans.replace(wsse.WSSE_NS.encode(), b"urn:not-wsse")
    with pytest.raises(SecurityError):
        mitm.client(strict=False).whoami()


def test_an_unverifiable_answer_to_a_write_is_an_unknown_outcome_reconciled_without_duplicates(
    mitm: SimServer,
) -> None:
    assert isinstance(mitm.app, Mitm)
    mitm.app.tamper = forged = Once("IndsaetTilbudstilknytning", strip_security)
    outcome = Reporter(mitm.client()).report(course())
    assert forged.n == 1
    assert outcome.status == "sent", outcome
    assert mitm.app.store.count("TILB") == 2  # stored once each, although one answer could not be trusted


def test_a_forged_fault_after_a_committed_write_never_causes_a_resend_certificate_mode(mitm: SimServer) -> None:
    assert isinstance(mitm.app, Mitm)
    mitm.app.tamper = Once("IndsaetTilbudstilknytning", lambda ans: FORGED_FAULT)
    client = mitm.client()
    with pytest.raises(SmdbOutcomeUnknown, match="ikke signeret"):
        f = course()
        Reporter(client).report(f.model_copy(update={"tilbud": [], "kvalhep": None, "afslutning": None}))
        stored = client.hent_forloeb(str(f.cpr), 101)[0]
        assert stored.ivaerksaettelse is not None and stored.ivaerksaettelse.smdb_id is not None
        client.indsaet_tilbudstilknytning(f.tilbud[0], stored.ivaerksaettelse.smdb_id, validate_first=False)
    assert mitm.app.store.count("TILB") == 1
    outcome = Reporter(client).report(course())
    assert outcome.status == "sent"
    assert mitm.app.store.count("TILB") == 2


@pytest.mark.parametrize("server_cert_configured", [True, False])
def test_a_forged_fault_after_a_committed_write_never_causes_a_resend_sts_mode(
    client_creds: Credentials, server_creds: Credentials, server_cert_configured: bool
) -> None:
    """The reported attack: an unsigned SIKKERHED fault after a committed IndsaetTilbudstilknytning in STS mode made
    the client fetch a new token and send the write again (a duplicate row, reported as sent)."""
    sts = SimSts([client_creds.certificate], [SIM_AUDIENCE])
    app = Mitm(
        trusted=[client_creds.certificate], server_credentials=server_creds, today=lambda: TODAY, auth="sts", sts=sts
    )
    app.requests_seen = []
    app.tamper = forged = Once("IndsaetTilbudstilknytning", lambda ans: FORGED_FAULT)
    with SimServer(app, client_credentials=client_creds) as server:
        kwargs: dict[str, Any] = {} if server_cert_configured else {"server_certificates": [], "strict": False}
        outcome = Reporter(server.client(**kwargs)).report(course())
        sent_tilb = sum(1 for op, _ in app.requests_seen if op == "IndsaetTilbudstilknytning")
    assert forged.n == 1
    assert outcome.status == "sent", outcome
    assert app.store.count("TILB") == 2
    assert sent_tilb == 2  # one per offer: the write behind the forged fault was reconciled, not re-sent


def test_a_signed_answer_for_another_citizen_is_refused(mitm: SimServer) -> None:
    assert isinstance(mitm.app, Mitm)
    client = mitm.client()
    Reporter(client).report(course("0101904322"))
    Reporter(client).report(course("0202804321"))
    captured: dict[str, bytes] = {}

    def tamper(op: str, req: bytes, ans: bytes) -> bytes | None:
        if op != "HentAnmodninger":
            return None
        if b"0101904322" in req:
            captured["a"] = ans  # a genuine, signed answer about citizen A
            return None
        return captured.get("a")  # replayed as the answer about citizen B

    mitm.app.tamper = tamper
    assert client.hent_anmodninger(cpr="0101904322")
    with pytest.raises(SecurityError, match="hører ikke til"):
        client.hent_anmodninger(cpr="0202804321")


def test_an_answer_to_another_operation_is_refused(mitm: SimServer) -> None:
    assert isinstance(mitm.app, Mitm)
    client = mitm.client()
    echo: dict[str, bytes] = {}

    def tamper(op: str, req: bytes, ans: bytes) -> bytes | None:
        if op == "Echo":
            echo["answer"] = ans
            return None
        return echo.get("answer")

    mitm.app.tamper = tamper
    client.echo("x")
    with pytest.raises(SecurityError, match="hører ikke til"):
        client.whoami()


def _signed_request(creds: Credentials, operation: str, inner: str, **sign: Any) -> bytes:
    env = etree.fromstring(
        f'<s:Envelope xmlns:s="{SOAP}"><s:Header/><s:Body><{operation} xmlns="{NS}">{inner}</{operation}>'
        "</s:Body></s:Envelope>"
    )
    wsse.sign_envelope(env, creds, **sign)
    out: bytes = etree.tostring(env)
    return out


def _post(server: SimServer, operation: str, body: bytes, soap12: bool = False) -> requests.Response:
    op = OPERATIONS[operation]
    url = f"{server.url}/smdbwebservice/api/external/v1/{SERVICES[op.service].path}"
    headers = (
        {"Content-Type": f'application/soap+xml; charset=utf-8; action="{op.action}"'}
        if soap12
        else {"SOAPAction": f'"{op.action}"'}
    )
    return requests.post(url, data=body, headers=headers, timeout=10)


@pytest.mark.parametrize("side", ["client", "simulator"])
def test_a_timestamp_without_timezone_is_a_security_error_not_a_crash(
    side: str, mitm: SimServer, client_creds: Credentials, server_creds: Credentials
) -> None:
    def naive(envelope: bytes) -> bytes:
        env = etree.fromstring(envelope)
        created = env.find(f".//{{{wsse.WSU_NS}}}Created")
        assert created is not None and created.text
        created.text = created.text.rstrip("Z")
        return etree.tostring(env)

    if side == "client":
        assert isinstance(mitm.app, Mitm)
        mitm.app.tamper = lambda op, req, ans: naive(ans)
        with pytest.raises(SecurityError):
            mitm.client().whoami()
    else:
        answer = _post(mitm, "WhoAmI", naive(_signed_request(client_creds, "WhoAmI", "")))
        assert answer.status_code == 500 and b"SIKKERHED" in answer.content and b"tidszone" in answer.content


@pytest.mark.parametrize("side", ["client", "simulator"])
def test_a_message_claiming_a_long_lifetime_is_refused(
    side: str, client_creds: Credentials, server_creds: Credentials
) -> None:
    long_lived = timedelta(hours=6)
    if side == "client":
        with mitm_server(client_creds, server_creds) as server:
            assert isinstance(server.app, Mitm)
            server.app.tamper = lambda op, req, ans: _resign(ans, server_creds, long_lived)
            with pytest.raises(SecurityError, match="levetid"):
                server.client().whoami()
            assert server.client(max_message_lifetime=timedelta(hours=7)).whoami()
    else:
        with mitm_server(client_creds, server_creds) as server:
            answer = _post(server, "WhoAmI", _signed_request(client_creds, "WhoAmI", "", ttl=long_lived))
            assert answer.status_code == 500 and b"levetid" in answer.content


def _resign(answer: bytes, creds: Credentials, ttl: timedelta) -> bytes:
    env = etree.fromstring(strip_security(answer))
    wsse.sign_envelope(env, creds, ttl=ttl)
    out: bytes = etree.tostring(env)
    return out


# ----------------------------------------------------------------------------- the simulator acts on what was signed
def test_a_comment_inside_a_signed_id_is_not_read_differently_from_what_was_signed(
    sim: SimServer, client_creds: Credentials
) -> None:
    Reporter(sim.client()).report(course())  # AnmodningId 1 exists, 12 does not
    soegning = "<Soegning><AnmodningId>1<!--x-->2</AnmodningId></Soegning>"
    answer = _post(sim, "HentAnmodninger", _signed_request(client_creds, "HentAnmodninger", soegning))
    assert answer.status_code == 200
    assert b"AnmodningId>1<" not in answer.content  # the signed value is "12": anmodning 1 is not what was asked for
    assert b"0101904322" not in answer.content


def test_a_comment_inside_an_sts_signed_audience_does_not_pass_the_audience_check(
    client_creds: Credentials,
) -> None:
    evil = SIM_AUDIENCE + ".evil.example"
    sts = SimSts([client_creds.certificate], [SIM_AUDIENCE, evil])
    app = Simulator(trusted=[client_creds.certificate], auth="sts", sts=sts, today=lambda: TODAY)
    with SimServer(app, client_credentials=client_creds) as server:
        token = StsTokenProvider(client_creds, StsConfig(endpoint=server.sts_url, audience=evil)).token()
        # the evil service reads the token issued for it (here the same key stands for its own) and re-encrypts the
        # altered assertion for SMDB: anyone can encrypt for a service's public certificate
        assert app.server_credentials is not None
        assertion = decrypt_assertion(token.assertion, app.server_credentials.private_key, PARSER)
        audience = next(assertion.iter(f"{{{SAML2_NS}}}Audience"))
        audience.text = SIM_AUDIENCE
        comment = etree.Comment("x")
        comment.tail = ".evil.example"
        audience.append(comment)  # exclusive c14n without comments: the STS's signature still verifies
        env = etree.fromstring(
            f'<s:Envelope xmlns:s="{wsse.SOAP12_NS}"><s:Header/><s:Body><WhoAmI xmlns="{NS}"/></s:Body></s:Envelope>'
        )
        wsse.sign_envelope_with_token(env, client_creds, encrypt_assertion(assertion, server.server_certificate))
        answer = _post(server, "WhoAmI", etree.tostring(env), soap12=True)
    assert answer.status_code == 500
    assert b"SIKKERHED" in answer.content and b"anden tjeneste" in answer.content


def test_an_identical_signed_write_sent_twice_is_stored_once(mitm: SimServer) -> None:
    assert isinstance(mitm.app, Mitm)
    f = course()
    Reporter(mitm.client()).report(f.model_copy(update={"kvalhep": None, "afslutning": None}))
    request = next(body for op, body in mitm.app.requests_seen if op == "IndsaetTilbudstilknytning")
    before = mitm.app.store.count("TILB")
    replay = _post(mitm, "IndsaetTilbudstilknytning", request)
    assert replay.status_code == 500 and b"SIKKERHED" in replay.content and b"genafspilning" in replay.content
    assert mitm.app.store.count("TILB") == before


@pytest.mark.parametrize("length", [b"-1", b"-99999", b"abc"])
def test_a_negative_or_invalid_content_length_is_refused(sim: SimServer, length: bytes) -> None:
    path = f"/smdbwebservice/api/external/v1/{SERVICES['TokenTest'].path}".encode()
    with socket.create_connection((sim.host, sim.port), timeout=5) as s:
        # the connection stays open: a server that took -1 as "read to the end" (past its size limit) would wait
        s.sendall(b"POST " + path + b" HTTP/1.1\r\nHost: x\r\nContent-Length: " + length + b"\r\n\r\n<x/>")
        answer = b""
        while b"</s:Envelope>" not in answer:
            chunk = s.recv(65536)
            assert chunk, answer
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 500"), answer[:80]
    assert b"Content-Length er ugyldig" in answer


def test_half_open_requests_time_out_and_connections_are_capped(
    client_creds: Credentials, server_creds: Credentials
) -> None:
    app = Simulator(trusted=[client_creds.certificate], server_credentials=server_creds, today=lambda: TODAY)
    with SimServer(app, client_credentials=client_creds, request_timeout=0.5, max_connections=3) as server:
        idle = [socket.create_connection((server.host, server.port), timeout=5) for _ in range(3)]
        for s in idle:
            s.sendall(b"POST /smdbwebservice HTTP/1.1\r\nHost: x\r\n")  # half a request, never finished
        time.sleep(0.2)
        with socket.create_connection((server.host, server.port), timeout=5) as extra:
            assert extra.recv(1024) == b""  # beyond the cap: closed at once, no thread
        started = time.monotonic()
        for s in idle:
            assert s.recv(1024) == b""  # the server gave up on the half-open request
            s.close()
        assert time.monotonic() - started < 3
        assert server.client().echo("ok") == "ok"  # and serves again


# ----------------------------------------------------------------------------- bounded calls
class HostileServer:
    """A loopback HTTP server that answers every request with ``respond(socket)``; bounded in time by itself."""

    def __init__(self, respond: Callable[[socket.socket], None]) -> None:
        self._respond = respond
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(8)
        self._sock.settimeout(0.2)
        self.port = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5)
            data = b""
            try:
                while b"\r\n\r\n" not in data:
                    data += conn.recv(65536)
                head, _, rest = data.partition(b"\r\n\r\n")
                length = int(
                    next(
                        (
                            line.split(b":")[1]
                            for line in head.split(b"\r\n")
                            if line.lower().startswith(b"content-length")
                        ),
                        b"0",
                    )
                )
                while len(rest) < length:
                    rest += conn.recv(65536)
                self._respond(conn)
            except OSError:
                return

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._sock.close()


def endless_chunks(limit_bytes: int = 300 * 1024 * 1024) -> Callable[[socket.socket], None]:
    def respond(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"<a>" + b"x" * 65530 + b"</a>"
        frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
        sent, deadline = 0, time.monotonic() + 20
        while sent < limit_bytes and time.monotonic() < deadline:  # stops by itself; the client hangs up first
            conn.sendall(frame)
            sent += len(chunk)

    return respond


def drip(interval: float, total: int = 1000) -> Callable[[socket.socket], None]:
    def respond(conn: socket.socket) -> None:
        conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {total}\r\n\r\n".encode())
        for _ in range(min(total, 60)):
            conn.sendall(b" ")
            time.sleep(interval)

    return respond


def test_an_endless_chunked_answer_stops_at_the_cap_with_bounded_memory() -> None:
    cap = 2 * 1024 * 1024
    with HostileServer(endless_chunks()) as server:
        client = SmdbClient(base_url=f"http://127.0.0.1:{server.port}", retries=0, max_response_bytes=cap)
        tracemalloc.start()
        try:
            with pytest.raises(SmdbUnavailable, match="grænsen"):
                client.echo("x")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert peak < 4 * cap, peak


def test_an_oversized_chunked_answer_is_refused() -> None:
    with HostileServer(endless_chunks(limit_bytes=3 * 1024 * 1024)) as server:
        client = SmdbClient(base_url=f"http://127.0.0.1:{server.port}", retries=0, max_response_bytes=1024 * 1024)
        with pytest.raises(SmdbUnavailable, match="grænsen"):
            client.whoami()


def test_an_answer_that_drips_is_cut_off_at_the_deadline_retries_included() -> None:
    with HostileServer(drip(0.2)) as server:
        client = SmdbClient(
            base_url=f"http://127.0.0.1:{server.port}", timeout=(2.0, 5.0), deadline=1.5, retries=3, backoff=0.01
        )
        started = time.monotonic()
        with pytest.raises(SmdbUnavailable, match="tidsfristen"):
            client.echo("x")
        assert time.monotonic() - started < 3.0


def test_a_write_cut_off_at_the_deadline_is_an_unknown_outcome(client_creds: Credentials) -> None:
    with HostileServer(drip(0.2)) as server:
        client = SmdbClient(base_url=f"http://127.0.0.1:{server.port}", credentials=client_creds, deadline=1.0)
        kvalhep = course().kvalhep
        assert kvalhep is not None
        with pytest.raises(SmdbOutcomeUnknown, match="tidsfristen"):
            client.indsaet_kvalhep(kvalhep, ivaerksaettelse_id=1, validate_first=False)


def test_the_sts_answer_is_bounded_too(client_creds: Credentials) -> None:
    with HostileServer(endless_chunks()) as server:
        provider = StsTokenProvider(
            client_creds, StsConfig(endpoint=f"http://127.0.0.1:{server.port}/sts"), max_response_bytes=256 * 1024
        )
        with pytest.raises(StsUnavailable, match="grænsen"):
            provider.token()
    with HostileServer(drip(0.2)) as server:
        provider = StsTokenProvider(
            client_creds, StsConfig(endpoint=f"http://127.0.0.1:{server.port}/sts"), deadline=1.0
        )
        started = time.monotonic()
        with pytest.raises(StsUnavailable, match="tidsfristen"):
            provider.token()
        assert time.monotonic() - started < 2.5


def test_a_batch_against_a_dead_endpoint_stops_early_and_resumes(
    sim: SimServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    client = sim.client(base_url=f"http://127.0.0.1:{dead}", backoff=0.001)
    items = [course(f"{1 + i % 28:02d}0190{4000 + i:04d}") for i in range(40)]
    started = time.monotonic()
    summary = Reporter(client, Journal(tmp_path / "j.db")).report_many(items)
    assert time.monotonic() - started < 20
    assert summary.count("failed") == 5 and summary.count("not_attempted") == 35
    assert not summary.ok and "35 ikke forsøgt" in summary.text()
    from smdb.output import print_summary

    print_summary(summary)
    printed = capsys.readouterr().out
    assert printed.count("ikke forsøgt: kørslen stoppede") == 1 and printed.count("forløb ") < 10
    resumed = Reporter(sim.client(), Journal(tmp_path / "j.db")).report_many(items)
    assert resumed.count("sent") == 40 and sim.app.store.count("ANM") == 40


def test_plain_http_is_refused_off_loopback(client_creds: Credentials) -> None:
    for url in ("http://smdbws.dst.dk", "http://10.0.0.5:8080", "http://smdb.kommune.local"):
        with pytest.raises(ConfigurationError, match="ukrypteret"):
            SmdbClient(base_url=url)
    SmdbClient(base_url="http://smdb.kommune.local", allow_insecure_http=True).close()
    SmdbClient(base_url="http://127.0.0.1:8765").close()
    SmdbClient(base_url="http://[::1]:8765").close()
    with pytest.raises(ConfigurationError, match="STS"):
        SmdbClient(
            base_url="http://127.0.0.1:1",
            credentials=client_creds,
            auth="sts",
            sts=StsConfig(endpoint="http://sts.example.dk/sts"),
        )
    assert main(["--env", "local", "--endpoint", "http://smdb.example.dk", "echo", "x"]) == 2


def test_without_dst_certificate_against_dst_a_warning_says_answers_are_not_verified() -> None:
    import smdb.soap.caller as caller

    caller._warned_unverified = False
    with pytest.warns(caller.UnverifiedAnswersWarning, match="verificeres ikke"):
        SmdbClient().close()


def test_a_failure_before_sending_is_never_may_be_stored(client: SmdbClient, monkeypatch: pytest.MonkeyPatch) -> None:
    import smdb.soap.transport as transport

    def broken(*args: Any, **kwargs: Any) -> None:
        raise ValueError("nøglen kan ikke bruges")

    monkeypatch.setattr(transport, "sign_envelope", broken)
    kvalhep = course().kvalhep
    assert kvalhep is not None
    with pytest.raises(RequestNotSent, match="ikke sendt"):
        client.indsaet_kvalhep(kvalhep, ivaerksaettelse_id=1, validate_first=False)


# ----------------------------------------------------------------------------- files and local data
def test_the_journal_alone_does_not_reveal_or_confirm_cpr_numbers(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    journal = Journal(path)
    cprs = ["0101904322", "0202804321", "0303704320"]
    keys = [journal.course_key(c, 101, "2025-01-02") for c in cprs]
    for k in keys:
        journal.set_course(k, "h", "confirmed")
    journal.close()
    raw = path.read_bytes()
    db = sqlite3.connect(path)
    stored = [str(v) for (v,) in db.execute("SELECT value FROM meta")] + [""]
    db.close()
    # the reported attack: for a guessed CPR, every value stored in the file tried as the salt or key
    for cpr in cprs:
        message = f"{cpr}|101|2025-01-02"
        for secret in stored:
            guesses = {
                hashlib.sha256(f"{secret}|{message}".encode()).hexdigest()[:32],
                hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()[:32],
            }
            assert not guesses & set(keys)
    key_file = Path(os.environ["XDG_CONFIG_HOME"]) / "smdb" / "journal.key"
    assert key_file.read_text().strip().encode() not in raw
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700
    with pytest.raises(NotAJournal, match="anden journalnøgle"):
        Journal(path, key=os.urandom(32))
    assert Journal(path).course_key(cprs[0], 101, "2025-01-02") == keys[0]


def test_a_salted_journal_of_an_older_version_is_migrated_and_its_salt_wiped(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    from smdb.journal_db import SQLITE_SCHEMA as SCHEMA

    db = sqlite3.connect(path)
    db.executescript(SCHEMA)
    salt = "5a1f" * 8
    db.execute("INSERT INTO meta VALUES ('salt', ?)", (salt,))
    db.execute(
        "INSERT INTO steps (course_key, cpr_masked, step, content_hash, status, updated_at)"
        " VALUES ('k', '010190-****', 'indsæt', 'h', 'unknown', 'x')"
    )
    db.commit()
    db.close()
    Journal(path).close()
    assert salt.encode() not in path.read_bytes()
    assert [s.status for s in Journal(path).steps()] == ["superseded"]


def test_owner_only_writers_do_not_follow_a_planted_symlink(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("uændret")
    (tmp_path / "test-key.pem").symlink_to(victim)
    (tmp_path / "test-cert.pem").symlink_to(victim)
    assert main(["sim", "cert", "--out", str(tmp_path)]) == 0
    assert victim.read_text() == "uændret"
    key = tmp_path / "test-key.pem"
    assert not key.is_symlink() and b"PRIVATE KEY" in key.read_bytes()
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    (tmp_path / "j.db").symlink_to(victim)
    with pytest.raises(NotAJournal, match="symbolsk link"):
        Journal(tmp_path / "j.db")
    assert victim.read_text() == "uændret"


@pytest.mark.parametrize("kind", ["sqlite", "text"])
def test_a_file_of_another_kind_is_refused_without_being_changed(
    tmp_path: Path, kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "other.db"
    if kind == "sqlite":
        db = sqlite3.connect(other)
        db.execute("CREATE TABLE patients (id INTEGER)")
        db.commit()
        db.close()
    else:
        other.write_text("noter fra i går\n")
    other.chmod(0o644)
    before = other.read_bytes()
    with pytest.raises(NotAJournal):
        Journal(other)
    with pytest.raises(OSError, match="ikke ændret"):
        Store(other)
    (tmp_path / "in.json").write_text(json.dumps([ex.kontaktforloeb()], default=str))
    command = ["--env", "local", "--endpoint", "http://127.0.0.1:1", "indberet", str(tmp_path / "in.json")]
    assert main([*command, "--journal", str(other)]) == 2
    assert other.read_bytes() == before and stat.S_IMODE(other.stat().st_mode) == 0o644
    assert "ikke ændret" in capsys.readouterr().err


def test_input_files_that_are_not_regular_files_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    for path in ("/dev/urandom", str(fifo)):
        started = time.monotonic()
        assert main(["validate", path]) == 2
        assert time.monotonic() - started < 5
    assert capsys.readouterr().err.count("ikke en almindelig fil") == 2


# ----------------------------------------------------------------------------- logs
def test_sim_serve_vv_logs_no_full_cpr(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert main(["sim", "cert", "--out", str(tmp_path)]) == 0
    import json

    items = [ex.kontaktforloeb(cpr=c, kommunekode=101) for c in ("0101904322", "0202804321")]
    (tmp_path / "in.json").write_text(json.dumps(items))
    with sim_serve(tmp_path, monkeypatch, global_args=("-vv",)) as proc:
        assert main(["indberet", str(tmp_path / "in.json"), "--today", "2025-06-01"]) == 0
        proc.terminate()
        proc.wait(timeout=10)
    err = (tmp_path / "sim-serve.log").read_text()
    assert "signxml" in err or "Canonicalized" in err or "DEBUG" in err  # the verbose log was really written
    leaked = [m.group(0) for m in CPR_IN_TEXT.finditer(err)]
    assert leaked == [], leaked[:3]
    assert "0101904322" not in err and "0202804321" not in err


def test_the_journal_key_can_come_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = os.urandom(32)
    monkeypatch.setenv("SMDB_JOURNAL_KEY", key.hex())
    journal = Journal(tmp_path / "j.db")
    assert (
        journal.course_key("0101904322", 101, "2025-01-02")
        == hmac.new(key, b"0101904322|101|2025-01-02", hashlib.sha256).hexdigest()[:32]
    )
    journal.close()
    monkeypatch.setenv("SMDB_JOURNAL_KEY", "abcd")
    with pytest.raises(NotAJournal, match="for kort"):
        Journal(tmp_path / "k.db")


def test_configuration_and_certificate_files_must_be_regular_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--config", "/dev/urandom", "whoami"]) == 2
    assert main(["--env", "local", "--endpoint", "http://127.0.0.1:1", "--cert", "/dev/urandom", "whoami"]) == 2
    assert capsys.readouterr().err.count("ikke en almindelig fil") == 2
