"""The pytest plugin that vendors use in their own CI."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from smdb import eksempler as ex
from smdb.models import Kontaktforloeb
from smdb.reporting import Reporter


@pytest.fixture
def smdb_today() -> date:
    return date(2025, 6, 1)


def test_plugin_gives_a_ready_client(smdb_client: Any, smdb_sim: Any) -> None:
    assert smdb_client.whoami()["Organisation"] == "Testkommune"
    out = Reporter(smdb_client).report(Kontaktforloeb.model_validate(ex.kontaktforloeb()))
    assert out.status == "sent"
    assert smdb_sim.app.store.count("ANM") == 1


def test_each_test_gets_an_empty_register_on_the_shared_server(smdb_client: Any, smdb_sim: Any) -> None:
    """The server is started once per session; each test still starts from an empty register."""
    assert smdb_sim.app.store.count("ANM") == 0
    assert Reporter(smdb_client).report(Kontaktforloeb.model_validate(ex.kontaktforloeb())).status == "sent"


class TestFaultInjectionThroughTheFixture:
    @pytest.fixture
    def smdb_fejl(self) -> Any:
        from smdb.sim.faults import FaultPlan

        return FaultPlan(rate=1.0, seed=1, kinds=["reset_after"], writes_only=True)

    def test_a_vendor_tests_its_handling_of_unknown_outcomes(self, smdb_client: Any, smdb_sim: Any) -> None:
        from smdb.errors import SmdbOutcomeUnknown

        f = Kontaktforloeb.model_validate(ex.kontaktforloeb())
        with pytest.raises(SmdbOutcomeUnknown):
            smdb_client.indsaet_ivaerksaettelse(f, validate_first=False)
        assert smdb_sim.app.store.count("ANM") == 1  # stored, although the answer never came
        smdb_sim.app.fault_plan = None
        out = Reporter(smdb_client).report(f)
        assert out.status in ("sent", "already") and smdb_sim.app.store.count("ANM") == 1


class TestAccessThroughTheFixture:
    @pytest.fixture
    def smdb_adgang(self) -> dict[str, list[int]]:
        return {"29189900": [147]}

    def test_only_the_municipalities_granted(self, smdb_client: Any, smdb_sim: Any) -> None:
        out = Reporter(smdb_client).report(Kontaktforloeb.model_validate(ex.kontaktforloeb(kommunekode=101)))
        assert out.status == "failed" and smdb_sim.app.store.count("ANM") == 0


def test_sim_serve_takes_fault_injection(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from smdb.cli import main

    assert main(["sim", "serve", "--port", "0", "--fejl", "2"]) == 2
    assert main(["sim", "serve", "--port", "0", "--fejl", "0.1", "--fejl-typer", "jordskælv"]) == 2
