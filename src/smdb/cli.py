"""The ``smdb`` command for integration scripts.

Exit codes are a contract: 0 ok; 1 rule violations, rejected or failed reports; 2 unreadable input,
bad usage or configuration. Bad input never produces a traceback (set ``SMDB_DEBUG=1`` to see one for
an internal error), and CPR numbers are masked in everything printed to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import errno
import io
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TextIO

import click

from smdb.cpr import mask, scrub
from smdb.errors import ConfigurationError, SmdbError, SmdbUnavailable
from smdb.files import UnsafeFile, os_fejl, read_capped, write_atomic, write_owner_only
from smdb.journal import STATUS_ORD, STEP_STATUSES, NotAJournal
from smdb.logs import scrub_handlers

EXIT_OK, EXIT_VIOLATIONS, EXIT_INPUT = 0, 1, 2
#: Nothing to fix: SMDB (or the STS) could not be used, or courses were left for a later run; run again later.
EXIT_LATER = 4
MAX_INPUT_BYTES = 64 * 1024 * 1024


class UsageError(Exception):
    """Bad input, usage or configuration: exit code 2."""


# ----------------------------------------------------------------------------- input
#: The json module's messages (English) in Danish, by their start.
_JSON_FEJL = (
    ("Expecting value", "forventede en værdi"),
    ("Expecting property name", "forventede et feltnavn i dobbelte anførselstegn"),
    ("Expecting ',' delimiter", "forventede et komma"),
    ("Expecting ':' delimiter", "forventede et kolon"),
    ("Extra data", "der står mere efter JSON-værdien"),
    ("Unterminated string", "en tekst er ikke afsluttet med anførselstegn"),
    ("Invalid control character", "ugyldigt kontroltegn i en tekst"),
    ("Invalid \\escape", "ugyldig escape-sekvens"),
    ("Invalid \\uXXXX escape", "ugyldig \\u-escape"),
)


def read_json(path: str) -> Any:
    """Read a JSON file (``-`` for stdin) with errors that say where, never a traceback."""
    try:
        if path == "-":
            text = sys.stdin.read(MAX_INPUT_BYTES + 1).removeprefix("\ufeff")
        else:
            text = read_capped(path, MAX_INPUT_BYTES).decode("utf-8-sig")  # a BOM, as .NET exports write it
    except UnsafeFile as exc:
        raise UsageError(str(exc)) from None
    except FileNotFoundError:
        raise UsageError(f"{path}: filen findes ikke") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path}: filen er ikke UTF-8") from None
    except OSError as exc:
        raise UsageError(f"{path}: kan ikke læses ({os_fejl(exc)})") from None
    if len(text) > MAX_INPUT_BYTES:
        raise UsageError("input er for stort")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        what = next((da for en, da in _JSON_FEJL if exc.msg.startswith(en)), "syntaksfejl")
        raise UsageError(f"{path}: ugyldig JSON i linje {exc.lineno}, kolonne {exc.colno}: {what}") from None
    except RecursionError:
        raise UsageError(f"{path}: JSON er for dybt indlejret") from None
    if not isinstance(data, dict | list):
        raise UsageError(f"{path}: forventede et forløb (objekt) eller en liste af forløb")
    if data == []:  # almost always an export that went wrong: say so rather than "all valid, all sent"
        raise UsageError(f"{path}: filen indeholder ingen forløb (en tom liste)")
    return data


# ----------------------------------------------------------------------------- configuration


def _settings(args: argparse.Namespace) -> Any:
    """The settings: flags over ``SMDB_*`` over the config file (``--config`` or ``SMDB_CONFIG``); see
    :mod:`smdb.settings`."""
    from smdb.settings import SmdbSettings

    flags = {
        name: getattr(args, "kommune" if name == "kommunekode" else name, None)
        for name in SmdbSettings.model_fields
        if name != "cert_password"
    }
    for switch in (
        "strict",
        "allow_insecure_http",
        "require_signature_confirmation",
    ):  # store_true: absent means "not given", not False
        flags[switch] = True if getattr(args, switch, False) else None
    return SmdbSettings.load(args.config, **flags)


def _reporting_clients(args: argparse.Namespace) -> tuple[Any, dict[int, Any] | None]:
    """The client, and with ``[smdb.kommuner.KODE]`` one per municipality with its own certificate, so each course
    is sent with its own municipality's (``indberet`` and ``udbakke koer``)."""
    from smdb.client import SmdbClient

    settings = _settings(args)
    today = (lambda: args.today) if args.today else date.today
    clients = SmdbClient.per_kommune(settings, today=today) if settings.kommuner else None
    return SmdbClient.from_settings(settings, today=today), clients


def make_client(args: argparse.Namespace) -> Any:
    from smdb.client import SmdbClient

    today = getattr(args, "today", None)
    return SmdbClient.from_settings(_settings(args), today=(lambda: today) if today else date.today)


# ----------------------------------------------------------------------------- commands
def cmd_validate(args: argparse.Namespace) -> int:
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


