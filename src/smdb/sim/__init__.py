"""The embedded SMDB simulator (WSGI) used by tests, ``smdb demo`` and vendors' CI: a public subpackage (these names,
and the pytest plugin ``smdb.sim.pytest_plugin``)."""

from smdb.sim.app import Simulator
from smdb.sim.faults import FaultPlan
from smdb.sim.server import SimServer
from smdb.sim.service import SimFault
from smdb.sim.store import Store

__all__ = ["FaultPlan", "SimFault", "SimServer", "Simulator", "Store"]
