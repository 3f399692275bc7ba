"""Systemskifte end to end against the simulator, with a municipality as varied as a real one (tests/kommune.py).

Each test runs the CLI as a municipality would, then compares the simulator's register with what DST's guide
("Vejledning om systemskifte", sections 1, 3 and 4) says it must hold afterwards: course by course, by letter.
The register is seeded once per module and copied for each test (seeding is the slow part).
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import stat
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from smdb.auth import testcert
from smdb.auth.certificates import Credentials
from smdb.cli import main
from smdb.client import SmdbClient
from smdb.codes import YdelseAfsluttetAarsag
from smdb.models import Kontaktforloeb, Udskrivning
from smdb.reporting import Reporter
from smdb.sim import SimServer, Simulator, Store
from smdb.sim.faults import FaultPlan
from smdb.soap.contract import Operation
from tests import kommune
from tests.kommune import FORLOEB, INDS_CPR, KOMMUNE, SKIFTEDATO, letters

TODAY = date(2025, 6, 1)
DATO = SKIFTEDATO.isoformat()
#: The mellemløsning's first day in the new system.
MELLEM_FRA = date(2024, 12, 15)


@pytest.fixture(scope="module")
def seeded(
    tmp_path_factory: pytest.TempPathFactory, client_creds: Credentials, server_creds: Credentials
) -> tuple[Path, dict[str, int]]:
    path = tmp_path_factory.mktemp("kommune") / "register.sqlite"
    store = Store(path)
    app = Simulator(store, trusted=[client_creds.certificate], server_credentials=server_creds, today=lambda: TODAY)
    with SimServer(app, client_credentials=client_creds) as sim:
        c = sim.client(today=lambda: TODAY)
        ids = kommune.seed(c)
        c.close()
    store.close()
    return path, ids


@pytest.fixture
def world(
    seeded: tuple[Path, dict[str, int]],
    tmp_path: Path,
    client_creds: Credentials,
    server_creds: Credentials,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[SimServer, SmdbClient, dict[str, int]]]:
    """A fresh copy of the seeded register behind a simulator, and the CLI's environment pointing at it."""
    db = tmp_path / "register.sqlite"
    shutil.copyfile(seeded[0], db)
    os.chmod(db, 0o600)
    app = Simulator(Store(db), trusted=[client_creds.certificate], server_credentials=server_creds, today=lambda: TODAY)
    with SimServer(app, client_credentials=client_creds) as sim:
        cert_pem, key_pem = testcert.to_pem(client_creds, "pw")
        (tmp_path / "cert.pem").write_bytes(cert_pem)
        (tmp_path / "key.pem").write_bytes(key_pem)
        for k, v in {
            "SMDB_ENV": "local",
            "SMDB_ENDPOINT": sim.url,
            "SMDB_CERT": str(tmp_path / "cert.pem"),
            "SMDB_KEY": str(tmp_path / "key.pem"),
            "SMDB_CERT_PASSWORD": "pw",
            "SMDB_KOMMUNEKODE": str(KOMMUNE),
        }.items():
            monkeypatch.setenv(k, v)
        monkeypatch.chdir(tmp_path)
        c = sim.client(today=lambda: TODAY)
        yield sim, c, seeded[1]
        c.close()


def smdb(*args: str) -> int:
    return main([*args, "--today", TODAY.isoformat()])


def courses(client: SmdbClient) -> dict[str, Kontaktforloeb | None]:
    """Every letter's stored course (by its citizen and anmodningsdato), or None when it is gone: fetched per
    municipality, eight calls in all."""
    stored = {k: client.hent_kommunens_forloeb(k) for k in (KOMMUNE, kommune.ANDEN_KOMMUNE)}
    out: dict[str, Kontaktforloeb | None] = {}
    for letter, (data, _) in FORLOEB.items():
        f = Kontaktforloeb.model_validate(data)
        mine = stored[f.kommunekode].get(str(f.cpr), [])
        out[letter] = next((s for s in mine if s.anmodningsdato == f.anmodningsdato), None)
    return out


def course(client: SmdbClient, letter: str) -> Kontaktforloeb | None:
    return courses(client)[letter]


def register(client: SmdbClient) -> dict[str, dict[str, Any] | None]:
    """Every letter's stored course as data, ids included."""
    return {letter: f.to_official() if f is not None else None for letter, f in courses(client).items()}


def closed_as_systemskifte(f: Kontaktforloeb | None, dato: date) -> bool:
    """Closed as the guide's section 4 asks: open offers end at the cut-over, AFSL Anden + "Systemskifte"."""
    if f is None or f.afslutning is None:
        return False
    a = f.afslutning
    return (
        a.afsluttet_dato == dato
        and a.aarsag.value == "10"
        and a.aarsag_tekst == "Systemskifte"
        and all(t.slutdato is not None and t.slutdato <= dato for t in f.tilbud)
    )


