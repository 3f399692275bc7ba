"""End to end over loopback: client, reporter, simulator and CLI together."""

from __future__ import annotations

import json
import os
import stat
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import requests

from smdb import eksempler as ex
from smdb.auth import testcert
from smdb.auth.certificates import Credentials
from smdb.cli import main
from smdb.client import SmdbClient
from smdb.errors import SmdbRuleRejected, SmdbSecurityFault, ValidationFailed
from smdb.journal import Journal
from smdb.models import Kontaktforloeb
from smdb.reporting import Reporter
from smdb.sim import SimServer, Simulator, Store
from tests.processes import sim_serve

TODAY = date(2025, 6, 1)


def course(**kw: Any) -> Kontaktforloeb:
    return Kontaktforloeb.model_validate(ex.kontaktforloeb(**kw))


def snapshot(sim: SimServer) -> dict[str, int]:
    return {k: sim.app.store.count(k) for k in ("ANM", "IVÆR", "TILB", "KvalHep", "AFSL")}


def test_full_lifecycle_open_then_close(sim: SimServer, client: SmdbClient) -> None:
    r = Reporter(client)
    open_ = course(afsluttet_efter_dage=None)
    assert r.report(open_).status == "sent"
    assert snapshot(sim) == {"ANM": 1, "IVÆR": 1, "TILB": 2, "KvalHep": 1, "AFSL": 0}
    closed = course()
    out = r.report(closed)
    assert out.status == "sent"
    assert out.sent == ["ret tilbud 1002", "ret tilbud 1001", "afslut behandling"]
    assert snapshot(sim) == {"ANM": 1, "IVÆR": 1, "TILB": 2, "KvalHep": 1, "AFSL": 1}
    (stored,) = client.hent_forloeb(closed.cpr, 101)
    assert stored.afslutning is not None and all(t.slutdato for t in stored.tilbud)
    assert r.report(closed).status == "already"


def test_rerun_sends_nothing_even_without_journal(sim: SimServer, client: SmdbClient) -> None:
    courses = [course(cpr=f"01018{i}1234", kommunekode=101) for i in range(5)]
    assert Reporter(client).report_many(courses).count("sent") == 5
    before = snapshot(sim)
    summary = Reporter(client, Journal(None)).report_many(courses)
    assert summary.count("already") == 5
    assert snapshot(sim) == before


def test_local_rejection_stores_nothing(sim: SimServer, client: SmdbClient) -> None:
    bad = ex.kontaktforloeb()
    del bad["IVÆR"]["PersonNogensindeTestetHCVKode"]
    out = Reporter(client).report(Kontaktforloeb.model_validate(bad))
    assert out.status == "rejected_local"
    assert [v.code for v in out.violations] == ["hcv_test_paakraevet"]
    assert sim.app.store.count() == 0


def test_server_rejects_a_client_that_skips_validation(sim: SimServer, client: SmdbClient) -> None:
    bad = ex.kontaktforloeb()
    bad["IVÆR"]["AlkoholTypiskIndtagelsesmaadeKode"] = "01"
    with pytest.raises(SmdbRuleRejected) as exc:
        client.indsaet_ivaerksaettelse(Kontaktforloeb.model_validate(bad), validate_first=False)
    assert exc.value.rule == "6.1.3"
    assert "stof_ugyldig_indtagelsesmaade" in exc.value.message
    assert sim.app.store.count() == 0
    # a second open course for the same citizen is refused by the register (§6.1.2)
    ok = course(afsluttet_efter_dage=None)
    client.indsaet_ivaerksaettelse(ok)
    with pytest.raises(SmdbRuleRejected, match="en_aaben_anmodning"):
        client.indsaet_ivaerksaettelse(
            course(afsluttet_efter_dage=None, anmodningsdato=date(2024, 4, 1)), validate_first=False
        )
    with pytest.raises(ValidationFailed):
        client.indsaet_ivaerksaettelse(course(afsluttet_efter_dage=None, anmodningsdato=date(2024, 4, 1)))


def test_unsigned_and_untrusted_requests_get_a_security_fault(sim: SimServer) -> None:
    unsigned = SmdbClient(base_url=sim.url, credentials=None, today=lambda: TODAY)
    with pytest.raises(SmdbSecurityFault, match="ikke signeret"):
        unsigned.whoami()
    stranger = SmdbClient(base_url=sim.url, credentials=testcert.generate("Fremmed"), today=lambda: TODAY)
    with pytest.raises(SmdbSecurityFault, match="ikke betroet"):
        stranger.echo("x")
    assert sim.app.store.count() == 0


