"""pytest plugin (auto-loaded when smdb-client is installed): an SMDB simulator for your tests.

``smdb_sim`` starts the simulator on a free loopback port with a fresh test certificate trusted;
``smdb_client`` is a ready :class:`~smdb.client.SmdbClient` for it (signed requests, signed answers verified).
Set "today" for the rules with the ``smdb_today`` fixture (override it in your conftest.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest


@pytest.fixture
def smdb_today() -> date:
    """Override to pin "today" for the rules (defaults to the real date)."""
    return date.today()


@pytest.fixture
def smdb_adgang() -> dict[str, list[int]] | None:
    """Override to restrict who may see what: CVR -> the municipalities it may read and write (``--adgang``);
    None (the default) lets the test certificate reach every municipality."""
    return None


@pytest.fixture
def smdb_sim(smdb_today: date, smdb_adgang: dict[str, list[int]] | None) -> Iterator[Any]:
    from smdb.auth import testcert
    from smdb.sim import SimServer, Simulator

    creds = testcert.generate("Testkommune", "29189900")
    app = Simulator(
        trusted=[creds.certificate],
        server_credentials=testcert.generate("Danmarks Statistik SMDB-simulator", "10103940"),
        today=lambda: smdb_today,
        adgang=smdb_adgang,
    )
    with SimServer(app, client_credentials=creds) as server:
        yield server


@pytest.fixture
def smdb_client(smdb_sim: Any, smdb_today: date) -> Iterator[Any]:
    client = smdb_sim.client(today=lambda: smdb_today)
    yield client
    client.close()