def full_cprs() -> set[str]:
    return {str(Kontaktforloeb.model_validate(d).cpr) for d, _ in FORLOEB.values()} | {INDS_CPR}


# ----------------------------------------------------------------------------- model 2
def test_model2_plan_apply_twice_act_and_reregister(
    world: tuple[SimServer, SmdbClient, dict[str, int]], capsys: pytest.CaptureFixture[str]
) -> None:
    sim, client, ids = world
    before = register(client)

    # 1. the plan alone sends nothing and writes nothing
    assert smdb("systemskifte", "--model", "2", "--dato", DATO) == 0
    out = capsys.readouterr().out
    assert register(client) == before
    assert not list(Path().glob("systemskifte-*"))
    assert f"{len(letters('model2', 'luk'))} aktive forløb afsluttes" in out
    assert "2 glemte forløb" in out
    assert not full_cprs() & set(out.split())  # masked unless --vis-cpr

    # 2. a cut-over date in the future is refused before anything is sent (§6.1.1)
    assert smdb("systemskifte", "--model", "2", "--dato", "2025-06-02", "--apply") == 2
    assert "fremtiden" in capsys.readouterr().err
    assert register(client) == before

    # 3. apply: the active courses are closed as systemskifte, nothing else changes; exit 1 with what is left
    assert smdb("systemskifte", "--model", "2", "--dato", DATO, "--apply") == 1
    out = capsys.readouterr().out
    plan_file = Path(f"systemskifte-{KOMMUNE}-model2-{DATO}.json")
    assert stat.S_IMODE(plan_file.stat().st_mode) == 0o600
    plan = json.loads(plan_file.read_text())
    after = register(client)
    now = courses(client)
    for letter in letters("model2", "luk"):
        f = now[letter]
        expected = SKIFTEDATO if letter != "G" else date(2024, 12, 10)  # G: every offer already ended (§6.1.5)
        assert closed_as_systemskifte(f, expected), letter
    for letter in set(FORLOEB) - letters("model2", "luk"):
        assert after[letter] == before[letter], letter  # forgotten, after the cut-over, other municipality: untouched
    left = out[out.index("Tilbage at gøre") :]
    for letter in letters("model2", "glemt") | letters("model2", "slet_efter") | letters("model2", "ret_foerst"):
        assert f"AnmodningId {ids[letter]}:" in left, letter
    assert f"IndskrivningId {ids['INDS']}:" in left and f"IndskrivningId {ids['INDS_LUKKET']}" not in left
    assert "Tilbage at gøre (7)" in left
    # the re-registration: every closed course from the day after, and H (deleted by DST first) with its own dates
    starts = sorted(c["ANM"]["BehandlingAnmodningDato"] for c in plan["genregistrering"])
    assert starts == sorted(["2025-01-01"] * len(letters("model2", "luk")) + ["2025-02-01"])

    # 4. apply again: the same plan, from the journal; nothing is sent twice
    calls_before = sim.app.store.count()
    assert smdb("systemskifte", "--model", "2", "--dato", DATO, "--apply") == 1
    out = capsys.readouterr().out
    assert "i journalen" in out and "Tilbage at gøre (7)" in out
    assert sim.app.store.count() == calls_before
    assert json.loads(plan_file.read_text())["genregistrering"] == plan["genregistrering"]

    # 5. the forgotten courses are closed on their own request, with their own dates and never as systemskifte
    assert smdb("systemskifte", "--model", "2", "--dato", DATO, "--luk-glemte") == 1
    capsys.readouterr()
    e, f_ = course(client, "E"), course(client, "F")
    assert e is not None and e.afslutning is not None and e.afslutning.afsluttet_dato == date(2023, 5, 1)
    assert f_ is not None and f_.afslutning is not None and f_.afslutning.afsluttet_dato == date(2024, 2, 15)
    assert "Systemskifte" not in {e.afslutning.aarsag_tekst, f_.afslutning.aarsag_tekst}

    # 6. the municipality and DST do their part: DST deletes H; I, J, K are corrected and closed in SMDB-web;
    #    the indskrivning is udskrevet in SMDB-web
    sim.app.store.delete_tree(ids["H"])
    for letter in ("I", "J", "K"):
        stored = course(client, letter)
        assert stored is not None
        last = max(
            [stored.anmodningsdato, *(d for t in stored.tilbud for d in (t.startdato, t.slutdato) if d is not None)]
        )
        if stored.ivaerksaettelse is not None:
            last = max(last, stored.ivaerksaettelse.ivaerksat_dato)
        data = stored.to_official()
        for t in data.get("TILB", []):
            t.setdefault("TilbudTilknyttetBehandlingSlutDato", last.isoformat())
        data["AFSL"] = {
            "BehandlingAfsluttetDato": last.isoformat(),
            "BehandlingAfsluttetStatusKode": "05",
            "BehandlingAfsluttetAarsagKode": "10",
            "BehandlingAfsluttetAarsagTekst": "Systemskifte",
        }
        assert Reporter(client).report(Kontaktforloeb.model_validate(data)).status == "sent", letter
    (inds,) = client.hent_indskrivninger(indskrivning_id=ids["INDS"])
    ydelser = [y.record for y in client.hent_ydelser(indskrivning_id=ids["INDS"])]
    ydelser = [
        y.model_copy(update={"slutdato": SKIFTEDATO, "afsluttet_aarsag": YdelseAfsluttetAarsag.ANDEN}) for y in ydelser
    ]
    for y in ydelser:
        client.indsaet_ydelse(y.model_copy(update={"afsluttet_tekst": "Systemskifte"}), inds)
    ydelser = [y.record for y in client.hent_ydelser(indskrivning_id=ids["INDS"])]
    udsk = Udskrivning.model_validate(
        {"UdskrivningDato": DATO, "UdskrivningAarsagKode": "10", "UdskrivningAarsagTekst": "Systemskifte"}
    )
    client.afslut_indskrivning(udsk, inds, ydelser)

    # 7. now the systemskifte is done: exit 0
    assert smdb("systemskifte", "--model", "2", "--dato", DATO, "--apply") == 0
    assert "Intet tilbage at gøre" in capsys.readouterr().out

    # 8. the new system registers the courses again; every closed citizen has a course from the day after
    Path("nye.json").write_text(json.dumps(plan["genregistrering"]))
    assert smdb("indberet", "nye.json") == 0
    capsys.readouterr()
    for letter in letters("model2", "luk") | {"H"}:
        f = Kontaktforloeb.model_validate(FORLOEB[letter][0])
        open_starts = {s.anmodningsdato for s in client.hent_forloeb(f.cpr, KOMMUNE) if s.afslutning is None}
        assert open_starts == ({date(2025, 1, 1)} if letter != "H" else {date(2025, 2, 1)}), letter


