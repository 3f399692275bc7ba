"""Every answer bound to its request (issue 19): one test per attack of a man in the middle who cannot sign as DST
or the STS but can drop, replay and rearrange what they really signed. Each failed on the code before the fix
(docs/security.md, "Attacks and what stops them")."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from lxml import etree

from smdb import eksempler as ex
from smdb.auth import wsse
from smdb.auth.certificates import Credentials
from smdb.auth.sts import SAML2_NS, WST_NS, StsConfig, build_issue_request, parse_issue_response
from smdb.errors import AnswerNotVerified, SecurityError, SmdbOutcomeUnknown, SmdbUnavailable
from smdb.models import Kontaktforloeb
from smdb.reporting import OutcomeStatus, Reporter
from smdb.sim import SimServer, Simulator
from smdb.sim.sts import SIM_AUDIENCE, SimSts
from smdb.soap.answers import AnswerBinder, RequestRecord
from smdb.soap.contract import BINDINGS, NS, OPERATIONS
from tests.test_security import TODAY, HostileServer

A, B, C = "0101904322", "0202804321", "0303704320"

#: (operation, request) -> bytes to answer *instead of processing the request* (a dropped request), or None
Intercept = Callable[[str, bytes], bytes | None]
#: (operation, request, answer) -> bytes to answer instead (the request was processed: a write is committed)
Tamper = Callable[[str, bytes, bytes], bytes | None]


class Proxy(Simulator):
    """The simulator behind a TLS-inspecting proxy that sees every message in clear."""

    intercept: Intercept | None = None
    tamper: Tamper | None = None
    processed: list[str]

    def handle(
        self, start_response: Callable[..., Any], service: str, action: str, body: bytes, soap: str = wsse.SOAP_NS
    ) -> Iterable[bytes]:
        op = action.rsplit("/", 1)[-1]
        answer = self.intercept(op, body) if self.intercept else None
        status = "200 OK"
        if answer is None:
            self.processed.append(op)
            captured: list[Any] = []
            answer = b"".join(super().handle(lambda s, h: captured.append(s), service, action, body, soap))
            status = captured[0]
            replaced = self.tamper(op, body, answer) if self.tamper else None
            answer = answer if replaced is None else replaced
        if b"Fault>" in answer:
            status = "500 Internal Server Error"
        content_type = "application/soap+xml; charset=utf-8" if soap == wsse.SOAP12_NS else "text/xml; charset=utf-8"
        start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(answer)))])
        return [answer]

    def dst_answer(self, operation: str, request: bytes) -> bytes:
        """What DST itself answers to ``request`` (sent again by the attacker): genuinely signed."""
        op = OPERATIONS[operation]
        soap = BINDINGS[self.auth].envelope_ns
        return b"".join(Simulator.handle(self, lambda s, h: None, op.service, op.action, request, soap))


def proxy_server(client_creds: Credentials, server_creds: Credentials, auth: str = "certificate") -> SimServer:
    sts = SimSts([client_creds.certificate], [SIM_AUDIENCE]) if auth == "sts" else None
    app = Proxy(
        trusted=[client_creds.certificate], server_credentials=server_creds, today=lambda: TODAY, auth=auth, sts=sts
    )
    app.processed = []
    return SimServer(app, client_credentials=client_creds)


@pytest.fixture(params=["certificate", "sts"])
def proxied(
    request: pytest.FixtureRequest, client_creds: Credentials, server_creds: Credentials
) -> Iterator[SimServer]:
    with proxy_server(client_creds, server_creds, request.param) as server:
        yield server


def proxy(server: SimServer) -> Proxy:
    assert isinstance(server.app, Proxy)
    return server.app


def course(cpr: str = A, tilbud: int = 2) -> Kontaktforloeb:
    f = Kontaktforloeb.model_validate(ex.kontaktforloeb(cpr=cpr, kommunekode=101))
    if tilbud == 0:  # an active course without offers yet
        return f.model_copy(update={"tilbud": [], "kvalhep": None, "afslutning": None})
    return f.model_copy(update={"tilbud": f.tilbud[:tilbud]})


def offers_of(server: SimServer, cpr: str) -> int:
    client = server.client()
    try:
        return sum(len(f.tilbud) for f in client.hent_forloeb(cpr, 101))
    finally:
        client.close()


def second_body(answer: bytes, code: str) -> bytes:
    """The genuine signed answer with a forged fault in a second Body after the signed one."""
    env = etree.fromstring(answer)
    soap = etree.QName(env).namespace
    body = etree.SubElement(env, f"{{{soap}}}Body")
    fault = etree.SubElement(body, f"{{{soap}}}Fault")
    if soap == wsse.SOAP12_NS:
        value = etree.SubElement(etree.SubElement(fault, f"{{{soap}}}Code"), f"{{{soap}}}Value")
        value.text = "s:Sender"
        etree.SubElement(etree.SubElement(fault, f"{{{soap}}}Reason"), f"{{{soap}}}Text").text = "Afvist"
        detail = etree.SubElement(fault, f"{{{soap}}}Detail")
    else:
        etree.SubElement(fault, "faultcode").text = "s:Client"
        etree.SubElement(fault, "faultstring").text = "Afvist"
        detail = etree.SubElement(fault, "detail")
    fejl = etree.SubElement(detail, f"{{{NS}}}SmdbFejl")
    etree.SubElement(fejl, f"{{{NS}}}FejlKode").text = code
    etree.SubElement(fejl, f"{{{NS}}}Besked").text = "Forfalsket"
    out: bytes = etree.tostring(env)
    return out


# ----------------------------------------------------------------------------- read only what was verified
@pytest.mark.parametrize("code", ["SIKKERHED", "FORRETNINGSREGEL"])
def test_a_forged_fault_in_a_second_body_is_never_taken_for_dsts(proxied: SimServer, code: str) -> None:
    """Before: the signature check read the first Body, zeep the Fault in the second: in STS mode a forged SIKKERHED
    made the client send a stored offer again; in certificate mode a forged rule rejection counted as DST's."""
    app = proxy(proxied)
    forged = []

    def tamper(op: str, req: bytes, ans: bytes) -> bytes | None:
        if op == "IndsaetTilbudstilknytning" and not forged:
            forged.append(op)
            return second_body(ans, code)
        return None

    app.tamper = tamper
    outcome = Reporter(proxied.client()).report(course())
    assert forged
    assert outcome.status is OutcomeStatus.SENT, outcome  # reconciled: the stored offer is seen, not re-sent
    assert app.store.count("TILB") == 2


