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
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from smdb.cpr import mask, scrub
from smdb.errors import ConfigurationError, SmdbError
from smdb.files import UnsafeFile, os_fejl, read_capped, write_atomic, write_owner_only
from smdb.journal import STEP_STATUSES, NotAJournal
from smdb.logs import scrub_handlers

EXIT_OK, EXIT_VIOLATIONS, EXIT_INPUT = 0, 1, 2
MAX_INPUT_BYTES = 64 * 1024 * 1024


class UsageError(Exception):
    """Bad input, usage or configuration: exit code 2."""


# ----------------------------------------------------------------------------- input
def _dato(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"ugyldig dato {text!r}; brug YYYY-MM-DD") from None


def _cpr(text: str) -> str:
    from smdb.cpr import Cpr, CprError

    try:
        return str(Cpr(text))
    except CprError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None  # the message never repeats the number


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
    for switch in ("strict", "allow_insecure_http"):  # store_true: absent means "not given", not False
        flags[switch] = True if getattr(args, switch, False) else None
    return SmdbSettings.load(args.config, **flags)


def make_client(args: argparse.Namespace) -> Any:
    today = getattr(args, "today", None)
    return _settings(args).client(today=(lambda: today) if today else date.today)


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
    client = make_client(args)
    journal = Journal(args.journal) if args.journal else None
    if not 1 <= args.workers <= 64:
        raise UsageError("--workers skal være mellem 1 og 64")
    reporter = Reporter(client, journal, dry_run=args.dry_run, kun_anmodet_fra=args.kun_nye_fra)
    try:
        summary = reporter.report_data(data, progress=sys.stderr, workers=args.workers)
    except BatchInterrupted as stopped:  # say what was done before stopping, then stop like any interruption
        print_summary(stopped.summary, args.format)
        raise KeyboardInterrupt from None
    print_summary(summary, args.format)
    return EXIT_OK if summary.ok else EXIT_VIOLATIONS


