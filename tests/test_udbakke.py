"""Run as a vendor's service (issue 22): the outbox and its worker, many municipalities with their own certificates,
the simulator's access rules, and ``smdb status``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from smdb import eksempler as ex
from smdb.auth import testcert
from smdb.auth.certificates import Credentials
from smdb.cli import main
from smdb.client import SmdbClient
from smdb.journal import Journal
from smdb.models import Kontaktforloeb
from smdb.reporting import OutcomeStatus, Reporter
from smdb.sim import SimServer, Simulator
from smdb.sim.store import Store
from smdb.udbakke import Arbejder, Udbakke
from tests.conftest import TODAY
from tests.processes import sim_serve


def cpr_for(i: int) -> str:
    return f"{1 + i % 28:02d}{1 + (i // 28) % 12:02d}7{i // 336}{4000 + i:04d}"


def version(i: int, v: int, kommunekode: int = 101) -> Kontaktforloeb:
    """State ``v`` of citizen ``i``'s course as the case system hands it over: 1 anmodet and iværksat without
    offers, 2 with one offer, 3 with both offers, KvalHep and the afslutning."""
    f = Kontaktforloeb.model_validate(ex.kontaktforloeb(cpr=cpr_for(i), kommunekode=kommunekode))
    if v == 1:
        return f.model_copy(update={"tilbud": [], "kvalhep": None, "afslutning": None})
    if v == 2:
        return f.model_copy(update={"tilbud": f.tilbud[:1], "kvalhep": None, "afslutning": None})
    return f


def refused(i: int) -> Kontaktforloeb:
    """Version 3 with an afslutning dated before the anmodning: refused by the rules (§6.1)."""
    f = version(i, 3)
    assert f.afslutning is not None
    wrong = f.afslutning.model_copy(update={"afsluttet_dato": f.anmodningsdato - timedelta(days=5)})
    return f.model_copy(update={"afslutning": wrong})


def register(store: Store, n: int) -> dict[str, tuple[int, int, int]]:
    """Per citizen: (TILB, KvalHep, AFSL) records in the register."""
    out = {}
    for i in range(n):
        cpr = cpr_for(i)
        out[cpr] = tuple(sum(1 for r in store.find(kind) if r.cpr == cpr) for kind in ("TILB", "KvalHep", "AFSL"))
    return out  # type: ignore[return-value]


NEWEST = (2, 1, 1)  # version 3


@pytest.fixture
def slow_sim(client_creds: Credentials, server_creds: Credentials) -> Iterator[SimServer]:
    app = Simulator(trusted=[client_creds.certificate], server_credentials=server_creds, today=lambda: TODAY)
    with SimServer(app, client_credentials=client_creds, latency_ms=10) as server:
        yield server


def test_a_course_changed_three_times_while_queued_is_sent_once_in_its_newest_state(
    slow_sim: SimServer, tmp_path: Path
) -> None:
    journal = Journal(tmp_path / "j.db")
    udbakke = Udbakke(journal)
    for v in (1, 2, 3):
        udbakke.tilfoej(version(0, v))
    assert udbakke.i_koe() == 1
    arbejder = Arbejder(udbakke, Reporter(slow_sim.client(), journal), workers=2, til_tom=True, poll=0.05)
    outcomes = arbejder.run()
    assert [o.status for o in outcomes] == [OutcomeStatus.SENT]
    assert register(slow_sim.app.store, 1) == {cpr_for(0): NEWEST}
    assert udbakke.i_koe() == 0


def test_a_newer_state_arriving_while_one_is_sent_is_sent_after_it_never_before(
    slow_sim: SimServer, tmp_path: Path
) -> None:
    journal = Journal(tmp_path / "j.db")
    udbakke = Udbakke(journal)
    udbakke.tilfoej(version(0, 2))
    reporter = Reporter(slow_sim.client(), journal)
    real = reporter.report

    def report_and_change(f: Kontaktforloeb, index: int | None = None) -> Any:
        outcome = real(f, index)
        if len(f.tilbud) == 1:
            udbakke.tilfoej(version(0, 3))  # the case changed while its previous state was being reported
        return outcome

    reporter.report = report_and_change  # type: ignore[method-assign]
    outcomes = Arbejder(udbakke, reporter, workers=1, til_tom=True, poll=0.05).run()
    assert [o.status for o in outcomes] == [OutcomeStatus.SENT, OutcomeStatus.SENT]
    assert register(slow_sim.app.store, 1) == {cpr_for(0): NEWEST}


def test_a_rule_refusal_is_parked_and_taken_again_when_a_corrected_state_arrives(
    sim: SimServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    journal = Journal(tmp_path / "j.db")
    udbakke = Udbakke(journal)
    good = version(0, 3)
    udbakke.tilfoej(refused(0))
    outcomes = Arbejder(udbakke, Reporter(sim.client(), journal), til_tom=True, poll=0.05).run()
    assert [o.status for o in outcomes] == [OutcomeStatus.REJECTED_LOCAL]
    assert udbakke.i_koe() == 0 and sim.app.store.count("ANM") == 0  # parked, not retried forever
    udbakke.tilfoej(good)
    outcomes = Arbejder(udbakke, Reporter(sim.client(), journal), til_tom=True, poll=0.05).run()
    assert [o.status for o in outcomes] == [OutcomeStatus.SENT]
    assert register(sim.app.store, 1) == {cpr_for(0): NEWEST}


def test_while_smdb_is_down_the_worker_waits_without_a_tight_loop_then_finishes(
    client_creds: Credentials, server_creds: Credentials, tmp_path: Path
) -> None:
    app = Simulator(trusted=[client_creds.certificate], server_credentials=server_creds, today=lambda: TODAY)
    with SimServer(app, client_credentials=client_creds) as server:
        port = server.port
        client = server.client(retries=0, timeout=(0.5, 2.0))
    # SMDB down from here: connections refused
    journal = Journal(tmp_path / "j.db")
    udbakke = Udbakke(journal)
    for i in range(5):
        udbakke.tilfoej(version(i, 3))
    arbejder = Arbejder(udbakke, Reporter(client, journal), workers=2, til_tom=True, poll=0.05, max_pause=1.0)
    runner = __import__("threading").Thread(target=arbejder.run)
    runner.start()
    time.sleep(3.0)
    calls_while_down = sum(client.call_counts().values())
    assert calls_while_down <= 20, calls_while_down  # backing off: a handful of tries in 3 s, not thousands
    again = SimServer(app, client_credentials=client_creds, port=port).start()  # SMDB is back
    try:
        runner.join(timeout=60)
        assert not runner.is_alive()
        assert register(app.store, 5) == {cpr_for(i): NEWEST for i in range(5)}
    finally:
        again.stop()


# ----------------------------------------------------------------------------- processes, PostgreSQL
def _worker(journal: str, *extra: str) -> subprocess.Popen[str]:
    command = [
        sys.executable,
        "-m",
        "smdb",
        "udbakke",
        "koer",
        "--journal",
        journal,
        "--workers",
        "4",
        "--today",
        "2025-06-01",
        *extra,
    ]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_200_changes_two_worker_processes_on_postgresql_leave_exactly_the_newest_states(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pg_url: str
) -> None:
    """200 changes of 80 courses (some changed three times) enqueued into a PostgreSQL journal, two `smdb udbakke
    koer --til-tom` processes drain it: SMDB holds exactly the newest state of every course."""
    assert main(["sim", "cert", "--out", str(tmp_path)]) == 0
    monkeypatch.setenv("SMDB_JOURNAL_KEY", os.urandom(32).hex())
    n = 80
    changes = [version(i, 3) for i in range(n)]
    changes += [version(i, v) for i in range(0, n, 2) for v in (1, 2)] + [version(i, 3) for i in range(0, n, 2)]
    assert len(changes) == 200
    (tmp_path / "changes.json").write_text(json.dumps([f.to_official() for f in changes], default=str))
    with sim_serve(tmp_path, monkeypatch, "--latency", "10", "--db", str(tmp_path / "smdb.db")):
        assert main(["udbakke", "tilfoej", str(tmp_path / "changes.json"), "--journal", pg_url]) == 0
        procs = [_worker(pg_url, "--til-tom"), _worker(pg_url, "--til-tom")]
        for proc in procs:
            _, err = proc.communicate(timeout=300)
            assert proc.returncode == 0, err
            assert "Traceback" not in err
    store = Store(tmp_path / "smdb.db")
    assert register(store, n) == {cpr_for(i): NEWEST for i in range(n)}
    assert store.count("ANM") == n
    store.close()


def test_sigterm_finishes_the_courses_in_flight_and_a_restart_drains_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pg_url: str
) -> None:
    assert main(["sim", "cert", "--out", str(tmp_path)]) == 0
    monkeypatch.setenv("SMDB_JOURNAL_KEY", os.urandom(32).hex())
    n = 40
    (tmp_path / "c.json").write_text(json.dumps([version(i, 3).to_official() for i in range(n)], default=str))
    with sim_serve(tmp_path, monkeypatch, "--latency", "40", "--db", str(tmp_path / "smdb.db")):
        assert main(["udbakke", "tilfoej", str(tmp_path / "c.json"), "--journal", pg_url]) == 0
        proc = _worker(pg_url)  # long-running
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if Store(tmp_path / "smdb.db").count("ANM") >= 5:
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        store = Store(tmp_path / "smdb.db")
        half = register(store, n)
        store.close()
        # every course the worker started is complete: none is left half-sent
        assert all(c in (NEWEST, (0, 0, 0)) for c in half.values()), half
        restart = _worker(pg_url, "--til-tom")
        _, err = restart.communicate(timeout=300)
        assert restart.returncode == 0, err
    store = Store(tmp_path / "smdb.db")
    assert register(store, n) == {cpr_for(i): NEWEST for i in range(n)}
    store.close()


# ----------------------------------------------------------------------------- many municipalities
@pytest.fixture
def two_kommuner(tmp_path: Path, server_creds: Credentials) -> Iterator[tuple[SimServer, Path]]:
    """Two municipalities' organisations with their own certificates; the simulator lets each reach only its own."""
    aarhus = testcert.generate("Aarhus Kommune", "55133018")
    odense = testcert.generate("Odense Kommune", "35209115")
    app = Simulator(
        trusted=[aarhus.certificate, odense.certificate],
        server_credentials=server_creds,
        today=lambda: TODAY,
        adgang={"55133018": [751], "35209115": [461]},
    )
    for name, creds in (("aarhus", aarhus), ("odense", odense)):
        cert, key = testcert.to_pem(creds)
        (tmp_path / f"{name}.pem").write_bytes(cert)
        (tmp_path / f"{name}-key.pem").write_bytes(key)
        (tmp_path / f"{name}-key.pem").chmod(0o600)
    with SimServer(app, client_credentials=aarhus) as server:
        config = tmp_path / "smdb.toml"
        config.write_text(
            f'[smdb]\nenv = "local"\nendpoint = "{server.url}"\n'
            f'[smdb.kommuner.751]\ncert = "{tmp_path / "aarhus.pem"}"\nkey = "{tmp_path / "aarhus-key.pem"}"\n'
            f'[smdb.kommuner.461]\ncert = "{tmp_path / "odense.pem"}"\nkey = "{tmp_path / "odense-key.pem"}"\n'
        )
        yield server, config


