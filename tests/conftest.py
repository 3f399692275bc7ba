from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from hypothesis import settings

from smdb.auth import testcert
from smdb.auth.certificates import Credentials
from smdb.sim import SimServer

TODAY = date(2025, 6, 1)

# The journal key lives outside the journal, in the user's configuration directory: never the real one in tests.
# Set at import, so subprocesses started by tests (smdb sim serve, the CLI) inherit it too.
os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="smdb-test-config-")
os.environ.pop("SMDB_JOURNAL_KEY", None)
os.environ.pop("SMDB_JOURNAL_KEY_FILE", None)

# Deterministic examples: a property test must not turn CI red at random; the seed explores the same space.
settings.register_profile("smdb", derandomize=True, deadline=None)
settings.load_profile("smdb")


@pytest.fixture(scope="session")
def client_creds() -> Credentials:
    return testcert.generate("Testkommune", "29189900")


@pytest.fixture(scope="session")
def server_creds() -> Credentials:
    return testcert.generate("Danmarks Statistik SMDB-simulator", "10103940")


@pytest.fixture
def sim(client_creds: Credentials, server_creds: Credentials) -> Iterator[SimServer]:
    from smdb.sim import Simulator

    app = Simulator(trusted=[client_creds.certificate], server_credentials=server_creds, today=lambda: TODAY)
    with SimServer(app, client_credentials=client_creds) as server:
        yield server


@pytest.fixture
def client(sim: SimServer) -> Iterator[Any]:
    c = sim.client(today=lambda: TODAY)
    yield c
    c.close()


@pytest.fixture(scope="session")
def postgres() -> Iterator[Any]:
    """A real PostgreSQL cluster for this test session (tests/postgres.py)."""
    from tests.postgres import Cluster

    cluster = Cluster()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def pg_url(postgres: Any) -> str:
    """A fresh, empty database on the session's cluster: the URL of a shared journal."""
    url: str = postgres.database()
    return url