def test_wsdl_is_served_with_the_local_address(sim: SimServer) -> None:
    for version in ("v1", "v0"):
        r = requests.get(f"{sim.url}/smdbwebservice/api/external/{version}/securehentdata.svc?singlewsdl", timeout=5)
        assert r.status_code == 200
        assert f"{sim.url}/smdbwebservice/api/external/{version}/securehentdata.svc".encode() in r.content
    assert requests.get(f"{sim.url}/nope", timeout=5).status_code == 404


def test_v0_endpoints_work(sim: SimServer) -> None:
    assert sim.client(api_version="v0").echo("generics") == "generics"


def test_batch_interrupted_midway_resumes_without_duplicates(
    sim: SimServer, client: SmdbClient, tmp_path: Path
) -> None:
    courses = [course(cpr=f"0202{70 + i:02d}1234", kommunekode=101) for i in range(6)]
    journal_path = tmp_path / "journal.db"
    calls = {"n": 0}
    real_call = client.call

    def crashing_call(operation: str, **kw: Any) -> Any:
        if writes(operation):
            calls["n"] += 1
            if calls["n"] == 14:  # in the middle of the third course
                raise KeyboardInterrupt("strøm væk")
        return real_call(operation, **kw)

    client.call = crashing_call  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        Reporter(client, Journal(journal_path)).report_many(courses)
    client.call = real_call  # type: ignore[method-assign]
    partial = snapshot(sim)
    assert 0 < partial["ANM"] < 6
    summary = Reporter(client, Journal(journal_path)).report_many(courses)
    assert summary.ok
    assert snapshot(sim) == {"ANM": 6, "IVÆR": 6, "TILB": 12, "KvalHep": 6, "AFSL": 6}
    for f in courses:
        (stored,) = client.hent_forloeb(f.cpr, 101)
        assert stored.afslutning == f.afslutning.model_copy(update={"smdb_id": stored.afslutning.smdb_id})
    # the write cut off by the crash is resolved by reconciliation: not stored, so sent again
    steps = Journal(journal_path).counts()
    assert steps == {"confirmed": 6 * 5, "failed": 1}, steps
    (cut,) = [r for r in Journal(journal_path).steps() if r.status == "failed"]
    assert cut.reason == "afstemt med SMDB: ikke gemt; sendes igen"
    assert stat.S_IMODE(os.stat(journal_path).st_mode) == 0o600
    assert "0202701234" not in journal_path.read_bytes().decode("latin-1")


def writes(name: str) -> bool:
    from smdb.soap.contract import OPERATIONS

    return OPERATIONS[name].writes


def test_deleting_is_refused_with_the_manual_route(sim: SimServer, client: SmdbClient) -> None:
    r = Reporter(client)
    r.report(course())
    fewer = ex.kontaktforloeb()
    del fewer["TILB"][0]
    fewer["AFSL"]["BehandlingAfsluttetDato"] = fewer["TILB"][0]["TilbudTilknyttetBehandlingSlutDato"]
    out = r.report(Kontaktforloeb.model_validate(fewer))
    assert out.status == "refused"
    assert out.reason is not None and "SMDB-web" in out.reason and "smdb@dst.dk" in out.reason


def test_simulator_state_survives_a_restart(
    tmp_path: Path, client_creds: Credentials, server_creds: Credentials
) -> None:
    db = tmp_path / "sim.db"

    def server() -> SimServer:
        app = Simulator(
            Store(db), trusted=[client_creds.certificate], server_credentials=server_creds, today=lambda: TODAY
        )
        return SimServer(app, client_credentials=client_creds)

    with server() as s1:
        Reporter(s1.client(today=lambda: TODAY)).report(course())
    assert stat.S_IMODE(os.stat(db).st_mode) == 0o600
    with server() as s2:
        (stored,) = s2.client(today=lambda: TODAY).hent_forloeb(ex.CPR_KVINDE)
        assert stored.afslutning is not None


