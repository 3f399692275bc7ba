"""What happened: one course's :class:`Outcome`, a batch's :class:`Summary`, and their statuses.

Results are data (the CLI prints them with :mod:`smdb.output`, an embedder reads them); the Danish texts a person
reads are the reasons on them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TextIO

from smdb.cpr import mask
from smdb.progress import ProgressBar
from smdb.rules import Violation

NOT_ATTEMPTED = "ikke forsøgt: kørslen stoppede, fordi SMDB ikke kunne bruges; kør igen – intet sendes to gange"
AFBRUDT = "ikke forsøgt: kørslen blev afbrudt; kør igen – intet sendes to gange"


class OutcomeStatus(StrEnum):
    """What happened to one course (the JSON summary's ``status``)."""

    SENT = "sent"
    ALREADY = "already"
    PLANNED = "planned"  # dry run
    REJECTED_LOCAL = "rejected_local"
    REJECTED_SERVER = "rejected_server"
    REFUSED = "refused"
    FAILED = "failed"
    NOT_ATTEMPTED = "not_attempted"  # the batch stopped early: SMDB could not be used
    #: Mellemløsning: anmodet before the new system took over, so the old system (SMDB-web) reports it. Expected
    #: every night for such courses, so it is not a failure (the batch can still exit 0).
    OLD_SYSTEM = "old_system"
    #: Another writer (thread, process or machine) held the citizen longer than ``lock_timeout``: left for the next
    #: run, where it is reported from SMDB's state then. Not a failure of the data nor of SMDB.
    BUSY = "busy"


#: Errors a later run gets past by itself (SMDB or the STS out of reach, an outcome still to reconcile, a lock lost).
_LATER_ERRORS = frozenset(
    {"SmdbUnavailable", "SmdbOutcomeUnknown", "StsUnavailable", "CitizenLockLost", "NotReconciled"}
)

_OK = (OutcomeStatus.SENT, OutcomeStatus.ALREADY, OutcomeStatus.PLANNED, OutcomeStatus.OLD_SYSTEM)


@dataclass
class Outcome:
    """What happened to one course."""

    index: int | None
    cpr_masked: str
    status: OutcomeStatus
    sent: list[str] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)
    reason: str | None = None
    #: The failure says nothing about this course but about the service (unreachable, security): counts towards
    #: stopping the batch early.
    blocking: bool = field(default=False, repr=False)
    #: The class of the error a failed course ended with (``SmdbUnavailable``, ``SecurityError``, …): an embedder
    #: can tell "try later" from "fix the certificate" without parsing the Danish reason.
    error: str | None = None

    @property
    def retry_later(self) -> bool:
        """Will a later run (unchanged data) get this course through? True for SMDB out of reach, an outcome still
        unknown, a course not attempted or held by another run; False for what needs the data or setup fixed."""
        if self.status in (OutcomeStatus.NOT_ATTEMPTED, OutcomeStatus.BUSY):
            return True
        return self.status is OutcomeStatus.FAILED and self.error in _LATER_ERRORS

    def to_dict(self) -> dict[str, Any]:
        """The outcome as the JSON summary has it (English keys, documented in docs/cli.md)."""
        return {
            "forloeb": self.index,
            "cpr": self.cpr_masked,
            "status": self.status,
            "sent": self.sent,
            "violations": [v.to_dict() for v in self.violations],
            "reason": self.reason,
            "error": self.error,
            "retry_later": self.retry_later,
        }


@dataclass
class Summary:
    """What a batch did: one outcome per course, in the batch's order, and the SOAP calls it made by operation."""

    outcomes: list[Outcome] = field(default_factory=list)
    calls: dict[str, int] = field(default_factory=dict)

    def count(self, status: str) -> int:
        """How many courses ended with ``status``."""
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def ok(self) -> bool:
        """True when every course was sent, already reported, planned, or belongs to the old system."""
        return all(o.status in _OK for o in self.outcomes)

    @property
    def fix_needed(self) -> bool:
        """Does any course need its data (or the setup) fixed before a run can get it through?"""
        return any(o.status not in _OK and not o.retry_later for o in self.outcomes)

    @property
    def retry_later(self) -> bool:
        """Would a later run get the rest through by itself (SMDB out of reach, not attempted, busy)?"""
        return any(o.retry_later for o in self.outcomes)

    def to_dict(self) -> dict[str, Any]:
        """The summary as the JSON output has it (keys documented in docs/cli.md)."""
        return {
            "total": len(self.outcomes),
            "sent": self.count("sent"),
            "already_reported": self.count("already"),
            "rejected_by_rule": self.count("rejected_local") + self.count("rejected_server"),
            "refused": self.count("refused"),
            "failed": self.count("failed"),
            "not_attempted": self.count("not_attempted"),
            "old_system": self.count("old_system"),
            "busy": self.count("busy"),
            "planned": self.count("planned"),
            "retry_later": sum(1 for o in self.outcomes if o.retry_later),
            "calls": {"total": sum(self.calls.values()), "by_operation": dict(sorted(self.calls.items()))},
            "courses": [o.to_dict() for o in self.outcomes],
        }

    def text(self) -> str:
        """The summary in one Danish line."""
        d = self.to_dict()
        text = (
            f"{d['total']} forløb: {d['sent']} sendt, {d['already_reported']} allerede indberettet, "
            f"{d['rejected_by_rule']} afvist af regler, {d['refused']} kræver manuel rettelse, {d['failed']} fejlet"
        )
        if d["not_attempted"]:
            text += f", {d['not_attempted']} ikke forsøgt"
        if d["old_system"]:
            text += f", {d['old_system']} hører til det gamle system (mellemløsning)"
        if d["busy"]:
            text += f", {d['busy']} optaget af en anden kørsel (tages i næste)"
        if self.calls:
            text += f"; {d['calls']['total']} SOAP-kald"
        return text


def texts(violations: Sequence[Violation]) -> str:
    """The violations as one line for the journal (the CLI summary prints them one per line)."""
    return "; ".join(v.tekst(kode=False) for v in violations)


class BatchInterrupted(KeyboardInterrupt):
    """A batch stopped by Ctrl-C or SIGTERM; ``summary`` says what it did (the rest is ``not_attempted``)."""

    def __init__(self, summary: Summary) -> None:
        super().__init__("afbrudt")
        self.summary = summary


#: Told (courses done, courses in the batch) after each course: for schedulers, GUIs and the CLI's progress bar.
ProgressCallback = Callable[[int, int], None]


def progress_callback(progress: ProgressCallback | TextIO | None) -> ProgressCallback | None:
    """A callback as given; a stream (as before) gets the CLI's plain progress bar."""
    if progress is None or callable(progress):
        return progress
    return ProgressBar(progress)


LUKKEDE_SKEMAER = (
    "INDS/YDEL/UDSK (behandlingsstedernes skemaer) indberettes ikke af denne arbejdsgang; "
    "de er lukket for datoer fra 2025-01-01. Brug SmdbClient.indsaet_indskrivning m.fl. for ældre data."
)


def masked_raw(item: Any) -> str:
    """The masked CPR of a course that did not parse, so the person can still find it in their system."""
    if isinstance(item, dict):
        for form, name in (("ANM", "PersonIdentifikator"), ("INDS", "BorgerCprNummer")):
            value = item.get(form, {}).get(name) if isinstance(item.get(form), dict) else None
            if isinstance(value, str | int):
                return mask(str(value))
    return "******-****"
