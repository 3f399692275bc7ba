"""The batch commands: ``validate``, ``schema``, ``indberet`` and ``journal`` (what is left)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from smdb.cli.base import (
    DATO,
    EXIT_OK,
    EXIT_VIOLATIONS,
    HJAELP,
    RESUMABLE,
    Args,
    UsageError,
    cli,
    exit_code,
    opt,
    read_json,
    reporting_clients,
    run,
    with_global,
)
from smdb.journal import STATUS_ORD, STEP_STATUSES, NotAJournal
from smdb.output import print_rows


def cmd_validate(args: Args) -> int:
    from smdb.rules import parse_validate_and_warn

    data = read_json(args.file)
    # warnings never change the exit code: the data is accepted, the municipality decides
    _, violations, warnings_ = parse_validate_and_warn(data, today=args.today)
    if args.format == "json":
        json.dump(
            {
                "valid": not violations,
                "violations": [v.to_dict() for v in violations],
                "warnings": [w.to_dict() for w in warnings_],
            },
            sys.stdout,
            ensure_ascii=False,
            indent=2,
        )
        sys.stdout.write("\n")
    else:
        for v in violations:
            print(str(v))
        for w in warnings_:
            print(f"advarsel: {w}")
        n = len(data) if isinstance(data, list) else 1
        result = "ingen regelbrud" if not violations else f"{len(violations)} regelbrud"
        print(f"{n} forløb kontrolleret: {result}" + (f", {len(warnings_)} advarsler" if warnings_ else ""))
    return EXIT_VIOLATIONS if violations else EXIT_OK


def root_schema() -> dict[str, Any]:
    """The JSON Schema of an input file: one course (kontaktforløb or indskrivningsforløb) or a list of them, with
    every form in ``$defs`` (official names, codes and labels, Felt-IDs as ``x-felt-id``)."""
    from pydantic.json_schema import models_json_schema

    from smdb.models import Indskrivningsforloeb, Kontaktforloeb

    _, defs = models_json_schema([(Kontaktforloeb, "validation"), (Indskrivningsforloeb, "validation")], by_alias=True)
    one = {"anyOf": [{"$ref": "#/$defs/Kontaktforloeb"}, {"$ref": "#/$defs/Indskrivningsforloeb"}]}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "urn:smdb-client:schema:forloeb",
        "title": "SMDB – Kravspecifikation 2024-07-01: Kontaktforløb og tilbudsskemaer",
        "description": "Et forløb eller en liste af forløb, som smdb validate og smdb indberet læser dem.",
        "anyOf": [one, {"type": "array", "items": one}],
        "$defs": defs["$defs"],
    }


def cmd_schema(args: Args) -> int:
    json.dump(root_schema(), sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
    return EXIT_OK


RESUMABLE.add("cmd_indberet")


def cmd_indberet(args: Args) -> int:
    from smdb.journal import Journal
    from smdb.output import print_summary
    from smdb.reporting import BatchInterrupted, Reporter

    data = read_json(args.file)
    client, kommuner = reporting_clients(args)
    target = args.journal or os.environ.get("SMDB_JOURNAL")
    journal = Journal(target) if target else None
    if not 1 <= args.workers <= 64:
        raise UsageError("--workers skal være mellem 1 og 64")
    reporter = Reporter(client, journal, dry_run=args.dry_run, kun_anmodet_fra=args.kun_nye_fra, kommuner=kommuner)
    reporter.source = "-" if args.file == "-" else str(Path(args.file).resolve())
    try:
        summary = reporter.report_data(data, progress=sys.stderr, workers=args.workers)
    except BatchInterrupted as stopped:  # say what was done before stopping, then stop like any interruption
        print_summary(stopped.summary, args.format)
        raise KeyboardInterrupt from None
    print_summary(summary, args.format)
    return exit_code(summary)


def cmd_journal(args: Args) -> int:
    """What is left (the latest state of each course not confirmed), or with ``--trin`` every step recorded."""
    from collections import Counter

    from smdb.journal import CONFIRMED, read_courses, read_steps

    from_words = {word: status for status, word in STATUS_ORD.items()}
    statuses = tuple(from_words.get(s, s) for s in args.status or ())
    try:
        if args.trin:
            rows = [
                {
                    "time": r.updated_at,
                    "cpr": r.cpr_masked,
                    "step": r.step,
                    "status": r.status,
                    "smdb_id": r.smdb_id,
                    "reason": r.reason,
                    "run": None,
                    "index": None,
                }
                for r in read_steps(args.file, statuses)
            ]
        else:
            courses = read_courses(args.file, statuses, run=args.run, since=args.since)
            # what is left: every course whose latest state is not confirmed (unless a status is asked for)
            left = courses if statuses else [c for c in courses if c.status != CONFIRMED]
            rows = [
                {
                    "time": c.updated_at,
                    "cpr": c.cpr_masked,
                    "step": "hele forløbet",
                    "status": c.status,
                    "smdb_id": None,
                    "reason": c.reason,
                    "run": c.run_id,
                    "index": c.input_index,
                }
                for c in left
            ]
    except NotAJournal as exc:
        raise UsageError(str(exc)) from None
    if args.format != "table":  # JSON and CSV: the English keys and values scripts rely on (docs/cli.md)
        print_rows(rows, args.format, sys.stdout, known=tuple(JOURNAL_FELTER))
        return EXIT_OK
    shown = [
        {
            JOURNAL_FELTER[k]: ("" if v is None else STATUS_ORD.get(str(v), v) if k == "status" else v)
            for k, v in r.items()
        }
        for r in rows
    ]
    print_rows(shown, "table", sys.stdout, known=JOURNAL_KOLONNER)
    counts = Counter(STATUS_ORD.get(str(r["status"]), str(r["status"])) for r in rows)
    what = "trin" if args.trin else "forløb tilbage"
    print(f"{len(rows)} {what}: " + (", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "ingen"))
    return EXIT_OK


#: The journal's columns: the JSON/CSV key -> the table's heading.
JOURNAL_FELTER = {
    "time": "Tidspunkt",
    "cpr": "CPR",
    "step": "Trin",
    "status": "Status",
    "smdb_id": "SmdbId",
    "reason": "Aarsag",
    "run": "Koersel",
    "index": "Nr",
}
JOURNAL_KOLONNER = tuple(JOURNAL_FELTER.values())


@cli.command("validate", help="kontroller forløb mod alle forretningsregler (intet sendes)")
@click.argument("file")
@opt("--today", type=DATO, help="dags dato for reglerne (YYYY-MM-DD); standard: i dag")
@opt("--format", type=click.Choice(["text", "json"]), default="text", help="uddataformat")
@with_global
def _validate(**kw: Any) -> int:
    return run(cmd_validate, **kw)


@cli.command("schema", help="JSON Schema for alle skemaer: et forløb eller en liste (officielle navne og koder)")
@with_global
def _schema(**kw: Any) -> int:
    return run(cmd_schema, **kw)


@cli.command("indberet", help="indberet forløb: hent status, send det manglende i rigtig rækkefølge")
@click.argument("file")
@opt("--dry-run", "dry_run", is_flag=True, help="vis planen; send intet")
@opt(
    "--journal",
    help="journal, der gør kørslen genoptagelig og holder hver borger for én skriver ad gangen: en SQLite-fil "
    "(processer på denne maskine) eller postgresql://… (flere maskiner); SMDB_JOURNAL",
)
@opt(
    "--workers",
    type=int,
    default=4,
    help="borgere indberettet samtidig (1-64); én borgers forløb altid i rækkefølge",
)
@opt(
    "--kun-nye-fra",
    "kun_nye_fra",
    type=DATO,
    help="mellemløsning: indberet kun forløb anmodet fra denne dato (YYYY-MM-DD); ældre hører til det gamle system",
)
@opt("--today", type=DATO, help="dags dato for reglerne (YYYY-MM-DD); standard: i dag")
@opt("--format", type=click.Choice(["text", "json"]), default="text", help="uddataformat")
@with_global
def _indberet(**kw: Any) -> int:
    return run(cmd_indberet, **kw)


@cli.command("journal", help="vis en indberetningsjournal (fx nattens fejl); åbnes skrivebeskyttet")
@click.argument("file")
@opt(
    "--status",
    multiple=True,
    type=click.Choice([*STEP_STATUSES, "not_attempted", "busy", *STATUS_ORD.values()]),
    help="kun forløb (eller trin) med denne status (som i tabellen, fx afvist, eller som i JSON, fx rejected); "
    "kan gentages",
)
@opt("--trin", is_flag=True, help="vis hvert sendt trin (historikken) i stedet for det, der er tilbage")
@opt("--run", help="kun forløb, som denne kørsel efterlod (kørslens id, se Koersel)")
@opt("--since", help="kun forløb registreret fra denne dato eller dette tidspunkt (YYYY-MM-DD[THH:MM])")
@opt("--format", type=click.Choice(["table", "json", "csv"]), default="table", help="uddataformat")
@HJAELP
def _journal(**kw: Any) -> int:
    return run(cmd_journal, **kw)
