"""Continuous delivery: how long a change waits in the outbox before SMDB has it.

A running ``smdb udbakke koer --workers 4`` on a PostgreSQL journal (woken by NOTIFY) against ``smdb sim serve
--latency 40`` (both processes of their own); the benchmark enqueues 100 courses, one every 100 ms, and reads when
each was confirmed (the outbox row's done time). Beside it, in the same run, the floor: the SOAP calls one such
course needs, counted by reporting one course alone, times the latency. Goal (issue 22): p95 <= floor + 1 s.

    python benchmarks/bench_outbox.py [N] [LATENCY_MS] [INTERVAL_MS]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

from _common import full_courses

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench_scaleout import sim_env
from tests.postgres import Cluster

from smdb.client import SmdbClient
from smdb.journal import Journal
from smdb.journal_db import read_only
from smdb.models import Kontaktforloeb
from smdb.reporting import Reporter
from smdb.settings import SmdbSettings
from smdb.udbakke import Udbakke


def main(n: int = 100, latency_ms: int = 40, interval_ms: int = 100) -> int:
    cluster = Cluster()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            workdir = Path(tmp)
            subprocess.run(
                [sys.executable, "-m", "smdb", "sim", "cert", "--out", str(workdir)], check=True, capture_output=True
            )
            os.environ["SMDB_JOURNAL_KEY"] = os.urandom(32).hex()
            courses = [Kontaktforloeb.model_validate(c) for c in full_courses(n + 1)]
            url = cluster.database()
            with sim_env(workdir, latency_ms, workdir / "smdb.db") as env:
                # the floor: one course alone, its calls counted
                os.environ.update(env)
                client = SmdbClient.from_settings(SmdbSettings.load(), today=lambda: date(2025, 6, 1))
                calls_before = sum(client.call_counts().values())
                Reporter(client).report(courses[n])
                calls = sum(client.call_counts().values()) - calls_before
                floor = calls * latency_ms / 1000
                worker = subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "smdb",
                        "udbakke",
                        "koer",
                        "--journal",
                        url,
                        "--workers",
                        "4",
                        "--today",
                        "2025-06-01",
                    ],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                journal = Journal(url)
                udbakke = Udbakke(journal)
                time.sleep(2.0)  # the worker is up and listening
                keys = {}
                for f in courses[:n]:
                    keys[udbakke.tilfoej(f)] = datetime.now().astimezone()
                    time.sleep(interval_ms / 1000)
                deadline = time.monotonic() + 300
                while time.monotonic() < deadline:
                    done = read_only(url, "SELECT course_key, done_at FROM outbox WHERE state = 'done'", table="outbox")
                    if len(done) >= n:
                        break
                    time.sleep(0.2)
                worker.terminate()
                worker.wait(timeout=60)
                journal.close()
            waits = sorted(
                (datetime.fromisoformat(str(done_at)) - keys[str(key)]).total_seconds()
                for key, done_at in done
                if str(key) in keys
            )
            if len(waits) < n:
                raise SystemExit(f"only {len(waits)} of {n} courses were confirmed")
            p95 = waits[int(0.95 * (len(waits) - 1))]
            print(f"{n} courses enqueued every {interval_ms} ms, SMDB at {latency_ms} ms per call")
            print(f"floor: {calls} calls x {latency_ms} ms = {floor:.2f} s per course")
            print(
                f"enqueue -> confirmed: median {statistics.median(waits):.2f} s, p95 {p95:.2f} s, max {waits[-1]:.2f} s"
            )
            print(f"p95 - floor = {p95 - floor:+.2f} s (goal <= +1 s)")
    finally:
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(*(int(a) for a in sys.argv[1:4])))
