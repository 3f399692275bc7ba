"""End-to-end reporting against the simulator on loopback, beside a baseline of raw HTTP posts of the same,
pre-built (already signed) envelopes, in the same run; and the client from 8 threads at once.

Target (issue 4): at least 50 full courses per second single-threaded. The simulator runs in the same process,
so its work (signature verification, rule checks, SQLite, signing the answer) is part of every figure.

It also decomposes the figure, so the question "could any client reach the target here?" is answered by
measurement: the same run without WS-Security on either side (everything but the signatures), and the
client's own WS-Security work (signxml: signing each request, verifying each signed answer) repeated on the
very envelopes of run 1. Their sum is a floor per course that no simulator speed-up can go below.

    python benchmarks/bench_e2e.py [N]
"""

from __future__ import annotations

import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

import requests
from _common import full_courses
from lxml import etree

from smdb.auth.wsse import SOAP_NS, WSSE_NS, sign_envelope, verify_envelope
from smdb.models import Kontaktforloeb
from smdb.reporting import Reporter
from smdb.sim import SimServer

TODAY = date(2025, 6, 1)


def server(creds: Any = None) -> SimServer:
    sim = SimServer(client_credentials=creds)
    sim.app.today = lambda: TODAY
    return sim.start()


def counts(sim: SimServer) -> dict[str, int]:
    return {k: sim.app.store.count(k) for k in ("ANM", "IVÆR", "TILB", "KvalHep", "AFSL")}


def main(n: int = 300) -> int:
    courses = [Kontaktforloeb.model_validate(c) for c in full_courses(n)]
    expected = {"ANM": n, "IVÆR": n, "TILB": 2 * n, "KvalHep": n, "AFSL": n}

    # 1) the library, single-threaded, recording what goes over the wire
    sim = server()
    client = sim.client(today=lambda: TODAY)
    sent: list[tuple[str, str, bytes]] = []
    answers: list[bytes] = []
    real_post = client.session.post

    def recording_post(url: Any, data: Any = None, **kw: Any) -> requests.Response:
        sent.append((url, kw["headers"]["SOAPAction"], data))
        response = real_post(url, data=data, **kw)
        answers.append(response.content)
        return response

    client.session.post = recording_post  # type: ignore[method-assign]
    reporter = Reporter(client)
    started = time.perf_counter()
    summary = reporter.report_many(courses)
    t_lib = time.perf_counter() - started
    assert summary.count("sent") == n and counts(sim) == expected, (summary.text(), counts(sim))
    sim.stop()

    # 2) baseline: the same envelopes posted raw to a fresh simulator that trusts the same certificate
    sim2 = server(sim.client_credentials)
    session = requests.Session()
    base = sim2.url
    started = time.perf_counter()
    for url, action, body in sent:
        path = url.split("/smdbwebservice", 1)[1]
        r = session.post(
            base + "/smdbwebservice" + path,
            data=body,
            headers={"SOAPAction": action, "Content-Type": "text/xml; charset=utf-8"},
            timeout=30,
        )
        assert r.status_code == 200, r.text[:200]
    t_raw = time.perf_counter() - started
    assert counts(sim2) == expected
    sim2.stop()

    # 2b) the library against a simulator that does not sign its answers (if DST's answers are unsigned)
    sim4 = server()
    sim4.app.server_credentials = None
    unsigned = sim4.client(today=lambda: TODAY, server_certificates=[], strict=False)
    started = time.perf_counter()
    assert Reporter(unsigned).report_many(courses).count("sent") == n
    t_unsigned = time.perf_counter() - started
    sim4.stop()

    # 2c) no WS-Security on either side: the ceiling of everything except the signatures
    sim5 = server()
    sim5.app.require_signature = False
    sim5.app.server_credentials = None
    bare = sim5.client(today=lambda: TODAY, credentials=None, server_certificates=[], strict=False)
    started = time.perf_counter()
    assert Reporter(bare).report_many(courses).count("sent") == n
    t_bare = time.perf_counter() - started
    assert counts(sim5) == expected
    sim5.stop()

    # 2d) the client's own WS-Security work on the envelopes of run 1: sign each request again, verify each answer
    unsigned_requests = [_without_security(body) for _, _, body in sent]
    started = time.perf_counter()
    for envelope in unsigned_requests:
        sign_envelope(envelope, sim.client_credentials)  # each is signed once: in place, no copy to time
    t_sign = time.perf_counter() - started
    started = time.perf_counter()
    for answer in answers:
        verify_envelope(etree.fromstring(answer), [sim.server_certificate])
    t_verify = time.perf_counter() - started

    # 3) one client shared by 8 threads, distinct citizens
    sim3 = server()
    shared = sim3.client(today=lambda: TODAY)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(lambda f: Reporter(shared).report(f), courses))
    t_threads = time.perf_counter() - started
    assert all(o.status == "sent" for o in outcomes) and counts(sim3) == expected, counts(sim3)
    sim3.stop()

    calls = len(sent)
    print(f"courses: {n} full courses, {calls} SOAP calls ({calls / n:.1f} per course), simulator in-process")
    print(
        f"baseline, raw posts of the pre-built signed envelopes: {n / t_raw:7.1f} courses/s "
        f"({t_raw / calls * 1000:.2f} ms/call)"
    )
    print(
        f"smdb Reporter, single-threaded:                        {n / t_lib:7.1f} courses/s "
        f"({t_lib / calls * 1000:.2f} ms/call)  (target >= 50)"
    )
    print(f"smdb Reporter, single-threaded, answers not signed:    {n / t_unsigned:7.1f} courses/s")
    print(f"smdb Reporter, one client from 8 threads:              {n / t_threads:7.1f} courses/s")
    print(f"smdb Reporter, no WS-Security on either side:          {n / t_bare:7.1f} courses/s")
    per_course = (t_sign + t_verify) / n * 1000
    print(
        f"client's WS-Security work (signxml): signing {t_sign / calls * 1000:.2f} + verifying "
        f"{t_verify / calls * 1000:.2f} ms/call = {per_course:.1f} ms/course"
    )
    floor = t_bare / n * 1000 + per_course
    print(
        f"floor with signed calls and a simulator whose own security work costs nothing: {floor:.1f} ms/course "
        f"= at most {1000 / floor:.1f} courses/s"
    )
    ok = n / t_lib >= 50
    print("target met" if ok else "target NOT met")
    return 0 if ok else 1


def _without_security(body: bytes) -> etree._Element:
    envelope = etree.fromstring(body)
    security = envelope.find(f"{{{SOAP_NS}}}Header/{{{WSSE_NS}}}Security")
    assert security is not None
    security.getparent().remove(security)  # type: ignore[union-attr]
    return envelope


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 300))