class _FailWritesAfter(FaultPlan):
    """The network fails every write after the first ``n``: an apply stopped half-way."""

    def __init__(self, n: int) -> None:
        super().__init__(rate=0.0)
        self.left = n

    def decide(self, op: Operation) -> str | None:
        self.local.pending_after = None
        if not op.writes:
            return None
        self.left -= 1
        return "http_503_html" if self.left < 0 else None


def test_model2_partial_apply_is_finished_with_the_same_plan(
    world: tuple[SimServer, SmdbClient, dict[str, int]], capsys: pytest.CaptureFixture[str]
) -> None:
    sim, client, _ = world
    sim.app.fault_plan = _FailWritesAfter(5)
    assert smdb("systemskifte", "--model", "2", "--dato", DATO, "--apply") == 1
    capsys.readouterr()
    plan = json.loads(Path(f"systemskifte-{KOMMUNE}-model2-{DATO}.json").read_text())
    now = courses(client)
    closed = {letter for letter in letters("model2", "luk") if closed_as_systemskifte(now[letter], SKIFTEDATO)}
    assert 0 < len(closed) < len(letters("model2", "luk"))  # really partial
    sim.app.fault_plan = None
    # a plan made afresh now would have lost the closed courses' re-registration; the kept one has them all
    assert smdb("systemskifte", "--model", "2", "--dato", DATO, "--ny-plan", "--plan-out", "frisk.json") == 0
    assert len(json.loads(Path("frisk.json").read_text())["genregistrering"]) < len(plan["genregistrering"])
    assert smdb("systemskifte", "--model", "2", "--dato", DATO, "--apply") == 1  # the manual actions remain
    out = capsys.readouterr().out
    assert "i journalen" in out
    now = courses(client)
    for letter in letters("model2", "luk") - {"G"}:
        assert closed_as_systemskifte(now[letter], SKIFTEDATO), letter
    again = json.loads(Path(f"systemskifte-{KOMMUNE}-model2-{DATO}.json").read_text())
    assert again["genregistrering"] == plan["genregistrering"]


