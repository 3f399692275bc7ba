"""One citizen, one writer (issue 21): at-most-once per deployment, each deployment run for real.

- threads of one process on one client (a web service's double-click);
- two overlapping ``smdb indberet`` processes on one SQLite journal (a cron run that overran);
- several ``smdb indberet`` processes on one PostgreSQL journal (replicas on several machines), one of them killed;
- a restarted container with another ``$HOME``: the journal key is given, never silently made anew.

Each ends with SMDB (the simulator, with DST-like latency) holding exactly the intended records. Every test here
doubled reports before the citizen locks.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from smdb import eksempler as ex
from smdb.auth.certificates import Credentials
from smdb.cli import main
from smdb.journal import Journal, read_steps
from smdb.models import Kontaktforloeb
from smdb.reporting import OutcomeStatus, Reporter, plan
from smdb.sim import SimServer, Simulator
from smdb.sim.store import Store
from tests.conftest import TODAY
from tests.processes import sim_serve


def cpr_for(i: int) -> str:
    return f"{1 + i % 28:02d}{1 + (i // 28) % 12:02d}8{i // 336}{4000 + i:04d}"


def course(i: int, tilbud: int = 2) -> Kontaktforloeb:
    f = Kontaktforloeb.model_validate(
        ex.kontaktforloeb(cpr=cpr_for(i), kommunekode=101, afsluttet_efter_dage=None if i % 3 == 0 else 120)
    )
    return f.model_copy(update={"tilbud": f.tilbud[:tilbud]})


def offers(store: Store, cprs: list[str]) -> dict[str, int]:
    """TILB records per citizen, read from the register itself."""
    counts = dict.fromkeys(cprs, 0)
    for row in store.find("TILB"):
        if row.cpr in counts:
            counts[row.cpr] += 1
    return counts


@pytest.fixture
def slow_sim(client_creds: Credentials, server_creds: Credentials) -> Iterator[SimServer]:
    """The simulator with 20 ms per call (DST's round trip): wide enough for two writers to overlap."""
    app = Simulator(trusted=[client_creds.certificate], server_credentials=server_creds, today=lambda: TODAY)
    with SimServer(app, client_credentials=client_creds, latency_ms=20) as server:
        yield server


@pytest.mark.parametrize("reporters", ["one per thread", "one shared"])
def test_two_threads_on_one_client_report_each_correction_once(slow_sim: SimServer, reporters: str) -> None:
    """Before: 19 of 20 corrected courses (one offer added) ended with 3 offers, both threads said `sent`."""
    client = slow_sim.client()
    first = [course(i, tilbud=1) for i in range(20)]
    assert Reporter(client).report_many(first).ok
    corrected = [course(i, tilbud=2) for i in range(20)]
    shared = Reporter(client)

    def request(_: int) -> Any:
        reporter = shared if reporters == "one shared" else Reporter(client)
        return [reporter.report(f) for f in corrected]

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(request, range(2)))
    statuses = [o.status for outcomes in results for o in outcomes]
    assert all(s in (OutcomeStatus.SENT, OutcomeStatus.ALREADY) for s in statuses), statuses
    assert statuses.count(OutcomeStatus.SENT) == 20  # each correction sent by exactly one of the two
    assert offers(slow_sim.app.store, [cpr_for(i) for i in range(20)]) == {cpr_for(i): 2 for i in range(20)}
    # and the next report of each is nothing to do, not a deletion refused
    assert all(o.status is OutcomeStatus.ALREADY for o in Reporter(client).report_many(corrected).outcomes)


def test_a_citizen_held_elsewhere_is_left_for_the_next_run_as_busy(sim: SimServer, tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.db")
    f = course(1)
    with journal.hold(str(f.cpr), f.kommunekode, 1) as held:
        assert held is not None
        outcome = Reporter(sim.client(), journal, lock_timeout=0.2).report(f)
    assert outcome.status is OutcomeStatus.BUSY
    assert sim.app.store.count("ANM") == 0
    summary = Reporter(sim.client(), journal).report_many([f])
    assert summary.ok and sim.app.store.count("ANM") == 1


# ----------------------------------------------------------------------------- processes
def _write_courses(tmp_path: Path, n: int, tilbud: int = 2) -> Path:
    path = tmp_path / f"in-{n}-{tilbud}.json"
    path.write_text(json.dumps([course(i, tilbud).to_official() for i in range(n)], default=str))
    return path


def _indberet(courses: Path, journal: str, workers: int = 4, **popen: Any) -> subprocess.Popen[str]:
    command = [
        sys.executable,
        "-m",
        "smdb",
        "indberet",
        str(courses),
        "--today",
        "2025-06-01",
        "--workers",
        str(workers),
        "--journal",
        journal,
        "--format",
        "json",
    ]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)