# ----------------------------------------------------------------------------- CLI against the simulator
@pytest.fixture
def cli_env(sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cert_pem, key_pem = testcert.to_pem(sim.client_credentials, "pw")
    (tmp_path / "cert.pem").write_bytes(cert_pem)
    (tmp_path / "key.pem").write_bytes(key_pem)
    monkeypatch.setenv("SMDB_ENV", "local")
    monkeypatch.setenv("SMDB_ENDPOINT", sim.url)
    monkeypatch.setenv("SMDB_CERT", str(tmp_path / "cert.pem"))
    monkeypatch.setenv("SMDB_KEY", str(tmp_path / "key.pem"))
    monkeypatch.setenv("SMDB_CERT_PASSWORD", "pw")
    monkeypatch.setenv("SMDB_KOMMUNEKODE", "101")
    monkeypatch.chdir(tmp_path)  # default output files (systemskifte plans, journals) land here
    return tmp_path


def test_cli_whoami_echo_check(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["whoami"]) == 0
    assert "Cvr: 29189900" in capsys.readouterr().out
    assert main(["echo", "hej"]) == 0
    assert capsys.readouterr().out.strip() == "hej"
    assert main(["check"]) == 0
    assert "svarer" in capsys.readouterr().out


def test_cli_indberet_dry_run_then_real_then_hent(
    cli_env: Path, sim: SimServer, capsys: pytest.CaptureFixture[str]
) -> None:
    path = cli_env / "courses.json"
    path.write_text(json.dumps([ex.kontaktforloeb(), ex.kontaktforloeb(cpr=ex.CPR_MAND, kvinde=False)]))
    assert main(["indberet", str(path), "--dry-run", "--today", "2025-06-01"]) == 0
    assert "planlagt (intet sendt)" in capsys.readouterr().out
    assert sim.app.store.count() == 0
    assert (
        main(["indberet", str(path), "--journal", str(cli_env / "j.db"), "--format", "json", "--today", "2025-06-01"])
        == 0
    )
    result = json.loads(capsys.readouterr().out)
    assert result["sent"] == 2 and result["failed"] == 0
    assert main(["hent", "anmodninger", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["PersonIdentifikator"] for r in rows} == {"010190-****", "150685-****"}
    assert main(["hent", "tilbudstilknytninger", "--cpr", ex.CPR_KVINDE, "--format", "table"]) == 0
    header = capsys.readouterr().out.splitlines()[0].split()
    assert header[:2] == ["TilbudstilknytningId", "IvaerksaettelseId"]
    assert main(["hent", "anmodninger", "--format", "table"]) == 0
    assert capsys.readouterr().out.splitlines()[0].split()[:2] == ["AnmodningId", "PersonIdentifikator"]
    assert main(["hent", "tilbud", "--format", "csv"]) == 0
    assert "TilbudId" in capsys.readouterr().out


def test_cli_indberet_reports_rejections_with_exit_1(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = ex.kontaktforloeb()
    del bad["TILB"][1]["AutorisationKodeTekst"]
    path = cli_env / "bad.json"
    path.write_text(json.dumps(bad))
    assert main(["indberet", str(path), "--today", "2025-06-01"]) == 1
    assert "[9-TILB] AutorisationKodeTekst" in capsys.readouterr().out


def test_cli_indberet_one_unparseable_course_does_not_hold_back_the_batch(
    cli_env: Path, sim: SimServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """A wrong code (a parse error, not a business rule) rejects that course alone; the others are reported."""
    wrong_code = ex.kontaktforloeb(cpr="0303854322")
    wrong_code["IVÆR"]["PersonGrundskoleuddannelseKode"] = "77"
    mand = ex.kontaktforloeb(cpr=ex.CPR_MAND, kvinde=False)
    data = [ex.kontaktforloeb(), wrong_code, ex.indskrivningsforloeb(), mand]
    path = cli_env / "mixed.json"
    path.write_text(json.dumps(data, default=str))
    assert main(["indberet", str(path), "--format", "json", "--today", "2025-06-01"]) == 1
    result = json.loads(capsys.readouterr().out)
    assert [(c["forloeb"], c["cpr"], c["status"]) for c in result["courses"]] == [
        (0, "010190-****", "sent"),
        (1, "030385-****", "rejected_local"),
        (2, "150685-****", "refused"),
        (3, "150685-****", "sent"),
    ]
    assert result["courses"][1]["violations"][0]["fields"] == ["12-IVÆR"]
    assert "lukket for datoer fra 2025-01-01" in result["courses"][2]["reason"]
    assert result["sent"] == 2 and result["rejected_by_rule"] == 1 and result["refused"] == 1
    assert sim.app.store.count("ANM") == 2
    assert main(["indberet", str(path), "--today", "2025-06-01"]) == 1
    out = capsys.readouterr().out
    assert "forløb 1 (030385-****): afvist af reglerne" in out
    assert "§3.1 [12-IVÆR] PersonGrundskoleuddannelseKode: '77' er ikke en gyldig kode; gyldige koder: '01', " in out
    assert "'06' eller '99'" in out
    assert "0303854322" not in out


def test_cli_interrupted_batch_says_how_to_go_on(
    cli_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = cli_env / "courses.json"
    path.write_text(json.dumps(ex.kontaktforloeb(), default=str))

    def interrupted(self: Reporter, data: Any, progress: Any = None, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(Reporter, "report_data", interrupted)
    assert main(["indberet", str(path), "--today", "2025-06-01"]) == 130
    err = capsys.readouterr().err
    assert "afbrudt" in err and "sendes ikke igen" in err and "Traceback" not in err


def test_a_malformed_cpr_is_refused_before_anything_is_sent(
    cli_env: Path, client: SmdbClient, capsys: pytest.CaptureFixture[str]
) -> None:
    from smdb.cpr import CprError

    assert main(["hent", "anmodninger", "--cpr", "3102904322"]) == 2  # 31 February
    err = capsys.readouterr().err
    assert "--cpr" in err and "fødselsdato" in err and "3102904322" not in err
    with pytest.raises(CprError):  # the simulator would answer an empty list: the refusal is local
        client.hent_anmodninger(cpr="12345")


def test_cli_journal_shows_the_steps_read_only(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, journal = cli_env / "courses.json", cli_env / "run.db"
    path.write_text(json.dumps([ex.kontaktforloeb(), ex.kontaktforloeb(cpr=ex.CPR_MAND, kvinde=False)], default=str))
    assert main(["indberet", str(path), "--journal", str(journal), "--today", "2025-06-01"]) == 0
    capsys.readouterr()
    before = journal.read_bytes()
    assert main(["journal", str(journal)]) == 0  # what is left: nothing
    assert capsys.readouterr().out.rstrip().endswith("0 forløb tilbage: ingen")
    assert main(["journal", str(journal), "--trin"]) == 0  # the history: every step sent
    out = capsys.readouterr().out
    assert "010190-****  indsæt anmodning og iværksættelse  bekræftet" in out
    assert out.rstrip().endswith("10 trin: 10 bekræftet")
    assert "0101904322" not in out
    assert main(["journal", str(journal), "--status", "failed", "--status", "unknown", "--format", "csv"]) == 0
    assert capsys.readouterr().out.strip() == "time,cpr,step,status,smdb_id,reason,run,index"
    assert main(["journal", str(journal), "--trin", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 10 and {r["status"] for r in rows} == {"confirmed"} and all(r["smdb_id"] for r in rows)
    assert journal.read_bytes() == before
    assert main(["journal", str(cli_env / "missing.db")]) == 2
    assert not (cli_env / "missing.db").exists()
    assert main(["journal", str(path)]) == 2
    assert "er ikke en smdb-journal" in capsys.readouterr().err


def test_cli_journal_shows_whole_course_failures_and_rejections(
    cli_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A run where nothing could be sent (SMDB out of reach) and a course a rule rejected: `smdb journal` shows
    both, with the masked CPR and the reason, not "(ingen)"."""
    path, journal = cli_env / "courses.json", cli_env / "run.db"
    bad = ex.kontaktforloeb(cpr=ex.CPR_MAND, kvinde=False)
    bad["IVÆR"]["IvaerksatBehandlingDato"] = "2024-02-01"  # before the anmodning (§6.1.3 b)
    path.write_text(json.dumps([bad], default=str))
    assert main(["indberet", str(path), "--journal", str(journal), "--today", "2025-06-01"]) == 1
    monkeypatch.setenv("SMDB_ENDPOINT", "http://127.0.0.1:9")  # nothing listens there
    path.write_text(json.dumps([ex.kontaktforloeb()], default=str))
    assert main(["indberet", str(path), "--journal", str(journal), "--today", "2025-06-01"]) == 4  # try later
    capsys.readouterr()
    assert main(["journal", str(journal)]) == 0
    out = capsys.readouterr().out
    assert "(ingen)" not in out
    lines = [line for line in out.splitlines() if "hele forløbet" in line]
    assert any("150685-****" in line and "afvist" in line and "1-IVÆR" in line for line in lines), out
    assert any("010190-****" in line and "fejlet" in line for line in lines), out
    assert "2 forløb tilbage: 1 afvist, 1 fejlet" in out
    assert main(["journal", str(journal), "--status", "failed", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["cpr"], r["step"]) for r in rows] == [("010190-****", "hele forløbet")]


def test_cli_needs_endpoint_and_certificate(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for var in ("SMDB_ENV", "SMDB_ENDPOINT", "SMDB_CERT"):
        monkeypatch.delenv(var, raising=False)
    assert main(["--env", "local", "whoami"]) == 2
    assert "--endpoint" in capsys.readouterr().err
    assert main(["--env", "preprod", "whoami"]) == 2
    assert "certifikat" in capsys.readouterr().err


# ----------------------------------------------------------------------------- systemskifte
def _seed(client: SmdbClient) -> None:
    r = Reporter(client)
    assert r.report(course(afsluttet_efter_dage=None)).status == "sent"  # active, open offers
    assert r.report(course(cpr=ex.CPR_MAND, kvinde=False, substitution=False)).status == "sent"  # closed
    never = course(cpr="1203991238", kvinde=False, dage_til_ivaerksaettelse=None, afsluttet_efter_dage=None)
    assert r.report(never).status == "sent"  # active, never started


def test_aktivliste(cli_env: Path, client: SmdbClient, capsys: pytest.CaptureFixture[str]) -> None:
    _seed(client)
    assert main(["aktivliste", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert sorted(r["PersonIdentifikator"] for r in rows) == ["010190-****", "120399-****"]
    assert main(["aktivliste", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("Skema,PersonIdentifikator,KommuneKode,Id,Startdato") and len(lines) == 3


def test_aktivliste_without_active_courses_still_has_a_csv_header(
    cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["aktivliste", "--format", "csv"]) == 0
    assert capsys.readouterr().out.strip() == (
        "Skema,PersonIdentifikator,KommuneKode,Id,Startdato,IvaerksatBehandlingDato,AabneTilbud,KvalHep,"
        "SidsteAktivitet,System"
    )


def test_check_reports_certificate_endpoint_and_clock(sim: SimServer) -> None:
    from datetime import UTC, datetime, timedelta

    ok = sim.client().check()
    assert ok.ok, ok.lines
    assert any("uret afviger" in line for line in ok.lines)
    skewed = sim.client(clock=lambda: datetime.now(UTC) + timedelta(minutes=20), strict=False)
    result = skewed.check()
    assert not result.ok
    assert any("ur afviger" in line for line in result.lines)


def test_expired_certificate_is_refused_at_construction() -> None:
    from datetime import UTC, datetime, timedelta

    from smdb.errors import CertificateError

    expired = testcert.generate(not_before=datetime.now(UTC) - timedelta(days=30), days=10)
    with pytest.raises(CertificateError, match="udløb"):
        SmdbClient(credentials=expired)


def test_sim_serve_and_sim_cert_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sim", "cert", "--out", str(tmp_path)]) == 0
    capsys.readouterr()
    assert stat.S_IMODE(os.stat(tmp_path / "test-key.pem").st_mode) == 0o600
    db = tmp_path / "sim.db"
    with sim_serve(tmp_path, monkeypatch, "--db", str(db), "--server-cert-out", str(tmp_path / "sim.pem")):
        assert main(["--server-cert", str(tmp_path / "sim.pem"), "--strict", "whoami"]) == 0
        assert "Organisation: Testkommune" in capsys.readouterr().out
        assert main(["hent", "tilbud"]) == 0
        assert "TilbudId" in capsys.readouterr().out
    assert stat.S_IMODE(os.stat(db).st_mode) == 0o600


def test_a_course_deleted_in_smdb_is_reported_again_despite_the_journal(
    sim: SimServer, client: SmdbClient, tmp_path: Path
) -> None:
    journal = Journal(tmp_path / "j.db")
    f = course()
    assert Reporter(client, journal).report(f).status == "sent"
    sim.app.store._db.execute("DELETE FROM records")  # DST deletes the course (systemskifte model 1)
    assert Reporter(client, journal).report(f).status == "sent"
    assert snapshot(sim) == {"ANM": 1, "IVÆR": 1, "TILB": 2, "KvalHep": 1, "AFSL": 1}


def test_config_file_and_stdin(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import io

    cert_pem, key_pem = testcert.to_pem(sim.client_credentials)
    (tmp_path / "c.pem").write_bytes(cert_pem)
    (tmp_path / "k.pem").write_bytes(key_pem)
    (tmp_path / "smdb.toml").write_text(
        f'[smdb]\nenv = "local"\nendpoint = "{sim.url}"\ncert = "{tmp_path / "c.pem"}"\nkey = "{tmp_path / "k.pem"}"\n'
    )
    for var in ("SMDB_ENV", "SMDB_ENDPOINT", "SMDB_CERT", "SMDB_KEY"):
        monkeypatch.delenv(var, raising=False)
    assert main(["--config", str(tmp_path / "smdb.toml"), "echo", "fra config"]) == 0
    assert capsys.readouterr().out.strip() == "fra config"
    (tmp_path / "bad.toml").write_text("[smdb\n")
    assert main(["--config", str(tmp_path / "bad.toml"), "echo", "x"]) == 2
    capsys.readouterr()
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(ex.kontaktforloeb())))
    assert main(["validate", "-", "--today", "2025-06-01"]) == 0


def test_corrected_anmodningsdato_with_known_id_is_sent_as_a_correction(sim: SimServer, client: SmdbClient) -> None:
    r = Reporter(client)
    f = course(afsluttet_efter_dage=None)
    assert r.report(f).status == "sent"
    (stored,) = client.hent_forloeb(f.cpr, 101)
    corrected = ex.kontaktforloeb(afsluttet_efter_dage=None)
    corrected["ANM"]["BehandlingAnmodningDato"] = "2024-03-02"
    corrected["ANM"]["AnmodningId"] = stored.anmodning.smdb_id
    out = r.report(Kontaktforloeb.model_validate(corrected))
    assert out.status == "sent" and out.sent == ["ret anmodning/iværksættelse"]
    (after,) = client.hent_forloeb(f.cpr, 101)
    assert after.anmodningsdato == date(2024, 3, 2) and snapshot(sim)["ANM"] == 1


def test_sigterm_stops_indberet_with_its_summary_and_a_rerun_finishes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A scheduler's SIGTERM is handled like Ctrl-C: the course under way finishes, the summary of what was done is
    printed (the rest not attempted), exit 130; the re-run sends only what is missing (every write once)."""
    import signal
    import subprocess
    import sys
    import time

    from smdb.journal import read_steps
    from smdb.reporting import plan
    from tests.processes import sim_serve

    assert main(["sim", "cert", "--out", str(tmp_path)]) == 0
    items = [ex.kontaktforloeb(cpr=f"{1 + i:02d}0190{4000 + i:04d}", kommunekode=101) for i in range(6)]
    (tmp_path / "in.json").write_text(json.dumps(items, default=str))
    journal = tmp_path / "j.db"
    writes = sum(len(plan(Kontaktforloeb.model_validate(c), None)[0]) for c in items)
    with sim_serve(tmp_path, monkeypatch, "--latency", "60"):
        command = [
            sys.executable,
            "-m",
            "smdb",
            "indberet",
            str(tmp_path / "in.json"),
            "--today",
            "2025-06-01",
            "--workers",
            "1",
            "--journal",
            str(journal),
        ]
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # SIGTERM once the first write is confirmed: a batch under way
            if journal.exists() and any(r.status == "confirmed" for r in _steps_or_none(read_steps, journal)):
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, (out, err)
        assert "afbrudt" in err and "Traceback" not in err
        assert "ikke forsøgt: kørslen blev afbrudt" in out
        rerun = subprocess.run([*command, "--format", "json"], capture_output=True, text=True, timeout=120)
        summary = json.loads(rerun.stdout)
        statuses = [(c["status"], c["reason"]) for c in summary["courses"]]
        assert rerun.returncode == 0, rerun.stderr
        assert summary["sent"] + summary["already_reported"] == 6 and summary["failed"] == 0, statuses
    confirmed = [r for r in read_steps(journal) if r.status == "confirmed"]
    assert len(confirmed) == writes  # every write confirmed exactly once over both runs: nothing sent twice


def _steps_or_none(read: Any, path: Path) -> list[Any]:
    """The journal's steps, or none while the writer has it locked or half-created."""
    try:
        return list(read(path))
    except Exception:
        return []