# ----------------------------------------------------------------------------- model 1
def test_model1_deletion_list_full_cpr_only_on_request_then_done(
    world: tuple[SimServer, SmdbClient, dict[str, int]], capsys: pytest.CaptureFixture[str]
) -> None:
    sim, client, ids = world
    before = register(client)
    assert smdb("systemskifte", "--model", "1", "--dato", DATO, "--sletteliste", "dst.csv") == 0
    out = capsys.readouterr().out
    assert not full_cprs() & set(out.split())
    assert stat.S_IMODE(Path("dst.csv").stat().st_mode) == 0o600
    rows = list(csv.DictReader(Path("dst.csv").read_text().splitlines()))
    assert {r["cpr"] for r in rows} <= full_cprs()
    # per citizen, from the back: the tilbud side first, then KvalHep, offers, iværksættelse, anmodning
    by_cpr: dict[str, list[str]] = {}
    for r in rows:
        by_cpr.setdefault(r["cpr"], []).append(r["skema"])
    assert by_cpr[INDS_CPR] == ["Ydelse", "Indskrivning"]
    a = str(Kontaktforloeb.model_validate(FORLOEB["A"][0]).cpr)
    assert by_cpr[a] == ["KvalHep", "Tilbudstilknytning", "Tilbudstilknytning", "Iværksættelse", "Anmodning"]
    listed = {int(r["id"]) for r in rows if r["skema"] == "Anmodning"}
    assert listed == {ids[x] for x in letters("model1", "slet")}  # not the forgotten, closed or other kommune's
    assert "2 glemte forløb" in out

    assert smdb("systemskifte", "--model", "1", "--dato", DATO, "--apply") == 1  # nothing can be sent
    assert "SMDB-web" in capsys.readouterr().out
    assert register(client) == before

    # DST deletes what the list names; the forgotten courses are closed with their own dates
    for r in rows:
        if r["skema"] in ("Anmodning", "Indskrivning"):
            sim.app.store.delete_tree(int(r["id"]))
    assert smdb("systemskifte", "--model", "1", "--dato", DATO, "--apply", "--luk-glemte") == 0
    assert "Intet tilbage at gøre" in capsys.readouterr().out
    # the new system enters the courses again with all their original data
    plan = json.loads(Path(f"systemskifte-{KOMMUNE}-model1-{DATO}.json").read_text())
    Path("nye.json").write_text(json.dumps(plan["genregistrering"]))
    assert smdb("indberet", "nye.json") == 0
    capsys.readouterr()
    ignore = {"AnmodningId", "IvaerksaettelseId", "TilbudstilknytningId", "KvalHepId"}

    def without_ids(d: dict[str, Any] | None) -> Any:
        if isinstance(d, dict):
            return {k: without_ids(v) for k, v in d.items() if k not in ignore}
        if isinstance(d, list):
            return [without_ids(x) for x in d]
        return d

    after = register(client)
    for letter in letters("model1", "slet"):
        assert without_ids(after[letter]) == without_ids(before[letter]), letter


# ----------------------------------------------------------------------------- mellemløsning
def test_mellemloesning_reports_only_new_courses_and_shows_who_owns_what(
    world: tuple[SimServer, SmdbClient, dict[str, int]], capsys: pytest.CaptureFixture[str]
) -> None:
    _, client, _ = world
    fra = MELLEM_FRA.isoformat()
    assert main(["aktivliste", "--format", "json", "--mellemloesning-fra", fra]) == 0
    rows = json.loads(capsys.readouterr().out)
    owner = {(r["Skema"], r["Startdato"]): r["System"] for r in rows}
    for letter in letters("mellem", "gammelt") | letters("mellem", "nyt"):
        f = Kontaktforloeb.model_validate(FORLOEB[letter][0])
        want = "gammelt (SMDB-web)" if FORLOEB[letter][1].mellem == "gammelt" else "nyt"
        assert owner[("Anmodning", f.anmodningsdato.isoformat())] == want, letter
    assert owner[("Indskrivning", "2024-05-01")] == "gammelt (SMDB-web)"
    assert len([r for r in rows if r["Skema"] == "Anmodning"]) == len(
        letters("mellem", "gammelt") | letters("mellem", "nyt")
    )

    assert smdb("systemskifte", "--model", "mellem", "--dato", fra) == 0
    assert f"{len(letters('mellem', 'nyt'))} forløb anmodet fra {fra}" in capsys.readouterr().out
    assert smdb("systemskifte", "--model", "mellem", "--dato", fra, "--apply") == 2

    # the new system's nightly batch holds every course it knows, old ones too: only the new ones are sent
    before = register(client)
    batch = []
    for letter in ("A", "B", "P"):
        data = json.loads(json.dumps(FORLOEB[letter][0]))
        data["TILB"][0]["BehandlingIntensitetKode"] = "02"  # a change in each
        batch.append(data)
    Path("nat.json").write_text(json.dumps(batch))
    assert smdb("indberet", "nat.json", "--kun-nye-fra", fra, "--format", "json") == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["old_system"] == 2 and summary["sent"] == 1
    after = register(client)
    assert after["A"] == before["A"] and after["B"] == before["B"]
    assert after["P"] != before["P"]