def _finish(procs: list[subprocess.Popen[str]], timeout: float = 180) -> list[dict[str, Any]]:
    summaries = []
    for proc in procs:
        out, err = proc.communicate(timeout=timeout)
        assert proc.returncode in (0, 1), err
        assert "Traceback" not in err, err
        summaries.append(json.loads(out))
    return summaries


def _expected_writes(n: int, tilbud: int = 2) -> int:
    return sum(len(plan(course(i, tilbud), None)[0]) for i in range(n))


def _assert_register_exact(db: Path, n: int, tilbud: int = 2) -> None:
    store = Store(db)
    try:
        assert store.count("ANM") == n
        assert offers(store, [cpr_for(i) for i in range(n)]) == {cpr_for(i): tilbud for i in range(n)}
        assert store.count("AFSL") == sum(1 for i in range(n) if i % 3 != 0)
    finally:
        store.close()


def test_two_overlapping_indberet_runs_on_one_sqlite_journal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: neither run was locked out; one stored 28 of 30 courses twice, another journaled courses the first
    had sent as refused by rule. Now each citizen has one writer at a time: exactly one of everything."""
    assert main(["sim", "cert", "--out", str(tmp_path)]) == 0
    n = 30
    courses = _write_courses(tmp_path, n)
    journal = str(tmp_path / "j.db")
    with sim_serve(tmp_path, monkeypatch, "--latency", "20", "--db", str(tmp_path / "smdb.db")):
        summaries = _finish([_indberet(courses, journal), _indberet(courses, journal)])
    for summary in summaries:
        assert summary["rejected_by_rule"] == 0 and summary["failed"] == 0, summary
    assert sum(s["sent"] for s in summaries) == n  # each course sent by one of the runs, found done by the other
    _assert_register_exact(tmp_path / "smdb.db", n)
    steps = read_steps(journal)
    assert {r.status for r in steps} == {"confirmed"}
    assert len(steps) == _expected_writes(n)


def _pg_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMDB_JOURNAL_KEY", os.urandom(32).hex())


@pytest.mark.parametrize("processes", [2, pytest.param(3, marks=pytest.mark.heavy)])
def test_processes_on_one_postgresql_journal_store_every_course_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pg_url: str, processes: int
) -> None:
    """Replicas on several machines: N processes × 4 workers on one PostgreSQL journal, all given every course."""
    assert main(["sim", "cert", "--out", str(tmp_path)]) == 0
    _pg_env(monkeypatch)
    n = 300 if processes == 3 else 60
    courses = _write_courses(tmp_path, n)
    with sim_serve(tmp_path, monkeypatch, "--latency", "20", "--db", str(tmp_path / "smdb.db")):
        summaries = _finish([_indberet(courses, pg_url) for _ in range(processes)], timeout=600)
    for summary in summaries:
        assert summary["rejected_by_rule"] == 0 and summary["failed"] == 0, summary
    assert sum(s["sent"] for s in summaries) == n
    _assert_register_exact(tmp_path / "smdb.db", n)
    steps = read_steps(pg_url)
    assert {r.status for r in steps} == {"confirmed"} and len(steps) == _expected_writes(n)


def test_a_killed_process_on_a_postgresql_journal_leaves_nothing_doubled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pg_url: str
) -> None:
    """kill -9 of one of three processes mid-batch, then a re-run: its citizen locks died with its connection, every
    course is stored exactly once, and the journal's confirmed writes equal the register."""
    assert main(["sim", "cert", "--out", str(tmp_path)]) == 0
    _pg_env(monkeypatch)
    n = 60
    courses = _write_courses(tmp_path, n)
    with sim_serve(tmp_path, monkeypatch, "--latency", "20", "--db", str(tmp_path / "smdb.db")):
        procs = [_indberet(courses, pg_url, workers=4) for _ in range(3)]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # kill once writes are under way
            if sum(1 for r in _steps(pg_url) if r.status == "confirmed") >= 10:
                break
            time.sleep(0.05)
        procs[0].send_signal(signal.SIGKILL)
        procs[0].communicate(timeout=30)
        for survivor in _finish(procs[1:], timeout=300):
            assert survivor["rejected_by_rule"] == 0, survivor  # never a course another process had sent
        rerun = _finish([_indberet(courses, pg_url)])[0]
        assert rerun["failed"] == 0 and rerun["rejected_by_rule"] == 0, rerun
    _assert_register_exact(tmp_path / "smdb.db", n)
    store = Store(tmp_path / "smdb.db")
    register = store.count("ANM") + store.count("TILB") + store.count("KvalHep") + store.count("AFSL")
    store.close()
    confirmed = [r for r in read_steps(pg_url) if r.status == "confirmed"]
    assert len(confirmed) == register