def cmd_schema(args: argparse.Namespace) -> int:
    json.dump(root_schema(), sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
    return EXIT_OK


def cmd_indberet(args: argparse.Namespace) -> int:
    from smdb.journal import Journal
    from smdb.output import print_summary
    from smdb.reporting import BatchInterrupted, Reporter

    data = read_json(args.file)
    client, kommuner = _reporting_clients(args)
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
    return _exit_code(summary)


def _exit_code(summary: Any) -> int:
    """0 all through; 1 something needs fixing (data, refusals, setup), whatever else happened; 4 only a later run
    is needed (SMDB out of reach, not attempted, busy)."""
    if summary.ok:
        return EXIT_OK
    return EXIT_VIOLATIONS if summary.fix_needed else EXIT_LATER


def _journal_target(args: argparse.Namespace) -> str:
    target: str | None = getattr(args, "journal", None) or os.environ.get("SMDB_JOURNAL")
    if not target:
        raise UsageError("angiv journalen, udbakken ligger i: --journal FIL|postgresql://… eller SMDB_JOURNAL")
    return target


def cmd_udbakke_tilfoej(args: argparse.Namespace) -> int:
    from smdb.journal import Journal
    from smdb.models import Kontaktforloeb
    from smdb.rules import parse
    from smdb.udbakke import Udbakke

    data = read_json(args.file)
    items = data if isinstance(data, list) else [data]
    courses = []
    for i, item in enumerate(items):
        course, errors = parse(item, i)
        if not isinstance(course, Kontaktforloeb) or errors:
            first = errors[0].tekst() if errors else "er ikke et kontaktforløb"
            raise UsageError(f"forløb {i} i {args.file}: {first}; intet er lagt i udbakken")
        courses.append(course)
    journal = Journal(_journal_target(args))
    try:
        n = Udbakke(journal).tilfoej_mange(courses)
    finally:
        journal.close()
    print(f"{n} forløb lagt i udbakken (en ældre ventende udgave af samme forløb er erstattet)")
    return EXIT_OK


def cmd_udbakke_koer(args: argparse.Namespace) -> int:
    import signal
    import threading

    from smdb.journal import Journal
    from smdb.reporting import Reporter
    from smdb.udbakke import Arbejder, Udbakke

    if not 1 <= args.workers <= 64:
        raise UsageError("--workers skal være mellem 1 og 64")
    client, kommuner = _reporting_clients(args)
    journal = Journal(_journal_target(args))
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        reporter = Reporter(client, journal, kommuner=kommuner)
        arbejder = Arbejder(Udbakke(journal), reporter, workers=args.workers, til_tom=args.til_tom, stop=stop)
        outcomes = arbejder.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        journal.close()
    done = sum(1 for o in outcomes if o.status.value in ("sent", "already", "old_system"))
    print(f"udbakken: {len(outcomes)} forløb behandlet, {done} sendt eller allerede indberettet", file=sys.stderr)
    return EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from smdb.settings import SmdbSettings
    from smdb.status import status

    settings: SmdbSettings = _settings(args)
    certificates: dict[int | None, tuple[Path, str | None, Path | None]] = {}
    if settings.cert is not None:
        password = settings.cert_password.get_secret_value() if settings.cert_password else None
        certificates[None] = (settings.cert, password, settings.key)
    for kode, k in sorted(settings.kommuner.items()):
        certificates[kode] = (k.cert, os.environ.get(f"SMDB_CERT_PASSWORD_{kode}"), k.key)
    target = getattr(args, "journal", None) or os.environ.get("SMDB_JOURNAL")
    now = args.nu if args.nu else datetime.now(UTC)
    if args.maks_alder <= 0:
        raise UsageError("--maks-alder skal være et positivt antal minutter")
    try:
        result = status(target, certificates, now, timedelta(minutes=args.maks_alder))
    except NotAJournal as exc:
        raise UsageError(str(exc)) from None
    if args.format == "json":
        print(result.json())
    elif args.format == "prometheus":
        sys.stdout.write(result.prometheus())
    else:
        print(result.text())
    return EXIT_VIOLATIONS if result.opmaerksomhed else EXIT_OK


def cmd_journal(args: argparse.Namespace) -> int:
    """What is left (the latest state of each course not confirmed), or with ``--trin`` every step recorded."""
    from collections import Counter

    from smdb.journal import CONFIRMED, NotAJournal, read_courses, read_steps

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
        _print_rows(rows, args.format, sys.stdout, known=tuple(JOURNAL_FELTER))
        return EXIT_OK
    shown = [
        {
            JOURNAL_FELTER[k]: ("" if v is None else STATUS_ORD.get(str(v), v) if k == "status" else v)
            for k, v in r.items()
        }
        for r in rows
    ]
    _print_rows(shown, "table", sys.stdout, known=JOURNAL_KOLONNER)
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


def cmd_whoami(args: argparse.Namespace) -> int:
    who = make_client(args).whoami()
    for k, v in who.items():
        print(f"{k}: {v}")
    return EXIT_OK


def cmd_echo(args: argparse.Namespace) -> int:
    print(make_client(args).echo(args.text))
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    result = make_client(args).check()
    print("\n".join(result.lines))
    return EXIT_OK if result.ok else EXIT_VIOLATIONS


#: ``smdb hent KIND``: the forms (from the form table) and the lookup lists.
HENT_FORMS = {
    "anmodninger": "ANM",
    "ivaerksaettelser": "IVÆR",
    "tilbudstilknytninger": "TILB",
    "kvalhep": "KvalHep",
    "indskrivninger": "INDS",
    "ydelser": "YDEL",
}
HENT_OPSLAG = {
    "tilbud": "HentAlleTilbud",
    "landeliste": "HentLandeliste",
    "ydelsespakker": "HentYdelsespakker",
    "asi-myndighed": "HentAsiForMyndighed",
    "asi-tilbud": "HentAsiForTilbud",
}
HENT = {**HENT_FORMS, **HENT_OPSLAG}


def cmd_hent(args: argparse.Namespace) -> int:
    from smdb.forms import Form, id_element
    from smdb.soap.contract import SEARCH_IDS as SEARCH_FORMS

    client = make_client(args)
    rows: list[dict[str, Any]]
    if args.kind in HENT_OPSLAG:
        rows = client.hent_opslag(HENT_OPSLAG[args.kind], cpr=args.cpr, kommunekode=args.kommune)
    else:
        form = Form(HENT_FORMS[args.kind])
        kwargs: dict[str, Any] = {"cpr": args.cpr}
        if form is Form.ANM:
            kwargs["kommunekode"] = args.kommune
        rows = []
        # the ids first (the record's own, then what it refers to) and the (masked) CPR: what a reader looks for
        lead = [id_element(form), *(id_element(f) for f in SEARCH_FORMS), "PersonIdentifikator", "BorgerCprNummer"]
        for h in client.hent(form, **kwargs):
            row = h.record.to_official()
            refs = ((Form.ANM, h.anmodning_id), (Form.IVAER, h.ivaerksaettelse_id), (Form.INDS, h.indskrivning_id))
            row.update({id_element(ref): value for ref, value in refs if value is not None})
            if h.afslutning is not None:
                row.update({f"AFSL.{k}": v for k, v in h.afslutning.to_official().items()})
            rows.append({**{k: row[k] for k in lead if k in row}, **{k: v for k, v in row.items() if k not in lead}})
    _print_rows(rows, args.format, sys.stdout, args.vis_cpr)
    return EXIT_OK


def _masked_rows(rows: list[dict[str, Any]], show_cpr: bool) -> list[dict[str, Any]]:
    if show_cpr:
        return rows
    out = []
    for r in rows:
        out.append({k: (mask(str(v)) if k in ("PersonIdentifikator", "BorgerCprNummer") else v) for k, v in r.items()})
    return out


def _print_rows(
    rows: list[dict[str, Any]], fmt: str, stream: TextIO, show_cpr: bool = False, known: tuple[str, ...] = ()
) -> None:
    """``known``: columns that exist even when no row does, so an empty CSV still has its header."""
    rows = _masked_rows(rows, show_cpr)
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
    cells = [{c: _celle(r.get(c)) for c in shown} for r in rows]
    widths = {c: max(len(c), *(len(cell[c]) for cell in cells)) for c in shown}
    stream.write("  ".join(c.ljust(widths[c]) for c in shown) + "\n")
    for cell in cells:
        stream.write("  ".join(cell[c].ljust(widths[c]) for c in shown) + "\n")
    hidden = len(columns) - len(shown)
    if hidden:
        what = "kolonne mere" if hidden == 1 else "kolonner mere"
        stream.write(f"({hidden} {what}: brug --format json eller csv)\n")


def _netfejl(exc: BaseException) -> str:
    """A network error in Danish words (requests' class names are English)."""
    import requests

    if isinstance(exc, requests.exceptions.Timeout):
        return "intet svar inden for tidsgrænsen"
    if isinstance(exc, requests.exceptions.SSLError):
        return "TLS-fejl"
    if isinstance(exc, requests.exceptions.ConnectionError):
        return "forbindelsen kunne ikke oprettes eller blev afbrudt"
    return "netværksfejl"


def _celle(value: Any) -> str:
    """A table cell for people: ja/nej, not Python's True/False; nothing for a missing value."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "ja" if value else "nej"
    return str(value)


def cmd_aktivliste(args: argparse.Namespace) -> int:
    from smdb.systemskifte import AKTIVLISTE_KOLONNER, aabne_indskrivninger, aktive_forloeb, aktivliste_rows

    kommune = _kommune(args)
    client = make_client(args)
    rows = aktivliste_rows(
        aktive_forloeb(client, kommune),
        aabne_indskrivninger(client, kommune),
        mellemloesning_fra=args.mellemloesning_fra,
    )
    _print_rows(rows, args.format, sys.stdout, args.vis_cpr, AKTIVLISTE_KOLONNER)
    return EXIT_OK


def _kommune(args: argparse.Namespace) -> int:
    k: int | None = _settings(args).kommunekode
    if k is None:
        raise UsageError("angiv kommunekoden med --kommune (eller SMDB_KOMMUNEKODE)")
    return k


def cmd_systemskifte(args: argparse.Namespace) -> int:
    """Plan (and with --apply carry out) a systemskifte; see docs/systemskifte.md for the walk-through."""

    from smdb.journal import Journal
    from smdb.journal_db import is_url
    from smdb.output import print_summary
    from smdb.systemskifte import (
        Model,
        Systemskifteplan,
        kontroller_dato,
        mellemloesning,
        model1,
        model2,
        plan_navn,
    )

    model = Model(args.model)
    kommune = _kommune(args)
    client = make_client(args)
    if args.glemt_efter < 1:
        raise UsageError("--glemt-efter skal være mindst 1 dag")
    if model is Model.MELLEM:
        if args.apply or args.luk_glemte:
            raise UsageError("mellemløsningen sender intet: brug 'smdb indberet --kun-nye-fra DATO' i det nye system")
        print(mellemloesning(client, kommune, args.dato).text(args.vis_cpr))
        return EXIT_OK
    kontroller_dato(args.dato, client.today())  # ConfigurationError: exit 2 before anything is sent
    writes = args.apply or args.luk_glemte
    journal_path = args.journal or f"systemskifte-{kommune}.journal"
    journal = Journal(journal_path) if writes or is_url(journal_path) or os.path.exists(journal_path) else None
    name = plan_navn(kommune, model, args.dato)
    kept = journal.load_plan(name) if journal is not None and not args.ny_plan else None
    if kept is not None:
        plan = Systemskifteplan.from_dict(kept[0])
        print(f"Planen fra {kept[1]} i journalen {journal_path} bruges (--ny-plan laver en ny ud fra SMDB).")
    else:
        build = model1 if model is Model.MODEL1 else model2
        plan = build(client, kommune, args.dato, glemt_efter=timedelta(days=args.glemt_efter))
    print(plan.text(args.vis_cpr))
    # the file always holds full CPR numbers: the new system re-registers the courses from it (--plan-out says so)
    data = json.dumps(plan.to_dict(vis_cpr=True), ensure_ascii=False, indent=2, default=str).encode()
    plan_out = args.plan_out or (f"systemskifte-{kommune}-model{model.value}-{args.dato}.json" if writes else None)
    if plan_out:
        # before the first write: whatever happens next, the re-registration plan is on disk (owner-only: CPRs)
        write_owner_only(plan_out, data)
        print(f"Plan skrevet til {plan_out} (hele CPR-numre til genregistreringen; kun læsbar for ejeren)")
    if args.sletteliste:
        _write_sletteliste(args.sletteliste, plan.sletteliste(vis_cpr=True))
        print(f"Sletteliste til DST (hele CPR-numre, kun læsbar for ejeren) skrevet til {args.sletteliste}")
    if not writes:
        return EXIT_OK
    assert journal is not None
    if kept is None:
        journal.save_plan(name, plan.to_dict())
    ok = True
    if args.apply:
        summary = plan.apply(client, journal)
        print_summary(summary)
        ok = summary.ok or model is Model.MODEL1  # model 1's deletions are counted below, as actions
    if args.luk_glemte:
        glemte = plan.luk_glemte(client, journal)
        print("Glemte forløb:")
        print_summary(glemte)
        ok = ok and glemte.ok
    rest = plan.udestaaende(client)
    if rest:
        print(f"Tilbage at gøre ({len(rest)}), før systemskiftet er gennemført i SMDB:")
        for h in rest:
            print(f"  {h.linje(args.vis_cpr)}")
    else:
        print("Intet tilbage at gøre: systemskiftet er gennemført i SMDB.")
    return EXIT_OK if ok and not rest else EXIT_VIOLATIONS


def _write_sletteliste(path: str, items: list[dict[str, object]]) -> None:
    """Model 1's deletion list for DST as CSV, with full CPR numbers (DST needs them): owner-only, atomically."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=["cpr", "skema", "id"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(items)
    write_owner_only(path, buf.getvalue().encode())


def _fejlplan(args: argparse.Namespace) -> Any:
    """``--fejl RATE`` (with ``--fejl-seed``, ``--fejl-typer``, ``--fejl-kun-skriv``): faults injected into the
    simulator's answers, so a vendor can test its own handling of unknown outcomes (smdb.sim.faults)."""
    if not args.fejl:
        return None
    from smdb.sim.faults import ALL, FaultPlan

    if not 0 < args.fejl <= 1:
        raise UsageError("--fejl skal være en andel mellem 0 og 1, fx 0.1 for hvert tiende kald")
    kinds = tuple(k.strip() for k in args.fejl_typer.split(",") if k.strip()) if args.fejl_typer else ALL
    unknown = sorted(set(kinds) - set(ALL))
    if unknown:
        raise UsageError(f"--fejl-typer: ukendt {', '.join(unknown)}; mulige: {', '.join(ALL)}")
    return FaultPlan(rate=args.fejl, seed=args.fejl_seed, kinds=kinds, writes_only=args.fejl_kun_skriv)


def _adgang(values: tuple[str, ...] | None) -> dict[str, list[int]] | None:
    """``--adgang CVR=KODE[,KODE…]`` (repeatable) as CVR -> municipalities; None when not given."""
    if not values:
        return None
    adgang: dict[str, list[int]] = {}
    for value in values:
        cvr, _, koder = value.partition("=")
        try:
            codes = [int(k) for k in koder.split(",") if k.strip()]
        except ValueError:
            codes = []
        if len(cvr) != 8 or not cvr.isdigit() or not codes:
            raise UsageError(f"--adgang skal være CVR=KODE[,KODE…], fx 29189900=101,147 (fik {value!r})")
        adgang.setdefault(cvr, []).extend(codes)
    return adgang


def cmd_sim_serve(args: argparse.Namespace) -> int:
    from cryptography import x509

    from smdb.sim import SimServer, Simulator, Store

    trusted = []
    for path in args.trust or []:
        try:
            trusted.extend(x509.load_pem_x509_certificates(read_capped(path, 1024 * 1024)))
        except (OSError, ValueError):
            raise UsageError(f"kan ikke læse certifikatet {path}") from None
    if args.latency < 0 or args.jitter < 0:
        raise UsageError("--latency og --jitter skal være 0 eller flere millisekunder")
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port skal være mellem 0 og 65535 (fik {args.port}); 0 vælger en ledig port")
    if args.db and not Path(args.db).parent.is_dir():
        raise UsageError(f"--db: mappen {Path(args.db).parent} findes ikke")
    try:
        store = Store(args.db)
    except OSError as exc:
        raise UsageError(f"--db {args.db} kan ikke åbnes: {os_fejl(exc)}") from None
    app = Simulator(
        store, trusted=trusted, require_signature=not args.allow_unsigned, auth=args.auth, adgang=_adgang(args.adgang)
    )
    app.fault_plan = _fejlplan(args)
    try:
        server = SimServer(app, host=args.host, port=args.port, latency_ms=args.latency, jitter_ms=args.jitter)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise UsageError(
                f"port {args.port} på {args.host} er optaget: vælg en anden med --port (0: en ledig)"
            ) from None
        raise UsageError(f"kan ikke lytte på {args.host}:{args.port}: {os_fejl(exc)}") from None
    from cryptography.hazmat.primitives import serialization

    if args.server_cert_out:
        write_atomic(args.server_cert_out, server.server_certificate.public_bytes(serialization.Encoding.PEM), 0o644)
    if args.sts_cert_out:
        if app.sts is None:
            raise UsageError("--sts-cert-out kræver --auth sts")
        write_atomic(args.sts_cert_out, app.sts.certificate.public_bytes(serialization.Encoding.PEM), 0o644)
    print(f"SMDB-simulator på {server.url} (Ctrl-C stopper)", flush=True)
    print(f"  SMDB_ENDPOINT={server.url}", flush=True)
    if args.auth == "sts":
        sts_cert = f" SMDB_STS_CERT={args.sts_cert_out}" if args.sts_cert_out else ""
        print(f"  SMDB_AUTH=sts SMDB_STS_URL={server.sts_url} SMDB_STS_AUDIENCE={app.audience}{sts_cert}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return EXIT_OK


def cmd_sim_cert(args: argparse.Namespace) -> int:
    from smdb.auth import testcert

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    creds = testcert.generate(args.organisation, args.cvr)
    cert_pem, key_pem = testcert.to_pem(creds)
    write_atomic(out / "test-cert.pem", cert_pem, 0o644)
    key_path = out / "test-key.pem"
    write_owner_only(key_path, key_pem)
    print(f"Testcertifikat (kun til simulatoren): {out / 'test-cert.pem'} og {key_path}")
    return EXIT_OK


def cmd_contract_diff(args: argparse.Namespace) -> int:
    """Every difference between DST's WSDLs and the shipped contract; exit 1 when they differ."""
    import time

    import requests

    from smdb.errors import SmdbUnavailable
    from smdb.http import bounded_request, require_https
    from smdb.soap.contract import SERVICES
    from smdb.soap.diff import NotAWsdl, diff_document

    sources: list[str] = list(args.sources)
    if args.diff_env:
        host = {"preprod": "https://smdbpreprodws.dst.dk", "prod": "https://smdbws.dst.dk"}[args.diff_env]
        sources += [f"{host}/smdbwebservice/api/external/v1/{svc.path}?singlewsdl" for svc in SERVICES.values()]
    if not sources:
        raise UsageError("angiv --env preprod|prod, en WSDL-fil eller en URL (…svc?singlewsdl)")
    differ = False
    with requests.Session() as session:
        for source in sources:
            if source.startswith(("http://", "https://")):
                require_https(source, "WSDL-adressen", getattr(args, "allow_insecure_http", False))
                try:
                    response = bounded_request(
                        session,
                        "GET",
                        source,
                        timeout=(5.0, 30.0),
                        deadline=time.monotonic() + 60,
                        max_bytes=10 * 1024 * 1024,
                    )
                except requests.exceptions.RequestException as exc:
                    raise SmdbUnavailable(f"{source} kunne ikke hentes ({_netfejl(exc)})") from None
                if response.status_code != 200:
                    raise SmdbUnavailable(f"{source} svarede HTTP {response.status_code}")
                document = response.content
            else:
                try:
                    document = read_capped(source, 10 * 1024 * 1024)
                except FileNotFoundError:
                    raise UsageError(f"{source}: filen findes ikke") from None
            try:
                service, lines = diff_document(document)
            except NotAWsdl as exc:
                raise UsageError(f"{source}: {exc}") from None
            print(f"{service} ({source}): " + (f"{len(lines)} forskelle" if lines else "ingen forskelle"))
            for line in lines:
                print(f"  {line}")
            differ = differ or bool(lines)
    return EXIT_VIOLATIONS if differ else EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from smdb.demo import run

    return run(sys.stdout, auth=args.demo_auth)


# ----------------------------------------------------------------------------- parser
# ----------------------------------------------------------------------------- the command line (click)
class _Dato(click.ParamType[date]):
    name = "dato"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            self.fail(f"ugyldig dato {value!r}; brug YYYY-MM-DD", param, ctx)


class _CprType(click.ParamType[str]):
    name = "cpr"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from smdb.cpr import Cpr, CprError

        try:
            return str(Cpr(str(value)))
        except CprError as exc:
            self.fail(str(exc), param, ctx)  # the message never repeats the number


DATO = _Dato()


def opt(*decls: str, help: str, **kw: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A click option whose help names its default in Danish (click's own "[default: …]" is English)."""
    default = kw.get("default")
    if default not in (None, False, ()) and not kw.get("count") and "standard" not in help:
        help = f"{help} (standard: {default})"
    return click.option(*decls, help=help, **kw)


#: The options of every command that talks to SMDB (connection, identity, logging); accepted before the subcommand
#: (on the group) and after it (on the command): `smdb -v indberet f.json` and `smdb indberet f.json -v`.
_GLOBAL: list[Callable[[Callable[..., Any]], Callable[..., Any]]] = [
    opt("--config", help="TOML-fil med en [smdb]-sektion (eller SMDB_CONFIG)"),
    opt("--env", type=click.Choice(["local", "preprod", "prod"]), help="miljø (SMDB_ENV); standard preprod"),
    opt("--endpoint", help="eksplicit adresse, fx simulatorens (SMDB_ENDPOINT)"),
    opt("--cert", help="organisationscertifikat: .p12/.pfx eller PEM (SMDB_CERT)"),
    opt("--key", help="privat nøgle i PEM, hvis ikke i certifikatfilen (SMDB_KEY)"),
    opt("--server-cert", "server_cert", help="DST's certifikat til at verificere svar (SMDB_SERVER_CERT)"),
    opt("--strict", is_flag=True, default=None, help="kræv signerede svar, også uden DST-certifikat"),
    opt("--deadline", help="sekunder et kald højst må tage i alt, genforsøg medregnet (SMDB_DEADLINE); standard 120"),
    opt(
        "--allow-insecure-http",
        "allow_insecure_http",
        is_flag=True,
        default=None,
        help="tillad ukrypteret http:// til en anden maskine end denne (aldrig mod DST)",
    ),
    opt(
        "--require-sigconf",
        "require_signature_confirmation",
        is_flag=True,
        default=None,
        help="afvis signerede svar uden SignatureConfirmation af forespørgslens signatur "
        "(SMDB_REQUIRE_SIGNATURE_CONFIRMATION)",
    ),
    opt(
        "--answer-skew",
        "answer_skew",
        help="sekunder et signeret svar højst må være dannet før forespørgslen (SMDB_ANSWER_SKEW); standard 10",
    ),
    opt("--api-version", "api_version", type=click.Choice(["v1", "v0"]), help="webservicens version; standard v1"),
    opt(
        "--auth", type=click.Choice(["certificate", "sts"]), help="certifikat direkte, eller NemLog-in STS (SMDB_AUTH)"
    ),
    opt("--sts-url", "sts_url", help="STS-endpoint ved --auth sts (SMDB_STS_URL)"),
    opt("--sts-audience", "sts_audience", help="SMDB's entity id hos STS'en (SMDB_STS_AUDIENCE)"),
    opt(
        "--sts-cert",
        "sts_cert",
        help="STS'ens certifikat (PEM): STS'ens svar skal være signeret med det (SMDB_STS_CERT)",
    ),
    opt(
        "--sts-entity-id",
        "sts_entity_id",
        help="STS'ens entity id, anmodningens wsa:To (SMDB_STS_ENTITY_ID); "
        "standard https://signature.sts.nemlog-in.dk/",
    ),
    opt("-v", "--verbose", count=True, help="log (-v INFO, -vv DEBUG; CPR maskeres)"),
]
_GLOBAL_NAMES = [
    "config",
    "env",
    "endpoint",
    "cert",
    "key",
    "server_cert",
    "strict",
    "deadline",
    "allow_insecure_http",
    "require_signature_confirmation",
    "answer_skew",
    "api_version",
    "auth",
    "sts_url",
    "sts_audience",
    "sts_cert",
    "sts_entity_id",
    "verbose",
]


#: --help in Danish (click's own text is English).
_HJAELP = click.help_option("-h", "--help", help="vis denne hjælp og afslut")


def _with_global(f: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(_GLOBAL):
        f = option(f)
    return _HJAELP(f)


def _run(func: Callable[[argparse.Namespace], int], **values: Any) -> int:
    """Merge the global options given before the subcommand (the group's) with those after it, and run ``func``
    the way every command runs: one Danish line and the documented exit code for every failure."""
    ctx = click.get_current_context()
    before: dict[str, Any] = (ctx.find_root().params or {}) if ctx.parent is not None else {}
    merged = {name: before.get(name) for name in _GLOBAL_NAMES}
    for name, value in values.items():
        if name == "verbose":
            merged[name] = (merged.get(name) or 0) + (value or 0)
        elif value is not None or name not in merged:
            merged[name] = value
    args = argparse.Namespace(**merged, func=func)
    return _execute(args)


@click.group(
    name="smdb",
    help="Indberetning til Stofmisbrugsdatabasen (SMDB). `smdb KOMMANDO --help` beskriver hver kommando.",
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 120},
)
@click.version_option(
    None, "--version", package_name="smdb-client", message="smdb-client %(version)s", help="vis versionen og afslut"
)
@_with_global
def cli(**_: Any) -> None:
    """The group: its options are merged into each command's (see :func:`_run`)."""


@cli.command("validate", help="kontroller forløb mod alle forretningsregler (intet sendes)")
@click.argument("file")
@opt("--today", type=DATO, help="dags dato for reglerne (YYYY-MM-DD); standard: i dag")
@opt("--format", type=click.Choice(["text", "json"]), default="text", help="uddataformat")
@_with_global
def _validate(**kw: Any) -> int:
    return _run(cmd_validate, **kw)


@cli.command("schema", help="JSON Schema for alle skemaer: et forløb eller en liste (officielle navne og koder)")
@_with_global
def _schema(**kw: Any) -> int:
    return _run(cmd_schema, **kw)


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
@_with_global
def _indberet(**kw: Any) -> int:
    return _run(cmd_indberet, **kw)


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
@_HJAELP
def _journal(**kw: Any) -> int:
    return _run(cmd_journal, **kw)


@cli.command("whoami", help="hvem kender SMDB os som (TokenTest WhoAmI)")
@_with_global
def _whoami(**kw: Any) -> int:
    return _run(cmd_whoami, **kw)


@cli.command("check", help="virker certifikat, endpoint og ur?")
@_with_global
def _check(**kw: Any) -> int:
    return _run(cmd_check, **kw)


@cli.command("echo", help="TokenTest Echo: TEXT sendes og kommer tilbage")
@click.argument("text")
@_with_global
def _echo(**kw: Any) -> int:
    return _run(cmd_echo, **kw)


@cli.command("hent", help="hent data fra SMDB: KIND er " + ", ".join(sorted(HENT)))
@click.argument("kind", type=click.Choice(sorted(HENT)))
@opt("--cpr", type=_CprType(), help="borgerens CPR-nummer (DDMMÅÅ-SSSS eller 10 cifre)")
@opt("--kommune", type=int, help="kommunekoden (SMDB_KOMMUNEKODE)")
@opt("--format", type=click.Choice(["table", "json", "csv"]), default="table", help="uddataformat")
@opt("--vis-cpr", "vis_cpr", is_flag=True, help="vis hele CPR-numre (ellers maskeret)")
@_with_global
def _hent(**kw: Any) -> int:
    return _run(cmd_hent, **kw)


@cli.command("aktivliste", help="kommunens aktive anmodninger og indskrivninger (DST's Aktivliste)")
@opt("--kommune", type=int, help="kommunekoden (SMDB_KOMMUNEKODE)")
@opt("--format", type=click.Choice(["table", "csv", "json"]), default="csv", help="uddataformat")
@opt("--vis-cpr", "vis_cpr", is_flag=True, help="vis hele CPR-numre (ellers maskeret)")
@opt(
    "--mellemloesning-fra",
    "mellemloesning_fra",
    type=DATO,
    help="vis i kolonnen System, om forløbet hører til det gamle system (anmodet før datoen) eller det nye",
)
@_with_global
def _aktivliste(**kw: Any) -> int:
    return _run(cmd_aktivliste, **kw)


@cli.command("systemskifte", help="skift af indberetningssystem: model 1, 2 eller mellemløsning (docs/systemskifte.md)")
@opt("--model", type=click.Choice(["1", "2", "mellem"]), required=True, help="DST's systemskiftemodel")
@opt(
    "--dato",
    type=DATO,
    required=True,
    help="systemskiftedato: sidste dag i det gamle system (mellemløsning: første dag i det nye)",
)
@opt("--kommune", type=int, help="kommunekoden (SMDB_KOMMUNEKODE)")
@opt("--apply", is_flag=True, help="udfør planen (model 2: send afslutningerne); exit 0 kun når intet er tilbage")
@opt(
    "--luk-glemte",
    "luk_glemte",
    is_flag=True,
    help="send de foreslåede afslutninger af glemte forløb (med deres egne datoer, ikke som systemskifte)",
)
@opt(
    "--glemt-efter",
    "glemt_efter",
    type=int,
    default=90,
    help="dage uden aktivitet (og uden åbent tilbud) før systemskiftedatoen, før et forløb regnes for glemt",
)
@opt(
    "--plan-out",
    "plan_out",
    help="skriv planen som JSON, altid med hele CPR-numre (det nye system genregistrerer forløbene ud fra den) og "
    "kun læsbar for ejeren; med --apply altid, som standard systemskifte-KOMMUNE-modelM-DATO.json",
)
@opt("--journal", help="journal, der gemmer planen (standard systemskifte-KOMMUNE.journal)")
@opt("--ny-plan", "ny_plan", is_flag=True, help="lav planen forfra, ikke fra journalen")
@opt("--sletteliste", help="model 1: skriv slettelisten til DST som CSV med hele CPR-numre (ejer-læsbar fil)")
@opt(
    "--vis-cpr",
    "vis_cpr",
    is_flag=True,
    help="vis hele CPR-numre i udskriften (ellers maskeret); planfilen har dem altid (se --plan-out)",
)
@opt("--today", type=DATO, help="dags dato for reglerne (YYYY-MM-DD); standard: i dag")
@_with_global
def _systemskifte(**kw: Any) -> int:
    return _run(cmd_systemskifte, **kw)


@cli.command("demo", help="kør en indberetning mod den indlejrede simulator")
@opt(
    "--auth",
    "demo_auth",
    type=click.Choice(["certificate", "sts"]),
    default="certificate",
    help="certifikat direkte, eller via den simulerede STS",
)
@_HJAELP
def _demo(**kw: Any) -> int:
    return _run(cmd_demo, **kw)


@cli.group("contract", help="kontrakten med DST's webservice (WSDL)")
@_HJAELP
def _contract() -> None:
    """The contract commands."""


@_contract.command(
    "diff", help="sammenlign DST's WSDL med den indbyggede kontrakt; exit 1 ved forskelle (docs/service-contract.md)"
)
@click.argument("sources", nargs=-1)
@opt(
    "--env",
    "diff_env",
    type=click.Choice(["preprod", "prod"]),
    help="hent de tre WSDL'er fra DST's miljø (?singlewsdl) i stedet for SOURCES (filer eller URL'er)",
)
@_HJAELP
def _contract_diff(**kw: Any) -> int:
    return _run(cmd_contract_diff, **kw)


_JOURNAL_OPT = opt(
    "--journal",
    help="journalen, udbakken ligger i: en SQLite-fil eller postgresql://… (SMDB_JOURNAL)",
)


@cli.group("udbakke", help="løbende indberetning: læg forløb i udbakken, og lad en arbejder tømme den")
@_HJAELP
def _udbakke() -> None:
    """The outbox commands."""


@_udbakke.command("tilfoej", help="læg den nyeste udgave af forløb (JSON: et forløb eller en liste) i udbakken")
@click.argument("file")
@_JOURNAL_OPT
@_with_global
def _udbakke_tilfoej(**kw: Any) -> int:
    return _run(cmd_udbakke_tilfoej, **kw)


@_udbakke.command("koer", help="tøm udbakken løbende (SIGTERM/Ctrl-C: færdiggør forløb under behandling, exit 0)")
@_JOURNAL_OPT
@opt("--workers", type=int, default=4, help="forløb behandlet samtidig (1-64)")
@opt("--til-tom", "til_tom", is_flag=True, help="stop, når udbakken er tom (cron og test)")
@opt("--today", type=DATO, help="dags dato for reglerne (YYYY-MM-DD); standard: i dag")
@_with_global
def _udbakke_koer(**kw: Any) -> int:
    return _run(cmd_udbakke_koer, **kw)


@cli.command("status", help="hvad der skal holdes øje med: udbakke, parkerede forløb, certifikater (exit 1: se efter)")
@_JOURNAL_OPT
@opt("--format", type=click.Choice(["text", "json", "prometheus"]), default="text", help="uddataformat")
@opt("--maks-alder", "maks_alder", type=float, default=60.0, help="minutter den ældste ikke-sendte ændring må være")
@opt("--nu", type=click.DateTime(formats=["%Y-%m-%dT%H:%M:%S%z"]), help="tidspunktet at måle fra (test); standard: nu")
@_with_global
def _status(**kw: Any) -> int:
    return _run(cmd_status, **kw)


@cli.group("sim", help="den indlejrede SMDB-simulator")
@_HJAELP
def _sim() -> None:
    """The simulator commands."""


@_sim.command("serve", help="start simulatoren (Ctrl-C stopper)")
@opt("--host", default="127.0.0.1", help="adressen, simulatoren lytter på")
@opt("--port", type=int, default=8765, help="porten (0: en ledig)")
@opt("--db", help="SQLite-fil; standard: i hukommelsen")
@opt("--trust", multiple=True, help="klientcertifikat (PEM), der accepteres; kan gentages")
@opt("--allow-unsigned", "allow_unsigned", is_flag=True, help="accepter usignerede kald")
@opt("--server-cert-out", "server_cert_out", help="skriv simulatorens certifikat (PEM) hertil")
@opt("--sts-cert-out", "sts_cert_out", help="--auth sts: skriv den simulerede STS' certifikat (PEM) hertil")
@opt("--latency", type=float, default=0.0, help="millisekunder lagt til hvert kald, som hos DST")
@opt("--jitter", type=float, default=0.0, help="op til så mange millisekunder mere, tilfældigt")
@opt("--fejl", type=float, help="andel af kaldene, der får en indsprøjtet fejl (0-1), fx 0.1; standard: ingen")
@opt("--fejl-seed", "fejl_seed", type=int, default=0, help="frø for fejlenes rækkefølge (samme frø, samme fejl)")
@opt("--fejl-typer", "fejl_typer", help="kun disse fejltyper, kommasepareret (fx reset_after,truncated_after)")
@opt("--fejl-kun-skriv", "fejl_kun_skriv", is_flag=True, help="kun skrivninger får fejl (Hent* og TokenTest ikke)")
@opt(
    "--adgang",
    multiple=True,
    help="CVR=KODE[,KODE…]: organisationen må kun læse og skrive disse kommuner (kan gentages); standard: alle",
)
@opt(
    "--auth",
    type=click.Choice(["certificate", "sts"]),
    default="certificate",
    help="sts: kræv SAML-token fra den simulerede STS (på /sts/service.svc)",
)
@_HJAELP
def _sim_serve(**kw: Any) -> int:
    return _run(cmd_sim_serve, **kw)


@_sim.command("cert", help="lav et testcertifikat til simulatoren")
@opt("--out", default=".", help="mappen, certifikat og nøgle skrives til")
@opt("--organisation", default="Testkommune", help="organisationens navn i testcertifikatet")
@opt("--cvr", default="29189900", help="CVR-nummeret i testcertifikatet")
@_HJAELP
def _sim_cert(**kw: Any) -> int:
    return _run(cmd_sim_cert, **kw)


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM (a scheduler stopping the job) is handled like Ctrl-C: the summary of what was done, exit 130."""
    raise KeyboardInterrupt


def _vis_advarsel(message: Warning | str, category: type[Warning], *_: Any, **__: Any) -> None:
    """The library's warnings (no DST certificate, a certificate expiring soon, …) as one line, not Python's."""
    print(f"smdb: advarsel: {scrub(str(message))}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    import signal
    import threading
    import warnings

    warnings.showwarning = _vis_advarsel
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        return _main(argv)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _param_name(param: click.Parameter | None) -> str:
    if isinstance(param, click.Option):
        return param.opts[-1] if param.opts else str(param.name)
    return (param.human_readable_name if param is not None else "argumentet").upper()


def _usage_text(exc: click.UsageError) -> str:
    """click's usage errors in Danish (its own texts are English)."""
    if isinstance(exc, click.MissingParameter):
        return f"{_param_name(exc.param)} mangler"
    if isinstance(exc, click.NoSuchOption):
        return f"ukendt tilvalg {exc.option_name}"
    if isinstance(exc, click.BadParameter):
        name = _param_name(exc.param)
        if exc.param is not None and isinstance(exc.param.type, click.Choice):
            return f"{name} skal være en af: {', '.join(str(c) for c in exc.param.type.choices)}"
        if exc.param is not None and exc.param.type in (click.INT, click.FLOAT):
            return f"{name} skal være et tal"
        return f"{name}: {exc.message}"
    if isinstance(exc, click.BadOptionUsage):
        return f"{exc.option_name} bruges forkert"
    if "No such command" in exc.message:
        return f"ukendt kommando: {exc.message.split(chr(39))[1] if chr(39) in exc.message else exc.message}"
    return exc.format_message()


def _main(argv: Sequence[str] | None) -> int:
    try:
        result = cli.main(args=list(argv) if argv is not None else None, prog_name="smdb", standalone_mode=False)
    except click.exceptions.Exit as done:  # --help, --version
        return int(done.exit_code)
    except click.UsageError as exc:  # a wrong option or value: the user's to fix
        print(f"smdb: {scrub(_usage_text(exc))}", file=sys.stderr)
        if exc.ctx is not None:
            print(f"(se: {exc.ctx.command_path} --help)", file=sys.stderr)
        return EXIT_INPUT
    except click.Abort:
        return 130
    return int(result) if isinstance(result, int) else EXIT_OK


def _execute(args: argparse.Namespace) -> int:
    """Run a command; every failure becomes one Danish line and the documented exit code."""
    if args.verbose:
        logging.basicConfig(
            level=logging.DEBUG if args.verbose > 1 else logging.INFO,
            stream=sys.stderr,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
        # every record this process logs, from any library (signxml's canonicalised envelopes too), is masked
        scrub_handlers()
    try:
        code: int = args.func(args)
        return code
    except (UsageError, UnsafeFile, NotAJournal, ConfigurationError) as exc:
        print(f"smdb: {scrub(str(exc))}", file=sys.stderr)
        return EXIT_INPUT
    except SmdbUnavailable as exc:  # SMDB or the STS out of reach: nothing to fix, try again later
        print(f"smdb: {scrub(str(exc))}", file=sys.stderr)
        return EXIT_LATER
    except SmdbError as exc:
        print(f"smdb: {scrub(str(exc))}", file=sys.stderr)
        return EXIT_VIOLATIONS
    except (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError, FileExistsError) as exc:
        # a path given on the command line (an output file in a missing directory, say): the user's to fix
        kinds: tuple[tuple[type[OSError], str], ...] = (
            (FileNotFoundError, "findes ikke (eller mappen findes ikke)"),
            (PermissionError, "må ikke læses eller skrives"),
            (IsADirectoryError, "er en mappe, ikke en fil"),
            (NotADirectoryError, "har en del, der ikke er en mappe"),
            (FileExistsError, "findes allerede"),
        )
        what = next(text for kind, text in kinds if isinstance(exc, kind))
        print(f"smdb: {exc.filename or 'filen'} {what}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        hint = " – kør igen: det, SMDB allerede har, sendes ikke igen" if args.func is cmd_indberet else ""
        print(f"\nsmdb: afbrudt{hint}", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `smdb hent ... | head`: the reader left; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_VIOLATIONS
    except Exception as exc:
        if os.environ.get("SMDB_DEBUG"):
            raise
        print(f"smdb: intern fejl ({type(exc).__name__}): {scrub(str(exc))[:300]}", file=sys.stderr)
        return 3


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
