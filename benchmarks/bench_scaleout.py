"""Scale-out on one shared journal: what the citizen locks and the PostgreSQL journal cost.

300 full courses against ``smdb sim serve --latency 200`` (DST-like round trips; a process of its own), reported by
``smdb indberet --workers 8`` processes, all in the same run:

1. one process on a PostgreSQL journal (the baseline);
2. three processes on one PostgreSQL journal, each given a third of the courses;
3. the same three processes with no journal at all: the ceiling this machine allows (the simulator shares the two
   cores with the clients), and what the shared journal is measured against;
4. one process on a SQLite journal, against 1. (what PostgreSQL costs a single process).

Goals (issue 21): 2. keeps >= 90 % of the ceiling's speed-up over one process (and >= 2.5x where the machine
allows); 1. costs <= 10 % wall time over 4. The PostgreSQL cluster is a throwaway one on a Unix socket
(tests/postgres.py), as in the tests.

    python benchmarks/bench_scaleout.py [N] [LATENCY_MS]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from _common import full_courses, sim_serve

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.postgres import Cluster


@contextmanager
def sim_env(workdir: Path, latency_ms: int, db: Path) -> Iterator[dict[str, str]]:
    """The simulator with its own database, and the environment the CLI needs to report to it."""
    with sim_serve(latency_ms, workdir / "test-cert.pem", "--db", str(db)) as settings:
        yield {
            **os.environ,
            "SMDB_ENV": "local",
            "SMDB_CERT": str(workdir / "test-cert.pem"),
            "SMDB_KEY": str(workdir / "test-key.pem"),
            **settings,
        }


def run(parts: list[Path], journal: str | None, env: dict[str, str]) -> float:
    """Wall time of ``smdb indberet --workers 8`` processes, one per part, started together."""
    started = time.perf_counter()
    procs = []
    for part in parts:
        command = [
            sys.executable,
            "-m",
            "smdb",
            "indberet",
            str(part),
            "--today",
            "2025-06-01",
            "--workers",
            "8",
            "--format",
            "json",
        ]
        if journal:
            command += ["--journal", journal]
        procs.append(subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env))
    for proc in procs:
        out, err = proc.communicate(timeout=3600)
        summary = json.loads(out)
        if summary["sent"] != summary["total"]:
            raise SystemExit(f"not every course was sent: {summary['total']} total, {summary['sent']} sent\n{err}")
    return time.perf_counter() - started


def main(n: int = 300, latency_ms: int = 200) -> int:
    cluster = Cluster()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            workdir = Path(tmp)
            subprocess.run(
                [sys.executable, "-m", "smdb", "sim", "cert", "--out", str(workdir)], check=True, capture_output=True
            )
            courses = full_courses(n)
            whole = workdir / "all.json"
            whole.write_text(json.dumps(courses, default=str))
            thirds = []
            for k in range(3):
                part = workdir / f"part{k}.json"
                part.write_text(json.dumps(courses[k::3], default=str))
                thirds.append(part)
            os.environ["SMDB_JOURNAL_KEY"] = os.urandom(32).hex()
            results: dict[str, float] = {}
            scenarios: list[tuple[str, list[Path], str | None]] = [
                ("1 process x 8, PostgreSQL journal", [whole], cluster.database()),
                ("3 processes x 8, PostgreSQL journal", thirds, cluster.database()),
                ("3 processes x 8, no journal (ceiling)", thirds, None),
                ("1 process x 8, SQLite journal", [whole], str(workdir / "j.db")),
            ]
            for i, (name, parts, journal) in enumerate(scenarios):
                with sim_env(workdir, latency_ms, workdir / f"smdb{i}.db") as env:
                    results[name] = run(parts, journal, env)
                print(f"{name:40s} {results[name]:7.1f} s  {n / results[name]:6.2f} courses/s", flush=True)
            one = results["1 process x 8, PostgreSQL journal"]
            shared = one / results["3 processes x 8, PostgreSQL journal"]
            ceiling = one / results["3 processes x 8, no journal (ceiling)"]
            pg_cost = one / results["1 process x 8, SQLite journal"] - 1
            print(
                f"speed-up of 3 processes on the shared journal: {shared:.2f} x; ceiling without a journal: "
                f"{ceiling:.2f} x; kept {100 * shared / ceiling:.0f} % of the ceiling (goal >= 90 %)"
            )
            print(f"PostgreSQL over SQLite for one process: {100 * pg_cost:+.1f} % wall time (goal <= +10 %)")
    finally:
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(*(int(a) for a in sys.argv[1:3])))