def test_an_envelope_with_anything_beside_one_header_and_one_body_is_refused() -> None:
    for extra in ("<s:Body/>", "<s:Header/>", "<x:Other xmlns:x='urn:x'/>"):
        env = etree.fromstring(
            f"<s:Envelope xmlns:s='{wsse.SOAP_NS}'><s:Header/><s:Body><a xmlns='urn:a'/></s:Body>{extra}</s:Envelope>"
        )
        with pytest.raises(SecurityError, match="én Header og én Body"):
            wsse.check_structure(env)
    two = etree.fromstring(f"<s:Envelope xmlns:s='{wsse.SOAP_NS}'><s:Body><a/><b/></s:Body></s:Envelope>")
    with pytest.raises(SecurityError, match="præcis ét element"):
        wsse.check_structure(two)


def test_the_token_is_taken_from_the_signed_body_never_from_an_unsigned_rstr_in_the_header(
    client_creds: Credentials,
) -> None:
    """Before: the first RequestSecurityTokenResponse anywhere was used: an unsigned one in the Header with an
    attacker's token valid until 2099 was sent to SMDB and cached."""
    sts = SimSts([client_creds.certificate], [SIM_AUDIENCE])
    cfg = StsConfig(endpoint="http://127.0.0.1/sts", audience=SIM_AUDIENCE, certificates=(sts.certificate,))
    request, message_id = build_issue_request(client_creds, cfg, datetime.now(UTC))
    status, answer = sts.handle(request)
    assert status.startswith("200")
    env = etree.fromstring(answer)
    evil = etree.Element(f"{{{WST_NS}}}RequestSecurityTokenResponse")
    token = etree.SubElement(etree.SubElement(evil, f"{{{WST_NS}}}RequestedSecurityToken"), f"{{{SAML2_NS}}}Assertion")
    token.set("ID", "_evil")
    lifetime = etree.SubElement(evil, f"{{{WST_NS}}}Lifetime")
    etree.SubElement(lifetime, f"{{{wsse.WSU_NS}}}Expires").text = "2099-01-01T00:00:00Z"
    header = env.find(f"{{{wsse.SOAP_NS}}}Header")
    assert header is not None
    header.insert(0, evil)
    parsed = parse_issue_response(etree.tostring(env), cfg, message_id)
    assert parsed.assertion_id != "_evil"
    assert parsed.expires.year < 2099


