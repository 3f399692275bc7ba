"""A new form and a new lookup list, added exactly as docs/architecture.md ("Where a change goes") says.

A form is its model, one row in ``smdb.forms.FORMS`` and its rules; a lookup list is one row in
``smdb.soap.contract.LOOKUPS`` and the simulator's rows. Nothing else is edited: the contract (and so the WSDLs),
the client's generic ``hent``/``indsaet``, the simulator's Hent and write, course assembly and the Reporter's plan
all follow from the rows. The tests add the rows at run time (``forms.register`` + ``contract.refresh`` stand in for
the edit and the import) and write the WSDLs as ``python -m smdb.soap.contract`` would.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from smdb import eksempler as ex
from smdb.auth.certificates import Credentials
from smdb.errors import SmdbRuleRejected, ValidationFailed
from smdb.forms import Form, FormSpec, register, unregister
from smdb.models import Kontaktforloeb, _base
from smdb.models._base import Heltal, SmdbModel, felt, registrer, smdb_id_felt
from smdb.reporting import Reporter
from smdb.rules._core import REGLER, Kontekst, Violation, regel
from smdb.rules._forloeb import FORLOEB
from smdb.sim import SimServer, Simulator
from smdb.soap import contract

TODAY = date(2025, 6, 1)
SCREEN = "SCREEN"


class Screening(SmdbModel):
    """A toy form: a screening under the iværksættelse (at most one per course)."""

    smdb_id: Heltal | None = smdb_id_felt("ScreeningId")
    screening_dato: date = felt("1-SCREEN", "ScreeningDato")
    score: int = felt("2-SCREEN", "ScreeningScoreKvantitet", ge=0, le=40)


def _screening_after_ivaer(forloeb: Kontaktforloeb, ctx: Kontekst) -> Iterator[Violation]:
    """The toy rule: a screening is not dated before the iværksættelse."""
    iv = forloeb.ivaerksaettelse
    for s in forloeb.skemaer.get(SCREEN, []):
        assert isinstance(s, Screening)
        if iv is not None and s.screening_dato < iv.ivaerksat_dato:
            yield REGLER[RULE].brud("1-SCREEN ScreeningDato ligger før 1-IVÆR IvaerksatBehandlingDato")


RULE = "screening_efter_ivaer"


@pytest.fixture
def toy_form(tmp_path: Path) -> Iterator[Path]:
    """The model, the row and the rule in place; the WSDLs generated into a directory of their own."""
    before = (dict(_base.FELTER), dict(_base.FORM_FELT), dict(_base.FORM_FELTER))
    registrer(SCREEN)(Screening)  # the model's decorator, applied here so it is undone after the test
    register(
        FormSpec(SCREEN, Screening, "Screening", Form.IVAER, "HentScreeninger", "IndsaetScreening", "toy", attr=None)
    )
    regel(RULE, "toy", ["1-SCREEN", "1-IVÆR"], "Screeningen må ikke ligge før iværksættelsen.")  # declared …
    FORLOEB.checks.append(_screening_after_ivaer)  # … and checked, as rules/<form>.py does with @FORLOEB
    contract.refresh()
    contract.write_wsdls(tmp_path)
    try:
        yield tmp_path
    finally:
        FORLOEB.checks.remove(_screening_after_ivaer)
        REGLER.pop(RULE)
        unregister(SCREEN)
        contract.refresh()
        felter, form_felt, form_felter = before
        _base.FELTER.clear()
        _base.FELTER.update(felter)
        _base.FORM_FELT.clear()
        _base.FORM_FELT.update(form_felt)
        _base.FORM_FELTER.clear()
        _base.FORM_FELTER.update(form_felter)


def _course(screening_dato: date) -> Kontaktforloeb:
    course = Kontaktforloeb.model_validate(ex.kontaktforloeb(afsluttet_efter_dage=None))
    return course.model_copy(update={"skemaer": {SCREEN: [Screening(screening_dato=screening_dato, score=12)]}})


def test_a_new_form_round_trips_through_client_simulator_and_reporter(
    toy_form: Path, client_creds: Credentials, server_creds: Credentials
) -> None:
    app = Simulator(trusted=[client_creds.certificate], server_credentials=server_creds, today=lambda: TODAY)
    with SimServer(app, client_credentials=client_creds) as sim:
        client = sim.client(wsdl_dir=toy_form, today=lambda: TODAY)
        course = _course(date(2025, 3, 1))
        reporter = Reporter(client)
        outcome = reporter.report(course)
        assert outcome.status == "sent", outcome
        assert outcome.sent[-1] == "indsæt SCREEN"
        # fetched generically, with the id of the iværksættelse it hangs on
        (fetched,) = client.hent(SCREEN, cpr=course.cpr)
        assert fetched.record.score == 12 and fetched.ivaerksaettelse_id is not None
        (stored,) = client.hent_forloeb(course.cpr, course.kommunekode)
        assert [getattr(s, "score", None) for s in stored.skemaer[SCREEN]] == [12]
        # idempotent: nothing more to send
        assert reporter.report(course).status == "already"
        # a correction is an update of the stored record, not a second one
        changed = course.model_copy(
            update={"skemaer": {SCREEN: [Screening(screening_dato=date(2025, 3, 1), score=30)]}}
        )
        assert reporter.report(changed).status == "sent"
        assert [h.record.score for h in client.hent(SCREEN, cpr=course.cpr)] == [30]
        assert app.store.count(SCREEN) == 1
        # the form's rule: refused locally with validate_first, and by the simulator when sent unchecked
        early = Screening(screening_dato=date(2024, 1, 1), score=3, smdb_id=fetched.record.smdb_id)
        iv_id = fetched.ivaerksaettelse_id
        with pytest.raises(ValidationFailed, match="1-SCREEN"):
            client.indsaet(early, iv_id, validate_first=True)
        with pytest.raises(SmdbRuleRejected, match="1-SCREEN"):
            client.indsaet(early, iv_id)
        assert [h.record.score for h in client.hent(SCREEN, cpr=course.cpr)] == [30]


def test_a_new_lookup_list_is_one_contract_row_and_its_simulator_rows(
    tmp_path: Path, client_creds: Credentials, server_creds: Credentials, monkeypatch: pytest.MonkeyPatch
) -> None:
    elements = (contract.El("StedKode", "xs:string", 1), contract.El("StedNavn", "xs:string"))
    monkeypatch.setitem(contract.LOOKUPS, "HentBehandlingssteder", ("Behandlingssted", elements))
    contract.refresh()
    try:
        contract.write_wsdls(tmp_path)
        rows: list[dict[str, Any]] = [{"StedKode": "A1", "StedNavn": "Ambulatoriet"}]
        app = Simulator(
            trusted=[client_creds.certificate],
            server_credentials=server_creds,
            today=lambda: TODAY,
            opslag={"HentBehandlingssteder": rows},
        )
        with SimServer(app, client_credentials=client_creds) as sim:
            client = sim.client(wsdl_dir=tmp_path)
            assert client.hent_opslag("HentBehandlingssteder") == rows
            assert client.hent_opslag("HentLandeliste")  # the others as before
    finally:
        monkeypatch.undo()
        contract.refresh()
    assert "HentBehandlingssteder" not in contract.OPERATIONS


def test_a_new_form_travels_in_json_and_through_the_outbox(
    toy_form: Path, tmp_path: Path, client_creds: Credentials, server_creds: Credentials
) -> None:
    """Held in ``skemaer``, the form stands in the course's JSON under its own name (as TILB does), is read back
    from it (the case system's JSON input, ``smdb.parse_forloeb``) and survives the outbox (stored as JSON)."""
    from smdb import Journal, parse_forloeb
    from smdb.udbakke import Arbejder, Udbakke

    course = _course(date(2025, 3, 1))
    data = course.to_official()
    assert data[SCREEN] == [{"ScreeningDato": "2025-03-01", "ScreeningScoreKvantitet": 12}]
    assert (
        "skemaer" not in data
        and "skemaer" not in _course(date(2025, 3, 1)).model_copy(update={"skemaer": {}}).to_official()
    )
    again = parse_forloeb(data, TODAY)
    assert again.skemaer == course.skemaer
    with pytest.raises(ValidationFailed):  # a wrong record fails the course, as a wrong TILB does
        parse_forloeb({**data, SCREEN: [{"ScreeningDato": "2025-03-01", "ScreeningScoreKvantitet": 99}]}, TODAY)
    app = Simulator(trusted=[client_creds.certificate], server_credentials=server_creds, today=lambda: TODAY)
    with SimServer(app, client_credentials=client_creds) as sim:
        journal = Journal(tmp_path / "j.db")
        udbakke = Udbakke(journal)
        udbakke.tilfoej(course)
        reporter = Reporter(sim.client(wsdl_dir=toy_form, today=lambda: TODAY), journal)
        outcomes = Arbejder(udbakke, reporter, til_tom=True, poll=0.05).run()
        assert [o.status for o in outcomes] == ["sent"]
        assert app.store.count(SCREEN) == 1