def cmd_journal(args: argparse.Namespace) -> int:
    from collections import Counter

    from smdb.journal import CONFIRMED, NotAJournal, read_courses, read_steps

    statuses = tuple(args.status or ())
    try:
        steps = read_steps(args.file, statuses)
        # courses that ended without a confirmed send: a rule, a refusal, or SMDB out of reach before any step
        courses = [c for c in read_courses(args.file, statuses) if c.status != CONFIRMED]
    except NotAJournal as exc:
        raise UsageError(str(exc)) from None
    rows = [
        {
            "Tidspunkt": r.updated_at,
            "CPR": r.cpr_masked,
            "Trin": r.step,
            "Status": r.status,
            "SmdbId": "" if r.smdb_id is None else r.smdb_id,
            "Aarsag": r.reason or "",
        }
        for r in steps
    ]
    rows += [
        {
            "Tidspunkt": c.updated_at,
            "CPR": c.cpr_masked,
            "Trin": "hele forløbet",
            "Status": c.status,
            "SmdbId": "",
            "Aarsag": c.reason or "",
        }
        for c in courses
    ]
    rows.sort(key=lambda r: str(r["Tidspunkt"]))
    if args.format == "table":  # words for people; JSON and CSV keep the values scripts rely on
        from smdb.output import TRIN_STATUS_TEKST as ord

        rows = [{**r, "Status": ord.get(str(r["Status"]), r["Status"])} for r in rows]
    _print_rows(rows, args.format, sys.stdout, known=JOURNAL_KOLONNER)
    if args.format == "table":
        counts = Counter(ord.get(r.status, r.status) for r in steps)
        text = f"{len(steps)} trin: " + (", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "ingen")
        if courses:
            by_status = Counter(ord.get(c.status, c.status) for c in courses)
            text += f"; {len(courses)} forløb ikke gennemført: " + ", ".join(
                f"{n} {status}" for status, n in sorted(by_status.items())
            )
        print(text)
    return EXIT_OK


JOURNAL_KOLONNER = ("Tidspunkt", "CPR", "Trin", "Status", "SmdbId", "Aarsag")


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
    widths = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in shown}
    stream.write("  ".join(c.ljust(widths[c]) for c in shown) + "\n")
    for r in rows:
        stream.write("  ".join(str(r.get(c, "")).ljust(widths[c]) for c in shown) + "\n")
    if len(columns) > len(shown):
        stream.write(f"({len(columns) - len(shown)} kolonner mere: brug --format json eller csv)\n")


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
    from datetime import timedelta

    from smdb.journal import Journal
    from smdb.output import print_summary
    from smdb.systemskifte import Model, Systemskifteplan, kontroller_dato, mellemloesning, model1, model2

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
    journal = Journal(journal_path) if writes or os.path.exists(journal_path) else None
    name = f"systemskifte:{kommune}:{model.value}:{args.dato.isoformat()}"
    kept = journal.load_plan(name) if journal is not None and not args.ny_plan else None
    if kept is not None:
        plan = Systemskifteplan.from_dict(kept[0])
        print(f"Planen fra {kept[1]} i journalen {journal_path} bruges (--ny-plan laver en ny ud fra SMDB).")
    else:
        build = model1 if model is Model.MODEL1 else model2
        plan = build(client, kommune, args.dato, glemt_efter=timedelta(days=args.glemt_efter))
    print(plan.text(args.vis_cpr))
    data = json.dumps(plan.to_dict(vis_cpr=args.vis_cpr), ensure_ascii=False, indent=2, default=str).encode()
    plan_out = args.plan_out or (f"systemskifte-{kommune}-model{model.value}-{args.dato}.json" if writes else None)
    if plan_out:
        # before the first write: whatever happens next, the re-registration plan is on disk (owner-only: CPRs)
        write_owner_only(plan_out, data)
        print(f"Plan skrevet til {plan_out}")
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
    app = Simulator(store, trusted=trusted, require_signature=not args.allow_unsigned, auth=args.auth)
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
                    raise SmdbUnavailable(f"{source} kunne ikke hentes ({type(exc).__name__})") from None
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
class _Hjaelp(argparse.HelpFormatter):
    """``--help`` names each option's default (in Danish), where the text does not already say it."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if (
            action.option_strings
            and default not in (None, False, argparse.SUPPRESS)
            and "%(default)" not in text
            and "standard" not in text
        ):
            text += " (standard: %(default)s)"
        return text


def _global_options(p: argparse.ArgumentParser, *, suppress: bool) -> None:
    """The options every SMDB command takes (connection, identity, logging), before or after the subcommand."""

    def add(*names: str, **kw: Any) -> None:
        if suppress:
            kw["default"] = argparse.SUPPRESS
        p.add_argument(*names, **kw)

    add("--config", help="TOML-fil med en [smdb]-sektion (eller SMDB_CONFIG)")
    add("--env", choices=["local", "preprod", "prod"], help="miljø (SMDB_ENV); standard preprod")
    add("--endpoint", help="eksplicit adresse, fx simulatorens (SMDB_ENDPOINT)")
    add("--cert", help="organisationscertifikat: .p12/.pfx eller PEM (SMDB_CERT)")
    add("--key", help="privat nøgle i PEM, hvis ikke i certifikatfilen (SMDB_KEY)")
    add("--server-cert", dest="server_cert", help="DST's certifikat til at verificere svar")
    add("--strict", action="store_true", help="kræv signerede svar, også uden DST-certifikat (med --server-cert altid)")
    add("--deadline", help="sekunder et kald højst må tage i alt, genforsøg medregnet (SMDB_DEADLINE; 120)")
    add(
        "--allow-insecure-http",
        dest="allow_insecure_http",
        action="store_true",
        help="tillad ukrypteret http:// til en anden maskine end denne (aldrig mod DST)",
    )
    add("--api-version", dest="api_version", choices=["v1", "v0"])
    add("--auth", choices=["certificate", "sts"], help="certifikat direkte, eller NemLog-in STS (SMDB_AUTH)")
    add("--sts-url", dest="sts_url", help="STS-endpoint ved --auth sts (SMDB_STS_URL)")
    add("--sts-audience", dest="sts_audience", help="SMDB's entity id hos STS'en (SMDB_STS_AUDIENCE)")
    add(
        "--sts-cert",
        dest="sts_cert",
        help="STS'ens certifikat (PEM): STS'ens svar skal være signeret med det (SMDB_STS_CERT)",
    )
    add(
        "--sts-entity-id",
        dest="sts_entity_id",
        help="STS'ens entity id, anmodningens wsa:To (SMDB_STS_ENTITY_ID; standard https://signature.sts.nemlog-in.dk/)",
    )
    add("-v", "--verbose", action="count", default=0, help="log (-v INFO, -vv DEBUG; CPR maskeres)")


#: Descriptions for options and arguments defined without one (by ``dest``): every option has a text in --help.
_BESKRIVELSER = {
    "api_version": "webservicens version (standard v1)",
    "format": "uddataformat",
    "today": "dags dato for reglerne (YYYY-MM-DD); standard: i dag",
    "file": "JSON-fil (- for stdin)",
    "text": "teksten, der sendes og kommer tilbage",
    "kind": "hvad der hentes",
    "kommune": "kommunekoden (SMDB_KOMMUNEKODE)",
    "vis_cpr": "vis hele CPR-numre (ellers maskeret)",
    "model": "systemskiftemodel: 1, 2 eller mellem (DST's vejledning)",
    "demo_auth": "certifikat direkte, eller via den simulerede STS",
    "host": "adressen, simulatoren lytter på",
    "port": "porten (0: en ledig)",
    "out": "mappen, certifikat og nøgle skrives til",
    "organisation": "organisationens navn i testcertifikatet",
    "cvr": "CVR-nummeret i testcertifikatet",
}


def _describe(parser: argparse.ArgumentParser) -> None:
    """Give every action without a help text its description from :data:`_BESKRIVELSER` (and every subparser the
    help formatter that names defaults)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                sub.formatter_class = _Hjaelp
                _describe(sub)
        elif not action.help and action.dest in _BESKRIVELSER:
            action.help = _BESKRIVELSER[action.dest]