# ----------------------------------------------------------------------------- bind the answer to the request
def test_dsts_signed_fault_to_a_replayed_copy_of_a_committed_write_causes_no_resend(
    client_creds: Credentials, server_creds: Credentials
) -> None:
    """STS mode. The attacker lets the write through (stored), drops DST's answer, sends DST a copy of the request
    and hands back DST's genuine, signed and RelatesTo-bound SIKKERHED fault (a replay). Before: the client fetched
    a new token and sent the offer again."""
    with proxy_server(client_creds, server_creds, "sts") as server:
        app = proxy(server)
        replayed: list[bytes] = []

        def tamper(op: str, req: bytes, ans: bytes) -> bytes | None:
            if op == "IndsaetTilbudstilknytning" and not replayed:
                replayed.append(app.dst_answer(op, req))
                return replayed[0]
            return None

        app.tamper = tamper
        outcome = Reporter(server.client()).report(course())
        assert replayed and b"SIKKERHED" in replayed[0] and b"RelatesTo" in replayed[0]
        assert outcome.status is OutcomeStatus.SENT, outcome
        assert app.store.count("TILB") == 2


def test_a_security_fault_to_a_write_is_an_unknown_outcome_even_when_bound(
    client_creds: Credentials, server_creds: Credentials
) -> None:
    with proxy_server(client_creds, server_creds, "sts") as server:
        app = proxy(server)
        client = server.client()
        Reporter(client).report(course(tilbud=0))
        app.tamper = lambda op, req, ans: app.dst_answer(op, req) if op == "IndsaetTilbudstilknytning" else None
        stored = client.hent_forloeb(A, 101)[0]
        assert stored.ivaerksaettelse is not None and stored.ivaerksaettelse.smdb_id is not None
        with pytest.raises(SmdbOutcomeUnknown, match="genafspillet kopi"):
            client.indsaet_tilbudstilknytning(course().tilbud[0], stored.ivaerksaettelse.smdb_id, validate_first=False)
        assert app.store.count("TILB") == 1  # sent once, never again on the fault


def test_an_empty_answer_about_another_citizen_never_makes_a_rerun_resend(proxied: SimServer) -> None:
    """Before: DST's signed empty Hent answers about C, handed back as the answers about B, made B look unreported,
    and a re-run sent B's whole course again."""
    app = proxy(proxied)
    client = proxied.client()
    assert Reporter(client).report(course(B)).status is OutcomeStatus.SENT
    empty: dict[str, bytes] = {}

    def capture(op: str, req: bytes, ans: bytes) -> bytes | None:
        if op.startswith("Hent") and C.encode() in req:
            empty[op] = ans
        return None

    app.tamper = capture
    assert client.hent_forloeb(C, 101) == []
    assert empty
    app.intercept = lambda op, req: empty.get(op) if B.encode() in req else None
    rerun = Reporter(proxied.client()).report(course(B))
    assert rerun.status is OutcomeStatus.FAILED, rerun
    assert "hører ikke til" in (rerun.reason or "")
    assert app.store.count("ANM") == 1 and app.store.count("TILB") == 2


