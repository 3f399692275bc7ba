"""The embedded SMDB simulator (WSGI) used by tests, ``smdb demo`` and vendors' CI."""

from smdb.sim.app import Simulator
from smdb.sim.server import SimServer
from smdb.sim.service import SimFault
from smdb.sim.store import Store

__all__ = ["SimFault", "SimServer", "Simulator", "Store"]
