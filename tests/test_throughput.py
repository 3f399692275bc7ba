"""Throughput where users wait: DST-like latency in the simulator, concurrent reporting with the same guarantees,
one state fetch per municipality, and the SOAP calls a batch made (issue: throughput)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from smdb import eksempler as ex
from smdb.auth.certificates import Credentials
from smdb.cli import main
from smdb.journal import Journal
from smdb.models import Kontaktforloeb
from smdb.reporting import Reporter
from smdb.sim import SimServer, Simulator
from tests.conftest import TODAY
from tests.test_reliability import courses as many_courses


def batch(n: int, kommunekode: int = 101) -> list[Kontaktforloeb]:
    """``n`` courses of different citizens in one municipality, a third of them still open."""
    return [f.model_copy(update={"kommunekode": kommunekode}) for f in many_courses(n)]


def register(sim: SimServer) -> list[tuple[str, str | None, str]]:
    """The register's content without its ids: what was stored, whatever the order it was stored in."""
    rows = sim.app.store._db.execute("SELECT kind, cpr, data FROM records").fetchall()
    return sorted((kind, cpr, data) for kind, cpr, data in rows)


@pytest.fixture
def two_sims(client_creds: Credentials, server_creds: Credentials) -> Iterator[tuple[SimServer, SimServer]]:
    apps = [
        Simulator(trusted=[client_creds.certificate], server_credentials=server_creds, today=lambda: TODAY)
        for _ in range(2)
    ]
    with (
        SimServer(apps[0], client_credentials=client_creds) as a,
        SimServer(apps[1], client_credentials=client_creds) as b,
    ):
        yield a, b


def test_latency_is_added_to_every_call_but_not_to_the_wsdl(client_creds: Credentials) -> None:
    slept: list[float] = []
    app = Simulator(
        trusted=[client_creds.certificate], today=lambda: TODAY, latency=0.04, jitter=0.01, seed=1, sleep=slept.append
    )
    with SimServer(app, client_credentials=client_creds) as sim:
        requests.get(f"{sim.url}/smdbwebservice/api/external/v1/securehentdata.svc?singlewsdl", timeout=5)
        assert slept == []
        client = sim.client()
        client.whoami()
        Reporter(client).report(Kontaktforloeb.model_validate(ex.kontaktforloeb()))
        calls = sum(client.call_counts().values())
    assert len(slept) == calls and all(0.04 <= s <= 0.05 for s in slept)
    assert main(["sim", "serve", "--latency", "-5"]) == 2


@pytest.mark.heavy  # 7 s; `.ci/run` runs it after the README's test command
def test_eight_workers_store_exactly_what_one_worker_stores(two_sims: tuple[SimServer, SimServer]) -> None:
    one, eight = two_sims
    items = batch(40)
    items += [
        f.model_copy(update={"anmodning": f.anmodning.model_copy(update={"anmodningsdato": f.anmodningsdato})})
        for f in []
    ]
    s1 = Reporter(one.client(), municipality_threshold=0).report_many(items, workers=1)
    s8 = Reporter(eight.client(), municipality_threshold=0).report_many(items, workers=8)
    assert s1.ok and s8.ok
    assert [o.status for o in s8.outcomes] == [o.status for o in s1.outcomes]
    assert [o.index for o in s8.outcomes] == list(range(40))
    assert register(eight) == register(one)


def test_a_rerun_of_an_unchanged_batch_makes_a_handful_of_calls(sim: SimServer) -> None:
    items = batch(50)
    first = Reporter(sim.client()).report_many(items, workers=4)
    assert first.count("sent") == 50
    again = Reporter(sim.client()).report_many(items, workers=4)
    assert again.count("already") == 50
    d = again.to_dict()
    assert d["calls"]["total"] <= 10, d["calls"]
    assert set(d["calls"]["by_operation"]) == {
        "HentAnmodninger",
        "HentIvaerksaettelser",
        "HentTilbudstilknytninger",
        "HentKvalHep",
    }
    assert "SOAP-kald" in again.text()
    below = Reporter(sim.client()).report_many(items[:19])  # under the threshold: per citizen, four calls each
    assert below.to_dict()["calls"]["total"] == 19 * 4


def test_a_citizen_written_to_in_the_batch_is_fetched_afresh(sim: SimServer) -> None:
    """The municipality's state is fetched once, before anything is sent; a citizen's second course must be judged
    against the first one just sent (here: a second open anmodning, §6.1.2), not against the stale state."""
    items = batch(24)
    assert items[0].afslutning is None  # an open course
    second = items[0].model_copy(
        update={
            "anmodning": items[0].anmodning.model_copy(update={"anmodningsdato": TODAY.replace(year=2025, month=3)}),
            "ivaerksaettelse": None,
            "tilbud": [],
            "kvalhep": None,
        }
    )
    summary = Reporter(sim.client()).report_many([*items, second], workers=4)
    assert summary.count("sent") == 24
    last = summary.outcomes[-1]
    assert last.status == "rejected_local", last  # caught before sending: the client saw the first course
    assert [v.rule for v in last.violations] == ["6.1.2"]