def test_another_citizens_write_answer_is_refused_and_nothing_attaches_to_the_wrong_course(
    proxied: SimServer,
) -> None:
    """Before: A's signed answer to an offer, replayed for B's dropped offer, was accepted: B journaled `sent` with
    nothing in SMDB, and B's next offer attached to A's course."""
    app = proxy(proxied)
    client = proxied.client()
    a_answer: list[bytes] = []

    def capture(op: str, req: bytes, ans: bytes) -> bytes | None:
        if op == "IndsaetTilbudstilknytning" and not a_answer:
            a_answer.append(ans)
        return None

    app.tamper = capture
    assert Reporter(client).report(course(A)).status is OutcomeStatus.SENT
    assert Reporter(client).report(course(B, tilbud=0)).status is OutcomeStatus.SENT
    app.tamper = None
    dropped: list[str] = []

    def drop_b(op: str, req: bytes) -> bytes | None:
        if op == "IndsaetTilbudstilknytning" and not dropped:
            dropped.append(op)
            return a_answer[0]  # B's offer never reaches DST; A's old answer comes back instead
        return None

    app.intercept = drop_b
    outcome = Reporter(client).report(course(B, tilbud=2))
    assert dropped
    assert outcome.status is OutcomeStatus.SENT, outcome  # refused, reconciled, then sent for real
    assert offers_of(proxied, A) == 2
    assert offers_of(proxied, B) == 2


