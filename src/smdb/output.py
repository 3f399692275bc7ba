"""Presentation of the workflow's results for people: the ``smdb`` command, the demo and the examples.

The workflow (:mod:`smdb.reporting`) returns data (:class:`~smdb.reporting.Summary`); how it is printed lives here,
so a scheduler or GUI using the library gets data, never text on its stdout.
"""

from __future__ import annotations

import collections
import json
import sys
from typing import TextIO

from smdb.journal import STATUS_ORD
from smdb.progress import ProgressBar as ProgressBar  # re-exported: smdb.output.ProgressBar stays
from smdb.reporting import OutcomeStatus, Summary

#: The statuses in words for people (text output); JSON keeps the English values documented in docs/cli.md.
STATUS_TEKST: dict[str, str] = {
    OutcomeStatus.SENT: "sendt",
    OutcomeStatus.ALREADY: "allerede indberettet",
    OutcomeStatus.PLANNED: "planlagt (intet sendt)",
    OutcomeStatus.REJECTED_LOCAL: "afvist af reglerne",
    OutcomeStatus.REJECTED_SERVER: "afvist af SMDB",
    OutcomeStatus.REFUSED: "kræver manuel rettelse",
    OutcomeStatus.FAILED: "fejlet",
    OutcomeStatus.NOT_ATTEMPTED: "ikke forsøgt",
    OutcomeStatus.OLD_SYSTEM: "hører til det gamle system",
    OutcomeStatus.BUSY: "optaget af en anden kørsel",
}
#: The journal's step and course statuses in words (``smdb journal`` as a table).
TRIN_STATUS_TEKST = STATUS_ORD


def print_summary(summary: Summary, fmt: str = "text", stream: TextIO | None = None) -> None:
    stream = stream or sys.stdout
    if fmt == "json":
        json.dump(summary.to_dict(), stream, ensure_ascii=False, indent=2)
        stream.write("\n")
        return
    skipped: collections.Counter[str] = collections.Counter()
    for o in summary.outcomes:
        if o.status is OutcomeStatus.NOT_ATTEMPTED:  # one line per reason, not one block per course
            skipped[o.reason or ""] += 1
            continue
        if o.status is OutcomeStatus.OLD_SYSTEM:  # expected every night in a mellemløsning: counted in the total
            continue
        line = f"forløb {o.index} ({o.cpr_masked}): {STATUS_TEKST.get(o.status, o.status)}"
        if o.sent:
            line += " – " + ", ".join(o.sent)
        stream.write(line + "\n")
        for v in o.violations:
            stream.write(f"    {v.tekst(kode=False)}\n")
        if o.reason and o.status not in (OutcomeStatus.SENT, OutcomeStatus.ALREADY):
            stream.write(f"    {o.reason}\n")
    for reason, n in skipped.items():
        stream.write(f"{n} forløb {reason}\n")
    stream.write(summary.text() + "\n")
