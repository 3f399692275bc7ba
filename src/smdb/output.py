"""Presentation of the workflow's results for people: the ``smdb`` command, the demo and the examples.

The workflow (:mod:`smdb.reporting`) returns data (:class:`~smdb.reporting.Summary`); how it is printed lives here,
so a scheduler or GUI using the library gets data, never text on its stdout.
"""

from __future__ import annotations

import collections
import json
import sys
from typing import TextIO

from smdb.reporting import OutcomeStatus, Summary


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
        line = f"forløb {o.index} ({o.cpr_masked}): {o.status}"
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


class ProgressBar:
    """A plain progress bar for terminals, as a progress callback; silent when the stream is not a TTY."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()

    def __call__(self, done: int, total: int) -> None:
        if not self.tty:
            return
        width = 30
        filled = int(width * done / max(total, 1))
        self.stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
