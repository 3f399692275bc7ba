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