def test_indberet_reports_calls_in_json_and_takes_workers(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from smdb.auth import testcert
    from smdb.cli import main as cli

    cert, key = testcert.to_pem(sim.client_credentials)
    (tmp_path / "c.pem").write_bytes(cert)
    (tmp_path / "k.pem").write_bytes(key)
    (tmp_path / "in.json").write_text(json.dumps([f.to_official() for f in batch(3)], default=str))
    monkeypatch.setattr(Reporter, "report_data", _spy_workers(Reporter.report_data))
    args = [
        "--env",
        "local",
        "--endpoint",
        sim.url,
        "--cert",
        str(tmp_path / "c.pem"),
        "--key",
        str(tmp_path / "k.pem"),
    ]
    args += ["indberet", str(tmp_path / "in.json"), "--format", "json", "--today", "2025-06-01"]
    assert cli([*args, "--workers", "3"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["calls"]["total"] > 0 and "by_operation" in out["calls"]
    assert _spy_workers.seen == [3]
    assert cli([*args, "--workers", "0"]) == 2


def _spy_workers(real: Any) -> Any:
    _spy_workers.seen = []  # type: ignore[attr-defined]

    def spy(self: Reporter, data: Any, progress: Any = None, *, workers: int = 1) -> Any:
        _spy_workers.seen.append(workers)  # type: ignore[attr-defined]
        return real(self, data, progress, workers=workers)

    return spy


def test_journal_and_resume_hold_with_workers(sim: SimServer, tmp_path: Path) -> None:
    """A crash in one worker: the other citizens finish, the crashed course resumes without duplicates."""
    client = sim.client()
    items = batch(8)
    real_call = client.call
    state = {"n": 0}

    def crashing_call(operation: str, **kw: Any) -> Any:
        if operation == "IndsaetKvalHep":
            state["n"] += 1
            if state["n"] == 3:
                raise KeyboardInterrupt("strøm væk")
        return real_call(operation, **kw)

    client.call = crashing_call  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        Reporter(client, Journal(tmp_path / "j.db"), municipality_threshold=0).report_many(items, workers=4)
    client.call = real_call  # type: ignore[method-assign]
    assert sim.app.store.count("KvalHep") < 8  # courses under way finished; no new one started after the crash
    resumed = Reporter(client, Journal(tmp_path / "j.db")).report_many(items, workers=4)
    assert resumed.ok
    assert sim.app.store.count("KvalHep") == 8 and sim.app.store.count("ANM") == 8


def test_progress_is_a_callback_for_schedulers_and_guis(sim: SimServer) -> None:
    seen: list[tuple[int, int]] = []
    Reporter(sim.client()).report_many(batch(3), lambda done, total: seen.append((done, total)), workers=2)
    assert sorted(seen) == [(1, 3), (2, 3), (3, 3)]


def test_progress_without_a_terminal_is_a_line_per_hundred_courses_or_half_minute() -> None:
    """cron and CI: no bar, but a line now and then, and one at the end."""
    import io

    from smdb.progress import ProgressBar

    now = [0.0]
    out = io.StringIO()
    bar = ProgressBar(out, clock=lambda: now[0])
    for done in range(1, 251):
        now[0] += 0.01
        bar(done, 250)
    now[0] += 31
    bar(250, 250)
    assert out.getvalue().splitlines() == [
        "smdb: 100/250 forløb behandlet",
        "smdb: 200/250 forløb behandlet",
        "smdb: 250/250 forløb behandlet",
        "smdb: 250/250 forløb behandlet",
    ]
    slow, now[0] = io.StringIO(), 0.0
    bar = ProgressBar(slow, clock=lambda: now[0])
    for done in (1, 2, 3):
        now[0] += 20
        bar(done, 1000)
    assert slow.getvalue().splitlines() == ["smdb: 2/1000 forløb behandlet"]  # 40 s after the start


def test_progress_on_a_terminal_is_a_tqdm_bar() -> None:
    import io

    from smdb.progress import ProgressBar

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = Terminal()
    bar = ProgressBar(out)
    for done in range(1, 11):
        bar(done, 10)
    bar.close()
    assert "10/10" in out.getvalue() and "forløb" in out.getvalue()


def test_the_municipality_state_is_not_reused_after_its_batch(sim: SimServer) -> None:
    reporter = Reporter(sim.client())
    items = batch(20)
    reporter.report_many(items)
    assert reporter._municipal == {}  # fetched at the start of that batch, true only then
    before = sum(reporter.client.call_counts().values())
    assert reporter.report(items[1]).status == "already"  # a later single report fetches the citizen afresh
    assert sum(reporter.client.call_counts().values()) - before == 4


def test_a_service_that_refuses_the_municipal_search_falls_back_to_per_citizen(
    client_creds: Credentials, server_creds: Credentials
) -> None:
    """service-contract.md: should DST refuse KommuneKode for a form's Hent, the workflow fetches per citizen."""
    from smdb.sim.legacy import LegacyService
    from smdb.sim.service import SimFault

    class StrictService(LegacyService):
        def hent_form(self, spec: Any, args: dict[str, Any]) -> dict[str, Any]:
            if spec.hent != "HentAnmodninger" and (args.get("Soegning") or {}).get("KommuneKode") is not None:
                raise SimFault("UGYLDIG_FORESPOERGSEL", "KommuneKode kan ikke bruges her")
            return super().hent_form(spec, args)

    class Strict(Simulator):
        service_class = StrictService

    app = Strict(trusted=[client_creds.certificate], server_credentials=server_creds, today=lambda: TODAY)
    with SimServer(app, client_credentials=client_creds) as sim:
        summary = Reporter(sim.client()).report_many(batch(20))
    assert summary.count("sent") == 20
    assert summary.calls["HentIvaerksaettelser"] == 1  # the refused municipal fetch (a verdict: not retried)
    assert summary.calls["HentAnmodninger"] == 20  # then per citizen
