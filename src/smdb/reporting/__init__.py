"""The reporting workflow (see :mod:`smdb.reporting.reporter`): plan as data (:mod:`~smdb.reporting.plan`), the
:class:`Reporter` and its batches, and the results (:mod:`~smdb.reporting.outcome`).

The names below are the package's public surface; ``from smdb.reporting import Reporter`` keeps working.
"""

from smdb.reporting.outcome import BatchInterrupted, Outcome, OutcomeStatus, ProgressCallback, Summary
from smdb.reporting.plan import MANUEL_SLETNING, Step, StepKind, plan
from smdb.reporting.reporter import (
    LOCK_TIMEOUT,
    MAX_RECONCILE,
    MUNICIPALITY_THRESHOLD,
    REPLAY_HORIZON,
    STOP_AFTER_UNAVAILABLE,
    Reporter,
    send,
)

__all__ = [
    "LOCK_TIMEOUT",
    "MANUEL_SLETNING",
    "MAX_RECONCILE",
    "MUNICIPALITY_THRESHOLD",
    "REPLAY_HORIZON",
    "STOP_AFTER_UNAVAILABLE",
    "BatchInterrupted",
    "Outcome",
    "OutcomeStatus",
    "ProgressCallback",
    "Reporter",
    "Step",
    "StepKind",
    "Summary",
    "plan",
    "send",
]