def _steps(url: str) -> list[Any]:
    try:
        return list(read_steps(url))
    except Exception:
        return []


# ----------------------------------------------------------------------------- the key survives restarts
def test_a_restarted_process_with_the_key_given_continues_the_journal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A container restarted with a new $HOME: with SMDB_JOURNAL_KEY it continues the same journal; without it the
    run stops with one Danish line naming the setting (exit 2), and no key file is written anywhere."""
    assert main(["sim", "cert", "--out", str(tmp_path)]) == 0
    courses = _write_courses(tmp_path, 3)
    journal = tmp_path / "j.db"
    key = os.urandom(32).hex()
    with sim_serve(tmp_path, monkeypatch):
        monkeypatch.setenv("SMDB_JOURNAL_KEY", key)
        assert main(["indberet", str(courses), "--today", "2025-06-01", "--journal", str(journal)]) == 0
        first = len(read_steps(journal))
        new_home = tmp_path / "new-home"
        monkeypatch.setenv("HOME", str(new_home))
        monkeypatch.setenv("XDG_CONFIG_HOME", str(new_home / ".config"))
        capsys.readouterr()
        assert main(["indberet", str(courses), "--today", "2025-06-01", "--journal", str(journal)]) == 0
        assert len(read_steps(journal)) == first  # continued: nothing sent again, nothing refused
        monkeypatch.delenv("SMDB_JOURNAL_KEY")
        capsys.readouterr()
        assert main(["indberet", str(courses), "--today", "2025-06-01", "--journal", str(journal)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "SMDB_JOURNAL_KEY" in err[0] and "journalnøglen mangler" in err[0], err
    assert not (new_home / ".config" / "smdb" / "journal.key").exists()


def test_a_postgresql_journal_needs_the_key_given(pg_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from smdb.errors import NotAJournal

    monkeypatch.delenv("SMDB_JOURNAL_KEY", raising=False)
    monkeypatch.setenv("SMDB_JOURNAL_KEY_FILE", str(tmp_path / "absent.key"))
    with pytest.raises(NotAJournal, match="SMDB_JOURNAL_KEY"):
        Journal(pg_url)
    assert not (tmp_path / "absent.key").exists()
    monkeypatch.setenv("SMDB_JOURNAL_KEY", os.urandom(32).hex())
    Journal(pg_url).close()
    monkeypatch.setenv("SMDB_JOURNAL_KEY", os.urandom(32).hex())
    with pytest.raises(NotAJournal, match="en anden journalnøgle"):
        Journal(pg_url)


def test_a_sqlite_journal_on_a_network_file_system_is_refused(tmp_path: Path) -> None:
    from smdb.errors import NotAJournal
    from smdb.journal_db import filesystem_of, refuse_network_filesystem

    mounts = f"server:/export {tmp_path} nfs4 rw 0 0\n/dev/sda1 / ext4 rw 0 0\n"
    assert filesystem_of(tmp_path / "j.db", mounts) == "nfs4"
    with pytest.raises(NotAJournal, match=r"netværksfilsystem.*nfs4.*PostgreSQL"):
        refuse_network_filesystem(tmp_path / "j.db", mounts)
    refuse_network_filesystem(tmp_path / "j.db", "/dev/sda1 / ext4 rw 0 0\n")  # a local disk is fine


def test_a_lost_lock_connection_stops_the_writer_before_its_next_write(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The citizen's advisory lock dies with its connection (here the server ends it); the writer notices before
    its next write, and the citizen is free for another writer at once."""
    import psycopg

    from smdb.locks import CitizenLockLost

    monkeypatch.setenv("SMDB_JOURNAL_KEY", os.urandom(32).hex())
    journal = Journal(pg_url)
    with journal.hold(cpr_for(0), 101, 1) as held:
        assert held is not None
        held.check()  # still held
        with psycopg.connect(pg_url, autocommit=True) as admin:
            holders = admin.execute("SELECT DISTINCT pid FROM pg_locks WHERE locktype = 'advisory'").fetchall()
            assert len(holders) == 1
            admin.execute("SELECT pg_terminate_backend(%s)", (holders[0][0],))
            deadline = time.monotonic() + 10  # the server releases the lock as the session ends
            while admin.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'").fetchone() != (0,):
                assert time.monotonic() < deadline
                time.sleep(0.02)
        with pytest.raises(CitizenLockLost, match="tabt"):
            held.check()