def test_a_pre_write_answer_replayed_during_reconciliation_causes_no_duplicate(proxied: SimServer) -> None:
    """Before: the write's answer was cut off (unknown outcome), and the signed Hent answer from just before the
    write, replayed as the reconciliation's answer, made the client send the offer again."""
    app = proxy(proxied)
    client = proxied.client()
    assert Reporter(client).report(course(A, tilbud=1)).status is OutcomeStatus.SENT
    before: dict[str, bytes] = {}
    state = {"written": False}

    def tamper(op: str, req: bytes, ans: bytes) -> bytes | None:
        if op == "IndsaetTilbudstilknytning":
            state["written"] = True
            return ans[: len(ans) // 2]  # committed, the answer cut off: an unknown outcome
        if op.startswith("Hent") and not state["written"]:
            before[op] = ans
            return None
        if op.startswith("Hent") and state["written"]:
            return before.get(op)  # the answer from before the write, replayed
        return None

    app.tamper = tamper
    app.processed.clear()
    outcome = Reporter(client).report(course(A, tilbud=2))
    assert state["written"] and before
    assert app.processed.count("IndsaetTilbudstilknytning") == 1, outcome  # never sent again on an old answer
    assert outcome.status is OutcomeStatus.FAILED and "hører ikke til" in (outcome.reason or ""), outcome
    assert app.store.count("TILB") == 2
    app.tamper = None
    again = Reporter(proxied.client()).report(course(A, tilbud=2))
    assert again.status in (OutcomeStatus.ALREADY, OutcomeStatus.SENT), again
    assert app.store.count("TILB") == 2


def test_in_sts_mode_the_answer_must_relate_to_the_request(
    client_creds: Credentials, server_creds: Credentials
) -> None:
    """A genuine signed Echo answer, handed back as the answer to the next Echo: its signed RelatesTo names the
    first request's MessageID."""
    with proxy_server(client_creds, server_creds, "sts") as server:
        app = proxy(server)
        client = server.client()
        first: list[bytes] = []

        def tamper(op: str, req: bytes, ans: bytes) -> bytes | None:
            if not first:
                first.append(ans)
                return None
            return first[0]

        app.tamper = tamper
        assert client.echo("x") == "x"
        with pytest.raises(SecurityError, match="RelatesTo nævner en anden forespørgsel"):
            client.echo("x")


def _signed_answer(
    creds: Credentials, now: datetime, *, relates_to: str | None = None, confirm: str | None = None
) -> Any:
    env = etree.fromstring(
        f"<s:Envelope xmlns:s='{wsse.SOAP_NS}'><s:Header/><s:Body><a xmlns='urn:a'/></s:Body></s:Envelope>"
    )
    extra: tuple[str, ...] = ()
    if relates_to is not None:
        rel = etree.SubElement(env[0], f"{{{wsse.WSA_NS}}}RelatesTo")
        rel.text = relates_to
        rel.set(f"{{{wsse.WSU_NS}}}Id", "rel")
        extra = ("rel",)
    wsse.sign_envelope(env, creds, now=now, extra_ids=extra, confirm=confirm)
    _, covered = wsse.verify_envelope_covering(env, [creds.certificate], now=now)
    return env, covered


def test_the_binder_rules_relates_to_confirmation_freshness_and_once(server_creds: Credentials) -> None:
    now = datetime.now(UTC)
    request = RequestRecord("urn:uuid:1", "U0lH", now)
    binder = AnswerBinder(require_relates_to=True)
    env, covered = _signed_answer(server_creds, now, relates_to="urn:uuid:1", confirm="U0lH")
    assert binder.check(env, covered, request, now) is True
    with pytest.raises(AnswerNotVerified, match="modtaget før"):
        binder.check(env, covered, request, now)  # the same signed answer twice
    env, covered = _signed_answer(server_creds, now, relates_to="urn:uuid:2")
    with pytest.raises(AnswerNotVerified, match="anden forespørgsel"):
        binder.check(env, covered, request, now)
    env, covered = _signed_answer(server_creds, now, confirm="b3RoZXI=")
    with pytest.raises(AnswerNotVerified, match="RelatesTo mangler"):
        binder.check(env, covered, request, now)
    with pytest.raises(AnswerNotVerified, match="en anden forespørgsels signatur"):
        AnswerBinder(require_relates_to=False).check(env, covered, request, now)
    env, covered = _signed_answer(server_creds, now - timedelta(seconds=30))
    with pytest.raises(AnswerNotVerified, match="før forespørgslen"):
        AnswerBinder(require_relates_to=False).check(env, covered, request, now)
    env, covered = _signed_answer(server_creds, now)
    with pytest.raises(AnswerNotVerified, match="SignatureConfirmation"):
        AnswerBinder(require_relates_to=False, require_signature_confirmation=True).check(env, covered, request, now)
    assert AnswerBinder(require_relates_to=False).check(env, covered, request, now) is False  # fresh, not bound


def test_the_published_oioidws_service_answer_relates_to_its_request() -> None:
    """OIOIDWS.Net's WSP answer (tests/vectors/oioidws, Misc/SOAP examples/LibBas) carries a signed RelatesTo naming
    the WSC request's MessageID: what the client requires of SMDB's answers in STS mode."""
    from pathlib import Path

    from smdb.auth import xmldsig

    vectors = Path(__file__).parent / "vectors" / "oioidws"
    request = etree.parse(str(vectors / "net-wsc-to-wsp-request.xml")).getroot()
    answer = etree.parse(str(vectors / "net-wsp-to-wsc-response.xml")).getroot()
    record = RequestRecord.of(request, datetime(2015, 1, 1, tzinfo=UTC))
    relates = answer.find(f"{{{wsse.SOAP_NS}}}Header/{{{wsse.WSA_NS}}}RelatesTo")
    assert relates is not None and relates.text == record.message_id
    signature = wsse.security_header(answer)
    assert signature is not None
    from cryptography import x509

    cert = x509.load_pem_x509_certificate((vectors / "wsp-eid-java-test.pem").read_bytes())
    sig = signature.find(f"{{{xmldsig.DS_NS}}}Signature")
    assert sig is not None
    covered = xmldsig.verify(sig, cert.public_key(), allow_sha1=True)  # type: ignore[arg-type]
    assert any(el is relates for el in covered)


# ----------------------------------------------------------------------------- smaller points
def _redirect_to(target: str) -> Callable[[socket.socket], None]:
    def respond(conn: socket.socket) -> None:
        # Connection: close, as the server does close: the next call must not try the closed socket again
        head = f"HTTP/1.1 307 Temporary Redirect\r\nLocation: {target}\r\nContent-Length: 0\r\nConnection: close\r\n"
        conn.sendall(f"{head}\r\n".encode())

    return respond


def test_a_redirect_is_never_followed_and_names_its_target(client_creds: Credentials) -> None:
    """Before: a 307 sent the signed request (full CPR) over plain http:// to a host nobody configured."""
    reached: list[bytes] = []

    def record(conn: socket.socket) -> None:
        reached.append(b"a request arrived")

    with HostileServer(record) as elsewhere:
        target = f"http://127.0.0.1:{elsewhere.port}/stjaal"
        with HostileServer(_redirect_to(target)) as endpoint:
            from smdb.client import SmdbClient

            client = SmdbClient(
                credentials=client_creds,
                base_url=f"http://127.0.0.1:{endpoint.port}",
                retries=0,
                server_certificates=[],
            )
            with pytest.raises(SmdbUnavailable, match=r"omdirigering.*stjaal"):
                client.hent_anmodninger(cpr=A)
            with pytest.raises(SmdbOutcomeUnknown, match="omdirigering"):
                client.indsaet_ivaerksaettelse(course(A), validate_first=False)
        time.sleep(0.2)
    assert reached == []


def test_slow_drip_connections_do_not_keep_the_simulator_from_serving(
    client_creds: Credentials, server_creds: Credentials
) -> None:
    """Before: 64 connections dripping a byte every 8 s kept it unavailable past its 30 s timeout (which was per
    read). Now each request must arrive within the bound, and one address holds at most half the connections."""
    app = Simulator(trusted=[client_creds.certificate], server_credentials=server_creds, today=lambda: TODAY)
    with SimServer(app, client_credentials=client_creds, request_timeout=2.0, max_connections=8) as server:
        drippers = []
        for _ in range(8):
            s = socket.create_connection((server.host, server.port), timeout=5, source_address=("127.0.0.2", 0))
            drippers.append(s)
        started = time.monotonic()
        assert server.client().echo("ok") == "ok"  # another address is served at once
        assert time.monotonic() - started < 2.0  # within the request bound
        for _ in range(10):  # drip a byte every 0.3 s, well within the per-read timeout
            for s in drippers:
                with contextlib.suppress(OSError):
                    s.send(b"P")
            time.sleep(0.3)
        closed = 0
        for s in drippers:
            s.settimeout(2)
            try:
                closed += s.recv(1024) == b""
            except OSError:
                closed += 1
            s.close()
        assert closed == 8  # each cut off within the request bound, dripping or not
        assert server.client().echo("ok") == "ok"


def test_a_soap_1_1_answer_to_a_soap_1_2_call_names_the_version_mismatch(
    client_creds: Credentials, server_creds: Credentials
) -> None:
    with proxy_server(client_creds, server_creds, "sts") as server:
        app = proxy(server)
        soap11 = (
            f"<s:Envelope xmlns:s='{wsse.SOAP_NS}'><s:Body><EchoResponse xmlns='{NS}'><EchoResult>x</EchoResult>"
            "</EchoResponse></s:Body></s:Envelope>"
        ).encode()
        app.intercept = lambda op, req: soap11
        with pytest.raises(SmdbUnavailable, match=r"SOAP 1\.1, men forespørgslen var SOAP 1\.2"):
            server.client(retries=0).echo("x")


def test_redirects_are_refused_for_the_sts_too(client_creds: Credentials) -> None:
    from smdb.auth.sts import StsTokenProvider, StsUnavailable

    with HostileServer(_redirect_to("http://127.0.0.1:9/x")) as sts:
        cfg = StsConfig(endpoint=f"http://127.0.0.1:{sts.port}/sts", audience=SIM_AUDIENCE)
        with pytest.raises(StsUnavailable, match="omdirigering"):
            StsTokenProvider(client_creds, cfg, requests.Session()).token()


def test_without_dsts_certificate_a_write_answer_must_still_name_the_record_written(proxied: SimServer) -> None:
    """Nothing binds an unsigned answer, but a write's answer must name the course it was written to: A's answer
    (another IvaerksaettelseId) for B's dropped offer is an unknown outcome, reconciled, and B's offer sent."""
    app = proxy(proxied)
    client = proxied.client(server_certificates=[], strict=False)
    a_answer: list[bytes] = []
    app.tamper = lambda op, req, ans: a_answer.append(ans) if op == "IndsaetTilbudstilknytning" else None
    assert Reporter(client).report(course(A, tilbud=1)).status is OutcomeStatus.SENT
    assert Reporter(client).report(course(B, tilbud=0)).status is OutcomeStatus.SENT
    app.tamper = None
    app.intercept = lambda op, req: a_answer[0] if op == "IndsaetTilbudstilknytning" and a_answer else None
    b = client.hent_forloeb(B, 101)[0]
    assert b.ivaerksaettelse is not None and b.ivaerksaettelse.smdb_id is not None
    with pytest.raises(SmdbOutcomeUnknown, match="hører ikke til denne indberetning"):
        client.indsaet_tilbudstilknytning(course(B).tilbud[0], b.ivaerksaettelse.smdb_id, validate_first=False)
    app.intercept = None
    assert offers_of(proxied, A) == 1 and offers_of(proxied, B) == 0


def test_an_answer_bound_by_nothing_but_freshness_never_decides_a_resend_until_the_write_has_expired(
    client_creds: Credentials, server_creds: Credentials, tmp_path: Any
) -> None:
    """Certificate mode against a service without SignatureConfirmation: after a write of unknown outcome, a Hent
    answer bound only by its freshness could be a replayed one from before the write. The course waits (journal
    keeps the write unknown) until the write is older than any answer's lifetime plus the skew; then it is sent."""
    from smdb.journal import Journal

    app = Proxy(
        trusted=[client_creds.certificate],
        server_credentials=server_creds,
        today=lambda: TODAY,
        signature_confirmation=False,
    )
    app.processed = []
    with SimServer(app, client_credentials=client_creds) as server:
        client = server.client()
        journal = Journal(tmp_path / "j.db")
        reporter = Reporter(client, journal)
        assert reporter.report(course(A, tilbud=1)).status is OutcomeStatus.SENT
        dropped: list[bytes] = []

        def drop(op: str, req: bytes) -> bytes | None:
            if op == "IndsaetTilbudstilknytning" and not dropped:
                dropped.append(req)
                return b"<?xml version='1.0'?><s:Envelope"  # cut off: the outcome is unknown
            return None

        app.intercept = drop
        outcome = reporter.report(course(A, tilbud=2))
        assert dropped and outcome.status is OutcomeStatus.FAILED
        assert "kør igen om 10 minutter" in (outcome.reason or "")
        assert app.store.count("TILB") == 1
        assert [s.status for s in journal.steps() if s.status == "unknown"] == ["unknown"]
        # eleven minutes later (the journal's clock moved back instead of waiting)
        journal._db.run(
            "UPDATE steps SET updated_at = ? WHERE status = 'unknown'",
            ((datetime.now(UTC) - timedelta(minutes=11)).isoformat(timespec="seconds"),),
        )
        again = Reporter(server.client(), journal).report(course(A, tilbud=2))
        assert again.status is OutcomeStatus.SENT, again
        assert app.store.count("TILB") == 2
