"""Reporting against DST-like latency: full courses against ``smdb sim serve --latency 40`` (a process of its own,
over loopback) with 1, 4 and 8 workers, and the same batch re-run unchanged.

What a municipality waits for against DST is round trips, not CPU: each call waits for the network and DST's
processing (here 40 ms added by the simulator to every call). The baseline is one worker in the same run; the
figure is the speed-up of 4 and 8 workers over it (goal: 8 workers >= 6x one worker), and the SOAP calls and wall
time of a re-run of the unchanged batch (goal: <= 10 calls, thanks to one state fetch per municipality).

    python benchmarks/bench_latency.py [N] [LATENCY_MS]
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from _common import full_courses, sim_serve

from smdb.auth import testcert
from smdb.client import SmdbClient
from smdb.models import Kontaktforloeb
from smdb.reporting import Reporter

TODAY = date(2025, 6, 1)


@contextmanager
def sim_serve_url(latency_ms: int, workdir: Path) -> Iterator[str]:
    """The simulator trusting the benchmark's certificate, writing its own for the client to verify answers."""
    extra = ("--server-cert-out", str(workdir / "server.pem"))
    with sim_serve(latency_ms, workdir / "cert.pem", *extra) as settings:
        yield settings["SMDB_ENDPOINT"]


def client(url: str, creds: object, workdir: Path) -> SmdbClient:
    from cryptography import x509

    dst = x509.load_pem_x509_certificates((workdir / "server.pem").read_bytes())
    return SmdbClient(
        base_url=url,
        credentials=creds,
        server_certificates=dst,
        today=lambda: TODAY,  # type: ignore[arg-type]
        timeout=(5.0, 30.0),
    )


def run(courses: list[Kontaktforloeb], workers: int, latency: int, creds: object, workdir: Path) -> dict[str, float]:
    with sim_serve_url(latency, workdir) as url:
        c = client(url, creds, workdir)
        started = time.perf_counter()
        first = Reporter(c).report_many(courses, workers=workers)
        elapsed = time.perf_counter() - started
        assert first.ok and first.count("sent") == len(courses), first.text()
        started = time.perf_counter()
        again = Reporter(c).report_many(courses, workers=workers)
        rerun = time.perf_counter() - started
        assert again.count("already") == len(courses), again.text()
        return {
            "courses_per_s": len(courses) / elapsed,
            "elapsed": elapsed,
            "calls": sum(first.calls.values()),
            "rerun_calls": sum(again.calls.values()),
            "rerun_s": rerun,
        }


def main(n: int = 1000, latency: int = 40) -> int:
    courses = [Kontaktforloeb.model_validate(c) for c in full_courses(n)]
    creds = testcert.generate("Benchmarkkommune", "29189900")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        cert_pem, _ = testcert.to_pem(creds)
        (workdir / "cert.pem").write_bytes(cert_pem)
        for workers in (1, 4, 8):
            results[workers] = run(courses, workers, latency, creds, workdir)
            r = results[workers]
            print(
                f"{workers} worker(s): {n} courses in {r['elapsed']:.1f} s = {r['courses_per_s']:.1f} courses/s "
                f"({r['calls']:.0f} SOAP calls); re-run unchanged: {r['rerun_calls']:.0f} calls, {r['rerun_s']:.2f} s",
                flush=True,
            )
    base = results[1]["courses_per_s"]
    for workers in (4, 8):
        print(f"speed-up {workers} workers / 1 worker: {results[workers]['courses_per_s'] / base:.2f} x")
    speedup = results[8]["courses_per_s"] / base
    rerun_ok = all(r["rerun_calls"] <= 10 for r in results.values())
    print(
        f"goal 8 workers >= 6 x: {'met' if speedup >= 6 else 'NOT met'}; re-run <= 10 calls: "
        f"{'met' if rerun_ok else 'NOT met'}"
    )
    return 0 if speedup >= 6 and rerun_ok else 1


if __name__ == "__main__":
    sys.exit(main(*(int(a) for a in sys.argv[1:3])))