def test_each_municipality_reports_with_its_own_certificate_and_a_third_is_refused_locally(
    two_kommuner: tuple[SimServer, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server, config = two_kommuner
    courses = [version(0, 3, 751), version(1, 3, 461), version(2, 3, 101)]
    (tmp_path / "c.json").write_text(json.dumps([f.to_official() for f in courses], default=str))
    code = main(
        ["--config", str(config), "indberet", str(tmp_path / "c.json"), "--today", "2025-06-01", "--format", "json"]
    )
    summary = json.loads(capsys.readouterr().out)
    assert code == 1
    statuses = {c["forloeb"]: c["status"] for c in summary["courses"]}
    assert statuses == {0: "sent", 1: "sent", 2: "refused"}, summary
    assert "kommune 101 har intet certifikat" in summary["courses"][2]["reason"]
    # the simulator would have refused a course sent with the other municipality's certificate: both landed
    assert server.app.store.count("ANM") == 2
    # and the worker does the same from the outbox
    journal = Journal(tmp_path / "j.db")
    udbakke = Udbakke(journal)
    for f in (version(3, 3, 751), version(4, 3, 461)):
        udbakke.tilfoej(f)
    from smdb.settings import SmdbSettings

    settings = SmdbSettings.load(config)
    reporter = Reporter(SmdbClient.from_settings(settings), journal, kommuner=SmdbClient.per_kommune(settings))
    outcomes = Arbejder(udbakke, reporter, til_tom=True, poll=0.05).run()
    assert sorted(o.status for o in outcomes) == [OutcomeStatus.SENT, OutcomeStatus.SENT]
    assert server.app.store.count("ANM") == 4


def test_the_simulator_refuses_another_municipalitys_write_and_shows_nothing_of_it(
    two_kommuner: tuple[SimServer, Path],
) -> None:
    from smdb.errors import SmdbOutcomeUnknown

    server, _ = two_kommuner
    aarhus = server.client()  # Aarhus's certificate
    assert Reporter(aarhus).report(version(0, 3, 751)).status is OutcomeStatus.SENT
    with pytest.raises(SmdbOutcomeUnknown, match="ikke adgang til kommune 461"):
        aarhus.indsaet_ivaerksaettelse(version(1, 3, 461), validate_first=False)
    assert server.app.store.count("ANM") == 1
    odense = testcert.generate("Odense Kommune", "35209115")
    server.app.trusted.append(odense.certificate)
    other = server.client(credentials=odense)
    assert other.hent_anmodninger(cpr=cpr_for(0)) == []  # Aarhus's citizen: nothing of it
    assert other.hent_anmodninger() == []
    assert len(aarhus.hent_anmodninger(cpr=cpr_for(0))) == 1


def test_sim_serve_adgang_is_checked() -> None:
    assert main(["sim", "serve", "--port", "0", "--adgang", "123=101"]) == 2


# ----------------------------------------------------------------------------- status
def _status(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["status", *args])
    return code, capsys.readouterr().out


def test_status_in_text_json_and_prometheus_with_exit_1_for_each_attention_case(
    sim: SimServer, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    t0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    journal_path = tmp_path / "j.db"
    journal = Journal(journal_path)
    udbakke = Udbakke(journal, clock=lambda: t0)
    udbakke.tilfoej(version(0, 3))
    Arbejder(udbakke, Reporter(sim.client(), journal), til_tom=True, poll=0.05).run()  # sent
    good = journal_path
    cert, key = testcert.to_pem(testcert.generate("Testkommune", "29189900", days=365, not_before=t0))
    (tmp_path / "org.pem").write_bytes(cert)
    (tmp_path / "org-key.pem").write_bytes(key)
    monkeypatch.setenv("SMDB_CERT", str(tmp_path / "org.pem"))
    monkeypatch.setenv("SMDB_KEY", str(tmp_path / "org-key.pem"))
    monkeypatch.setenv("SMDB_ENV", "local")
    monkeypatch.setenv("SMDB_ENDPOINT", sim.url)
    now = "2026-12-01T09:00:00+0000"
    code, out = _status(["--journal", str(good), "--nu", now], capsys)
    assert code == 0 and "alt er i orden" in out and "kommune 101: 0 i kø" in out, out
    # 1) a change waiting longer than the limit
    udbakke.tilfoej(version(1, 3))
    code, out = _status(["--journal", str(good), "--nu", now, "--maks-alder", "30"], capsys)
    assert code == 1 and "ældste ikke-sendte ændring er 60 min" in out, out
    code, out = _status(["--journal", str(good), "--nu", now, "--maks-alder", "90"], capsys)
    assert code == 0, out
    # 2) a parked course (refused by a rule), shown with its masked CPR and reason
    udbakke.tilfoej(refused(2))
    Arbejder(udbakke, Reporter(sim.client(), journal), til_tom=True, poll=0.05).run()
    code, out = _status(["--journal", str(good), "--nu", now, "--maks-alder", "90"], capsys)
    assert code == 1 and "parkeret" in out and cpr_for(2)[:6] + "-****" in out and cpr_for(2) not in out, out
    code, out = _status(["--journal", str(good), "--nu", now, "--maks-alder", "90", "--format", "json"], capsys)
    data = json.loads(out)
    assert code == 1 and data["ok"] is False and data["kommuner"][0]["parkeret"][0]["cpr"] == cpr_for(2)[:6] + "-****"
    code, out = _status(["--journal", str(good), "--nu", now, "--maks-alder", "90", "--format", "prometheus"], capsys)
    assert code == 1
    assert 'smdb_udbakke_parkeret{kommune="101"} 1' in out and "# TYPE smdb_udbakke_i_koe gauge" in out
    assert 'smdb_certifikat_dage_til_udloeb{kommune="organisation"}' in out
    assert "smdb_opmaerksomhed 1" in out
    # 3) a certificate expiring within 30 days
    fresh = tmp_path / "fresh.db"
    Journal(fresh).close()
    late = (t0 + timedelta(days=340)).strftime("%Y-%m-%dT%H:%M:%S+0000")
    code, out = _status(["--journal", str(fresh), "--nu", late], capsys)
    assert code == 1 and "udløber om 25 dage" in out, out
    code, out = _status(["--journal", str(fresh), "--nu", now], capsys)
    assert code == 0, out
