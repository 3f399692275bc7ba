"""pytest plugin (auto-loaded when smdb-client is installed): an SMDB simulator for your tests.

``smdb_sim`` starts the simulator on a free loopback port with a fresh test certificate trusted (one server per
test session, its register emptied before each test, so a test costs milliseconds, not a server start);
``smdb_client`` is a ready :class:`~smdb.client.SmdbClient` for it (signed requests, signed answers verified).
Override ``smdb_today`` to pin "today" for the rules, ``smdb_adgang`` to restrict which municipalities a
certificate may reach, and ``smdb_fejl`` to inject faults (:class:`~smdb.sim.faults.FaultPlan`) and test your own
handling of unknown outcomes.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from smdb.client import SmdbClient
    from smdb.sim.faults import FaultPlan
    from smdb.sim.server import SimServer


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
def smdb_fejl() -> FaultPlan | None:
    """Override to inject faults, e.g. ``FaultPlan(rate=0.1, seed=1, writes_only=True)``; None: no faults."""
    return None


@pytest.fixture(scope="session")
def _smdb_server() -> Iterator[SimServer]:
    from smdb.auth import testcert
    from smdb.sim import SimServer, Simulator

    creds = testcert.generate("Testkommune", "29189900")
    app = Simulator(
        trusted=[creds.certificate],
        server_credentials=testcert.generate("Danmarks Statistik SMDB-simulator", "10103940"),
    )
    with SimServer(app, client_credentials=creds) as server:
        yield server


@pytest.fixture
def smdb_sim(
    _smdb_server: SimServer,
    smdb_today: date,
    smdb_adgang: dict[str, list[int]] | None,
    smdb_fejl: FaultPlan | None,
) -> Iterator[SimServer]:
    """The session's simulator, set up for this test: an empty register, this test's today, access and faults."""
    from smdb.auth.replay import ReplayCache
    from smdb.sim import Store

    app = _smdb_server.app
    app.store = Store()
    app.today = lambda: smdb_today
    app.adgang = None if smdb_adgang is None else {c: frozenset(map(int, k)) for c, k in smdb_adgang.items()}
    app.fault_plan = smdb_fejl
    app.replays = ReplayCache()
    try:
        yield _smdb_server
    finally:
        app.fault_plan = None


@pytest.fixture
def smdb_client(smdb_sim: SimServer, smdb_today: date) -> Iterator[SmdbClient]:
    client: SmdbClient = smdb_sim.client(today=lambda: smdb_today)
    yield client
    client.close()
