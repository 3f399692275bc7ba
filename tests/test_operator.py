"""What an operator and an embedder act on (issue 23, the parts done so far): exit codes that tell "fix the data"
from "try again later", the error's kind on each outcome, the words the output shows accepted as input, the
planned count of a dry run, and a crashed simulator database that opens again."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from smdb import eksempler as ex
from smdb.cli import EXIT_LATER, main
from smdb.models import Kontaktforloeb
from smdb.reporting import OutcomeStatus, Reporter
from smdb.sim import SimServer
from smdb.sim.store import Store


def _data(n: int) -> list[dict[str, object]]:
    return [ex.kontaktforloeb(cpr=f"{1 + i:02d}0190{4100 + i:04d}", kommunekode=101) for i in range(n)]


def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_smdb_out_of_reach_is_exit_4_and_a_data_error_is_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sim", "cert", "--out", str(tmp_path)]) == 0
    monkeypatch.setenv("SMDB_ENV", "local")
    monkeypatch.setenv("SMDB_ENDPOINT", f"http://127.0.0.1:{_dead_port()}")
    monkeypatch.setenv("SMDB_CERT", str(tmp_path / "test-cert.pem"))
    monkeypatch.setenv("SMDB_KEY", str(tmp_path / "test-key.pem"))
    good = tmp_path / "good.json"
    good.write_text(json.dumps(_data(3), default=str))
    capsys.readouterr()
    code = main(["indberet", str(good), "--today", "2025-06-01", "--format", "json"])
    summary = json.loads(capsys.readouterr().out)
    assert code == EXIT_LATER == 4, summary
    assert summary["retry_later"] == 3
    assert {c["error"] for c in summary["courses"]} == {"SmdbUnavailable"}
    assert all(c["retry_later"] for c in summary["courses"])
    bad = _data(3)
    bad[0]["ANM"]["PersonIdentifikator"] = "0101900000x"  # does not parse: the data must be fixed
    mixed = tmp_path / "mixed.json"
    mixed.write_text(json.dumps(bad, default=str))
    assert main(["indberet", str(mixed), "--today", "2025-06-01", "--format", "json"]) == 1
    capsys.readouterr()
    assert main(["whoami"]) == EXIT_LATER  # a single call: SMDB out of reach is "later" too


def test_an_outcome_carries_the_kind_of_its_error(sim: SimServer) -> None:
    client = sim.client(base_url=f"http://127.0.0.1:{_dead_port()}", backoff=0.001, retries=0)
    f = Kontaktforloeb.model_validate(_data(1)[0])
    outcome = Reporter(client).report(f)
    assert outcome.status is OutcomeStatus.FAILED and outcome.error == "SmdbUnavailable" and outcome.retry_later
    untrusted = sim.client(server_certificates=[client.credentials.certificate])  # the wrong DST certificate
    outcome = Reporter(untrusted).report(f)
    assert outcome.status is OutcomeStatus.FAILED and outcome.error == "AnswerNotVerified"
    assert not outcome.retry_later  # fix the configuration, a re-run will not help


def test_journal_status_accepts_the_words_the_table_shows(
    sim: SimServer, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from smdb.journal import Journal

    journal = tmp_path / "j.db"
    Reporter(sim.client(), Journal(journal)).report(Kontaktforloeb.model_validate(_data(1)[0]))
    assert main(["journal", str(journal), "--status", "bekræftet", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows and all(r["status"] == "confirmed" for r in rows)
    assert main(["journal", str(journal), "--status", "afvist"]) == 0
    assert main(["journal", str(journal), "--status", "rejected"]) == 0


def test_a_dry_run_counts_what_it_planned(
    sim: SimServer, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMDB_ENV", "local")
    monkeypatch.setenv("SMDB_ENDPOINT", sim.url)
    from smdb.auth import testcert

    cert, key = testcert.to_pem(sim.client_credentials)
    (tmp_path / "c.pem").write_bytes(cert)
    (tmp_path / "k.pem").write_bytes(key)
    monkeypatch.setenv("SMDB_CERT", str(tmp_path / "c.pem"))
    monkeypatch.setenv("SMDB_KEY", str(tmp_path / "k.pem"))
    path = tmp_path / "in.json"
    path.write_text(json.dumps(_data(2), default=str))
    assert main(["indberet", str(path), "--dry-run", "--format", "json", "--today", "2025-06-01"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["planned"] == 2 and summary["sent"] == 0


def test_a_simulator_database_killed_mid_write_opens_again_with_its_last_committed_state(tmp_path: Path) -> None:
    """Before: `smdb sim serve` restarted on a database whose writer died mid-transaction refused it in about half
    the trials ("er ikke en simulator-database"): the read-only check cannot roll back the hot journal."""
    db = tmp_path / "smdb.db"
    store = Store(db)
    store.insert("ANM", {"x": 1}, cpr="0101900000", kommune=101)
    store.close()
    crash = (
        "import os, sqlite3, sys\n"
        f"db = sqlite3.connect({str(db)!r}, isolation_level=None)\n"
        "db.execute('PRAGMA journal_mode=DELETE')\n"
        "db.execute('BEGIN IMMEDIATE')\n"
        "db.executemany(\"INSERT INTO records (kind, data) VALUES ('ANM', ?)\", [('x' * 4000,)] * 2000)\n"
        "os._exit(9)  # killed mid-transaction: the rollback journal stays hot\n"
    )
    subprocess.run([sys.executable, "-c", crash], check=False)
    assert Path(f"{db}-journal").exists()
    again = Store(db)  # opens: the hot journal rolled back, the committed state kept
    try:
        assert again.count("ANM") == 1
    finally:
        again.close()


def test_the_cron_scenario_what_is_left_then_a_rerun_leaves_nothing(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The nightly job: SMDB is dead, the file has a course that does not parse. `smdb journal` lists exactly what
    is left, every course with its state and its index in the file (not attempted and unparseable too); exit 1
    (there is data to fix). The data fixed, SMDB up: the re-run exits 0 and the same query is empty. SMDB dead with
    good data only: exit 4 (run again later)."""
    from smdb.auth import testcert

    cert, key = testcert.to_pem(sim.client_credentials)
    (tmp_path / "c.pem").write_bytes(cert)
    (tmp_path / "k.pem").write_bytes(key)
    for var, value in {
        "SMDB_ENV": "local",
        "SMDB_CERT": str(tmp_path / "c.pem"),
        "SMDB_KEY": str(tmp_path / "k.pem"),
        "SMDB_ENDPOINT": f"http://127.0.0.1:{_dead_port()}",
    }.items():
        monkeypatch.setenv(var, value)
    data = _data(10)
    broken = json.loads(json.dumps(data[3], default=str))
    broken["ANM"]["BehandlingAnmodningDato"] = "ikke en dato"
    path, journal = tmp_path / "nat.json", tmp_path / "nat.db"
    path.write_text(json.dumps([*data[:3], broken, *data[4:]], default=str))
    run = [
        "indberet",
        str(path),
        "--journal",
        str(journal),
        "--today",
        "2025-06-01",
        "--format",
        "json",
        "--workers",
        "1",
    ]
    assert main(run) == 1  # a course must be fixed (and the rest tried later)
    capsys.readouterr()
    assert main(["journal", str(journal), "--format", "json"]) == 0
    left = json.loads(capsys.readouterr().out)
    assert sorted(r["index"] for r in left) == list(range(10))  # every course of the run, by its place in the file
    by_status: dict[str, list[int]] = {}
    for r in left:
        by_status.setdefault(r["status"], []).append(r["index"])
    assert by_status["rejected"] == [3] and "kan ikke læses" in next(r["reason"] for r in left if r["index"] == 3)
    assert len(by_status["failed"]) == 5 and len(by_status["not_attempted"]) == 4
    assert len({r["run"] for r in left}) == 1
    assert main(["journal", str(journal), "--status", "ikke forsøgt", "--format", "json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 4
    # the next night: the data fixed, SMDB up
    monkeypatch.setenv("SMDB_ENDPOINT", sim.url)
    path.write_text(json.dumps(data, default=str))
    assert main(run) == 0
    capsys.readouterr()
    assert main(["journal", str(journal), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == []  # nothing left
    assert main(["journal", str(journal), "--status", "failed", "--status", "unknown", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    # SMDB dead, nothing to fix: exit 4
    monkeypatch.setenv("SMDB_ENDPOINT", f"http://127.0.0.1:{_dead_port()}")
    more = tmp_path / "more.json"
    more.write_text(json.dumps([ex.kontaktforloeb(cpr="0505054321", kommunekode=101)], default=str))
    assert main(["indberet", str(more), "--journal", str(journal), "--today", "2025-06-01"]) == 4


def test_a_run_stopped_early_never_says_it_handled_what_it_did_not(sim: SimServer) -> None:
    import io

    client = sim.client(base_url=f"http://127.0.0.1:{_dead_port()}", backoff=0.001, retries=0)
    progress = io.StringIO()
    summary = Reporter(client).report_many([Kontaktforloeb.model_validate(d) for d in _data(20)], progress)
    assert summary.count("not_attempted") == 15
    assert progress.getvalue().splitlines()[-1] == "smdb: 5/20 forløb behandlet"
    assert "20/20" not in progress.getvalue()


def test_small_things_an_operator_meets(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An empty file is said to be empty (not "all valid"); a TOML error and a password in the config file are
    named in Danish; `smdb journal --help` lists only what it uses; a library warning is one `smdb: advarsel:` line."""
    empty = tmp_path / "tom.json"
    empty.write_text("[]")
    assert main(["validate", str(empty)]) == 2
    assert "ingen forløb" in capsys.readouterr().err
    bad_toml = tmp_path / "a.toml"
    bad_toml.write_text("[smdb]\nenv = \n")
    assert main(["--config", str(bad_toml), "whoami"]) == 2
    err = capsys.readouterr().err
    assert "ikke gyldig TOML (linje 2" in err and "Expected" not in err, err
    secret = tmp_path / "b.toml"
    secret.write_text('[smdb]\nenv = "local"\npassword = "hemmelig"\n')
    assert main(["--config", str(secret), "whoami"]) == 2
    err = capsys.readouterr().err
    assert "SMDB_CERT_PASSWORD" in err and "hemmelig" not in err, err
    from click.testing import CliRunner

    from smdb.cli import cli

    help_text = CliRunner().invoke(cli, ["journal", "--help"]).output
    assert "--trin" in help_text and "--cert" not in help_text and "--endpoint" not in help_text
    import warnings

    from smdb.cli import _vis_advarsel

    with warnings.catch_warnings():
        warnings.showwarning = _vis_advarsel
        warnings.warn("Svar fra SMDB verificeres ikke", UserWarning, stacklevel=1)
    assert capsys.readouterr().err == "smdb: advarsel: Svar fra SMDB verificeres ikke\n"


def test_one_documented_way_to_read_user_data_with_danish_violations_by_index() -> None:
    from datetime import date

    from smdb import ValidationFailed, indlaes, parse_forloeb

    good = _data(1)[0]
    assert parse_forloeb(good, date(2025, 6, 1)).kommunekode == 101
    wrong = json.loads(json.dumps(good, default=str))
    wrong["ANM"]["BehandlingAnmodningDato"] = "ikke en dato"
    with pytest.raises(ValidationFailed) as exc:
        parse_forloeb(wrong)
    assert exc.value.violations and all("2-ANM" in v.fields for v in exc.value.violations)
    assert "pydantic" not in str(exc.value) and "Input should be" not in str(exc.value)
    items = indlaes([good, wrong, {"INDS": {}}], date(2025, 6, 1))
    assert [i.index for i in items] == [0, 1, 2]
    assert items[0].ok and not items[1].ok and items[1].forloeb is None and items[1].violations
    assert all(v.forloeb == 1 for v in items[1].violations)


def test_a_violation_says_where_it_is_as_data() -> None:
    """A case system highlights the field: the course, the form, which record of a list, the Felt-ID."""
    from datetime import date

    from smdb import indlaes

    data = _data(1)[0]
    data["TILB"][1]["TilbudTilknyttetBehandlingStartDato"] = "2024-03-05"  # before the iværksættelse (§6.1.4)
    broken = json.loads(json.dumps(_data(2)[1], default=str))
    broken["TILB"][1]["TilbudId"] = "x"
    first, second = indlaes([data, broken], date(2025, 6, 1))
    (v,) = [v for v in first.violations if v.code == "tilb_start_foer_ivaer"]
    assert v.placering == {"forloeb": 0, "skema": "TILB", "nr": 1, "felt": v.fields[0]}
    assert v.fields[0].endswith("-TILB")
    (w,) = second.violations
    assert (w.forloeb, w.skema, w.nr) == (1, "TILB", 1)


def test_a_memory_address_in_a_debug_log_is_not_taken_for_a_cpr_number() -> None:
    from smdb.cpr import scrub

    assert scrub("<object at 0x7f4512345678>") == "<object at 0x7f4512345678>"
    assert scrub("cpr 0101901234, 0x0101901234") == "cpr 010190-****, 0x010190-****"  # no hex letter: masked


def test_a_symlinked_journal_is_an_unsafe_file_and_a_refused_journal(tmp_path: Path) -> None:
    from smdb.errors import NotAJournal, UnsafeFile
    from smdb.journal import Journal

    target = tmp_path / "real.db"
    target.write_bytes(b"")
    (tmp_path / "j.db").symlink_to(target)
    with pytest.raises(UnsafeFile, match="symbolsk link"):
        Journal(tmp_path / "j.db")
    with pytest.raises(NotAJournal):
        Journal(tmp_path / "j.db")


def test_tables_logs_and_network_errors_speak_danish(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import io

    from smdb.cli import _print_rows

    out = io.StringIO()
    _print_rows([{f"k{i}": (i == 0) for i in range(9)}], "table", out)
    text = out.getvalue()
    assert "ja" in text and "True" not in text and "False" not in text
    assert "(1 kolonne mere: brug --format json eller csv)" in text
    # a WSDL that cannot be fetched: the reason in Danish words, not requests' class name
    source = f"http://127.0.0.1:{_dead_port()}/hent.wsdl"
    assert main(["contract", "diff", source]) == EXIT_LATER
    err = capsys.readouterr().err
    assert "forbindelsen kunne ikke oprettes" in err and "ConnectionError" not in err, err
    # log lines carry their time
    data = tmp_path / "c.json"
    data.write_text(json.dumps(_data(1), default=str))
    assert main(["sim", "cert", "--out", str(tmp_path)]) == 0
    command = [
        sys.executable,
        "-m",
        "smdb",
        "-v",
        "--env",
        "local",
        "--endpoint",
        f"http://127.0.0.1:{_dead_port()}",
        "--cert",
        str(tmp_path / "test-cert.pem"),
        "--key",
        str(tmp_path / "test-key.pem"),
        "indberet",
        str(data),
        "--today",
        "2025-06-01",
    ]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert proc.returncode == EXIT_LATER, proc.stderr
    logged = [line for line in proc.stderr.splitlines() if " INFO " in line]
    assert logged, proc.stderr
    for line in logged:
        assert line[:4].isdigit() and line[4] == "-", line  # 2026-12-06 10:00:00,123 INFO …


def test_an_unknown_write_tells_the_operator_to_run_again(sim: SimServer) -> None:
    """Not "afstem med Hent*" (advice for a developer): a re-run reconciles it by itself."""
    from smdb.errors import SmdbOutcomeUnknown
    from smdb.sim.faults import FaultPlan

    sim.app.fault_plan = FaultPlan(rate=1.0, kinds=["truncated_after"], writes_only=True)
    client = sim.client()
    with pytest.raises(SmdbOutcomeUnknown) as exc:
        client.indsaet_ivaerksaettelse(Kontaktforloeb.model_validate(_data(1)[0]), validate_first=False)
    assert "kør igen" in str(exc.value) and "Hent" not in str(exc.value)
