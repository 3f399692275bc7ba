"""Presentation of the workflow's results for people: the ``smdb`` command, the demo and the examples.

The workflow (:mod:`smdb.reporting`) returns data (:class:`~smdb.reporting.Summary`); how it is printed lives here,
so a scheduler or GUI using the library gets data, never text on its stdout.
"""

from __future__ import annotations

import collections
import csv
import json
import sys
from typing import Any, TextIO

from smdb.cpr import mask
from smdb.journal import STATUS_ORD
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
    """Print a batch's summary as ``smdb indberet`` does: ``fmt`` "text" (Danish, one line per problem) or "json"."""
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


def masked_rows(rows: list[dict[str, Any]], show_cpr: bool) -> list[dict[str, Any]]:
    if show_cpr:
        return rows
    out = []
    for r in rows:
        out.append({k: (mask(str(v)) if k in ("PersonIdentifikator", "BorgerCprNummer") else v) for k, v in r.items()})
    return out


def print_rows(
    rows: list[dict[str, Any]], fmt: str, stream: TextIO, show_cpr: bool = False, known: tuple[str, ...] = ()
) -> None:
    """``known``: columns that exist even when no row does, so an empty CSV still has its header."""
    rows = masked_rows(rows, show_cpr)
    if fmt == "json":
        json.dump(rows, stream, ensure_ascii=False, indent=2, default=str)
        stream.write("\n")
        return
    columns: list[str] = list(known)
    for r in rows:
        columns.extend(k for k in r if k not in columns)
    if fmt == "csv":
        w = csv.DictWriter(stream, fieldnames=columns, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
        return
    if not rows:
        stream.write("(ingen)\n")
        return
    shown = columns[:8]
    cells = [{c: celle(r.get(c)) for c in shown} for r in rows]
    widths = {c: max(len(c), *(len(cell[c]) for cell in cells)) for c in shown}
    stream.write("  ".join(c.ljust(widths[c]) for c in shown) + "\n")
    for cell in cells:
        stream.write("  ".join(cell[c].ljust(widths[c]) for c in shown) + "\n")
    hidden = len(columns) - len(shown)
    if hidden:
        what = "kolonne mere" if hidden == 1 else "kolonner mere"
        stream.write(f"({hidden} {what}: brug --format json eller csv)\n")


def celle(value: Any) -> str:
    """A table cell for people: ja/nej, not Python's True/False; nothing for a missing value."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "ja" if value else "nej"
    return str(value)
