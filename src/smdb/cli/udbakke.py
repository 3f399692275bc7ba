"""The service commands: ``udbakke tilfoej``, ``udbakke koer`` and ``status``."""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import click

from smdb.cli.base import (
    DATO,
    EXIT_OK,
    EXIT_VIOLATIONS,
    HJAELP,
    JOURNAL_OPT,
    Args,
    UsageError,
    cli,
    journal_target,
    opt,
    read_json,
    reporting_clients,
    run,
    settings_of,
    with_global,
)
from smdb.journal import NotAJournal


def cmd_udbakke_tilfoej(args: Args) -> int:
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
    journal = Journal(journal_target(args))
    try:
        n = Udbakke(journal).tilfoej_mange(courses)
    finally:
        journal.close()
    print(f"{n} forløb lagt i udbakken (en ældre ventende udgave af samme forløb er erstattet)")
    return EXIT_OK


def cmd_udbakke_koer(args: Args) -> int:
    import signal
    import threading

    from smdb.journal import Journal
    from smdb.reporting import Reporter
    from smdb.udbakke import Arbejder, Udbakke

    if not 1 <= args.workers <= 64:
        raise UsageError("--workers skal være mellem 1 og 64")
    client, kommuner = reporting_clients(args)
    journal = Journal(journal_target(args))
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


def cmd_status(args: Args) -> int:
    from datetime import UTC, datetime

    from smdb.settings import SmdbSettings
    from smdb.status import status

    settings: SmdbSettings = settings_of(args)
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


@cli.group("udbakke", help="løbende indberetning: læg forløb i udbakken, og lad en arbejder tømme den")
@HJAELP
def _udbakke() -> None:
    """The outbox commands."""


@_udbakke.command("tilfoej", help="læg den nyeste udgave af forløb (JSON: et forløb eller en liste) i udbakken")
@click.argument("file")
@JOURNAL_OPT
@with_global
def _udbakke_tilfoej(**kw: Any) -> int:
    return run(cmd_udbakke_tilfoej, **kw)


@_udbakke.command("koer", help="tøm udbakken løbende (SIGTERM/Ctrl-C: færdiggør forløb under behandling, exit 0)")
@JOURNAL_OPT
@opt("--workers", type=int, default=4, help="forløb behandlet samtidig (1-64)")
@opt("--til-tom", "til_tom", is_flag=True, help="stop, når udbakken er tom (cron og test)")
@opt("--today", type=DATO, help="dags dato for reglerne (YYYY-MM-DD); standard: i dag")
@with_global
def _udbakke_koer(**kw: Any) -> int:
    return run(cmd_udbakke_koer, **kw)


@cli.command("status", help="hvad der skal holdes øje med: udbakke, parkerede forløb, certifikater (exit 1: se efter)")
@JOURNAL_OPT
@opt("--format", type=click.Choice(["text", "json", "prometheus"]), default="text", help="uddataformat")
@opt("--maks-alder", "maks_alder", type=float, default=60.0, help="minutter den ældste ikke-sendte ændring må være")
@opt("--nu", type=click.DateTime(formats=["%Y-%m-%dT%H:%M:%S%z"]), help="tidspunktet at måle fra (test); standard: nu")
@with_global
def _status(**kw: Any) -> int:
    return run(cmd_status, **kw)