def build_parser() -> argparse.ArgumentParser:
    from smdb import __version__

    p = argparse.ArgumentParser(
        prog="smdb", description="Indberetning til Stofmisbrugsdatabasen (SMDB)", formatter_class=_Hjaelp
    )
    p.add_argument("--version", action="version", version=f"smdb-client {__version__}")
    _global_options(p, suppress=False)
    # the same options after the subcommand too (`smdb indberet f.json -v`): defaults suppressed there, so that an
    # option given before the subcommand is not overwritten by its absence after it
    common = argparse.ArgumentParser(add_help=False)
    _global_options(common, suppress=True)
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser(
        "validate",
        parents=[common],
        formatter_class=_Hjaelp,
        help="kontroller forløb mod alle forretningsregler (intet sendes)",
    )
    s.add_argument("file", help="JSON-fil med ét forløb eller en liste (- for stdin)")
    s.add_argument("--today", type=_dato, help="dags dato for reglerne (YYYY-MM-DD)")
    s.add_argument("--format", choices=["text", "json"], default="text")
    s.set_defaults(func=cmd_validate)

    s = sub.add_parser(
        "schema",
        parents=[common],
        formatter_class=_Hjaelp,
        help="JSON Schema for alle skemaer (officielle variabelnavne og koder)",
    )
    s.set_defaults(func=cmd_schema)

    s = sub.add_parser(
        "indberet",
        parents=[common],
        formatter_class=_Hjaelp,
        help="indberet forløb: hent status, send det manglende i rigtig rækkefølge",
    )
    s.add_argument("file")
    s.add_argument("--dry-run", action="store_true", help="vis planen; send intet")
    s.add_argument("--journal", help="SQLite-journal, der gør kørslen genoptagelig")
    s.add_argument(
        "--workers",
        type=int,
        default=4,
        help="borgere indberettet samtidig (1-64; standard 4); én borgers forløb altid i rækkefølge",
    )
    s.add_argument(
        "--kun-nye-fra",
        dest="kun_nye_fra",
        type=_dato,
        help="mellemløsning: indberet kun forløb anmodet fra denne dato (YYYY-MM-DD); ældre forløb hører til "
        "det gamle system (SMDB-web) og sendes ikke",
    )
    s.add_argument("--today", type=_dato)
    s.add_argument("--format", choices=["text", "json"], default="text")
    s.set_defaults(func=cmd_indberet)

    s = sub.add_parser(
        "journal",
        parents=[common],
        formatter_class=_Hjaelp,
        help="vis en indberetningsjournal (fx nattens fejl); åbnes skrivebeskyttet",
    )
    s.add_argument("file")
    s.add_argument(
        "--status",
        action="append",
        choices=STEP_STATUSES,
        help="kun trin med denne status; kan gentages",
    )
    s.add_argument("--format", choices=["table", "json", "csv"], default="table")
    s.set_defaults(func=cmd_journal)

    for name, fn, hjælp in (
        ("whoami", cmd_whoami, "hvem kender SMDB os som"),
        ("check", cmd_check, "virker certifikat, endpoint og ur?"),
    ):
        s = sub.add_parser(name, parents=[common], formatter_class=_Hjaelp, help=hjælp)
        s.set_defaults(func=fn)
    s = sub.add_parser("echo", parents=[common], formatter_class=_Hjaelp, help="TokenTest Echo")
    s.add_argument("text")
    s.set_defaults(func=cmd_echo)

    s = sub.add_parser("hent", parents=[common], formatter_class=_Hjaelp, help="hent data fra SMDB")
    s.add_argument("kind", choices=sorted(HENT))
    s.add_argument("--cpr", type=_cpr, help="borgerens CPR-nummer (DDMMÅÅ-SSSS eller 10 cifre)")
    s.add_argument("--kommune", type=int)
    s.add_argument("--format", choices=["table", "json", "csv"], default="table")
    s.add_argument("--vis-cpr", dest="vis_cpr", action="store_true", help="vis hele CPR-numre (ellers maskeret)")
    s.set_defaults(func=cmd_hent)

    s = sub.add_parser(
        "aktivliste",
        parents=[common],
        formatter_class=_Hjaelp,
        help="kommunens aktive anmodninger og indskrivninger (DST's Aktivliste / igangværende forløb)",
    )
    s.add_argument("--kommune", type=int)
    s.add_argument("--format", choices=["table", "csv", "json"], default="csv")
    s.add_argument("--vis-cpr", dest="vis_cpr", action="store_true")
    s.add_argument(
        "--mellemloesning-fra",
        dest="mellemloesning_fra",
        type=_dato,
        help="vis i kolonnen System, om forløbet hører til det gamle system (anmodet før datoen) eller det nye",
    )
    s.set_defaults(func=cmd_aktivliste)

    s = sub.add_parser(
        "systemskifte",
        parents=[common],
        formatter_class=_Hjaelp,
        help="skift af indberetningssystem: model 1, model 2 eller mellemløsning (docs/systemskifte.md)",
    )
    s.add_argument("--model", choices=["1", "2", "mellem"], required=True)
    s.add_argument(
        "--dato",
        type=_dato,
        required=True,
        help="systemskiftedato: sidste dag i det gamle system (mellemløsning: første dag i det nye)",
    )
    s.add_argument("--kommune", type=int)
    s.add_argument(
        "--apply",
        action="store_true",
        help="udfør planen (model 2: send afslutningerne); exit 0 kun når intet er tilbage at gøre; uden: kun plan",
    )
    s.add_argument(
        "--luk-glemte",
        dest="luk_glemte",
        action="store_true",
        help="send de foreslåede afslutninger af glemte forløb (med deres egne datoer, ikke som systemskifte)",
    )
    s.add_argument(
        "--glemt-efter",
        dest="glemt_efter",
        type=int,
        default=90,
        help="dage uden aktivitet (og uden åbent tilbud) før systemskiftedatoen, før et forløb regnes for glemt "
        "(standard 90)",
    )
    s.add_argument(
        "--plan-out",
        dest="plan_out",
        help="skriv planen som JSON (ejer-læsbar); med --apply altid, som standard "
        "systemskifte-KOMMUNE-modelM-DATO.json",
    )
    s.add_argument(
        "--journal",
        help="journal, der gemmer planen og gør --apply genoptagelig (standard systemskifte-KOMMUNE.journal)",
    )
    s.add_argument("--ny-plan", dest="ny_plan", action="store_true", help="lav planen forfra, ikke fra journalen")
    s.add_argument(
        "--sletteliste",
        help="model 1: skriv slettelisten til DST som CSV med hele CPR-numre (ejer-læsbar fil)",
    )
    s.add_argument(
        "--vis-cpr", dest="vis_cpr", action="store_true", help="vis hele CPR-numre i output og plan (ellers maskeret)"
    )
    s.add_argument("--today", type=_dato, help="dags dato for reglerne (YYYY-MM-DD)")
    s.set_defaults(func=cmd_systemskifte)

    s = sub.add_parser("demo", help="kør en indberetning mod den indlejrede simulator")
    s.add_argument("--auth", dest="demo_auth", choices=["certificate", "sts"], default="certificate")
    s.set_defaults(func=cmd_demo)

    contract = sub.add_parser("contract", help="kontrakten med DST's webservice (WSDL)").add_subparsers(
        dest="contract_command", required=True
    )
    s = contract.add_parser(
        "diff",
        help="sammenlign DST's WSDL med den indbyggede kontrakt; exit 1 ved forskelle (docs/service-contract.md)",
    )
    s.add_argument("sources", nargs="*", help="WSDL-filer eller URL'er (…/securehentdata.svc?singlewsdl)")
    s.add_argument(
        "--env", dest="diff_env", choices=["preprod", "prod"], help="hent de tre WSDL'er fra DST's miljø (?singlewsdl)"
    )
    s.set_defaults(func=cmd_contract_diff)

    sim = sub.add_parser("sim", help="den indlejrede SMDB-simulator").add_subparsers(dest="sim_command", required=True)
    s = sim.add_parser("serve", help="start simulatoren")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8765)
    s.add_argument("--db", help="SQLite-fil (ellers i hukommelsen)")
    s.add_argument("--trust", action="append", help="klientcertifikat (PEM), der accepteres; kan gentages")
    s.add_argument("--allow-unsigned", dest="allow_unsigned", action="store_true", help="accepter usignerede kald")
    s.add_argument("--server-cert-out", dest="server_cert_out", help="skriv simulatorens certifikat (PEM) hertil")
    s.add_argument(
        "--sts-cert-out", dest="sts_cert_out", help="--auth sts: skriv den simulerede STS' certifikat (PEM) hertil"
    )
    s.add_argument("--latency", type=float, default=0.0, help="millisekunder lagt til hvert kald, som hos DST (0)")
    s.add_argument("--jitter", type=float, default=0.0, help="op til så mange millisekunder mere, tilfældigt (0)")
    s.add_argument(
        "--auth",
        choices=["certificate", "sts"],
        default="certificate",
        help="sts: kræv SAML-token fra den simulerede STS (på /sts/service.svc)",
    )
    s.set_defaults(func=cmd_sim_serve)
    s = sim.add_parser("cert", help="lav et testcertifikat til simulatoren")
    s.add_argument("--out", default=".")
    s.add_argument("--organisation", default="Testkommune")
    s.add_argument("--cvr", default="29189900")
    s.set_defaults(func=cmd_sim_cert)
    _describe(p)
    return p


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM (a scheduler stopping the job) is handled like Ctrl-C: the summary of what was done, exit 130."""
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    import signal
    import threading

    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        return _main(argv)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.verbose:
        logging.basicConfig(level=logging.DEBUG if args.verbose > 1 else logging.INFO, stream=sys.stderr)
        # every record this process logs, from any library (signxml's canonicalised envelopes too), is masked
        scrub_handlers()
    try:
        code: int = args.func(args)
        return code
    except (UsageError, UnsafeFile, NotAJournal, ConfigurationError) as exc:
        print(f"smdb: {scrub(str(exc))}", file=sys.stderr)
        return EXIT_INPUT
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
