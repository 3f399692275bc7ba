"""The commands that ask SMDB: ``whoami``, ``echo``, ``check``, ``hent`` and ``aktivliste``."""

from __future__ import annotations

import re
import sys
from typing import Any

import click

from smdb.cli.base import (
    DATO,
    EXIT_OK,
    EXIT_VIOLATIONS,
    Args,
    CprType,
    cli,
    kommune_of,
    make_client,
    opt,
    run,
    with_global,
)
from smdb.forms import FORMS, Form
from smdb.output import print_rows
from smdb.soap.contract import lookup_operations


def cmd_whoami(args: Args) -> int:
    who = make_client(args).whoami()
    for k, v in who.items():
        print(f"{k}: {v}")
    return EXIT_OK


def cmd_echo(args: Args) -> int:
    print(make_client(args).echo(args.text))
    return EXIT_OK


def cmd_check(args: Args) -> int:
    result = make_client(args).check()
    print("\n".join(result.lines))
    return EXIT_OK if result.ok else EXIT_VIOLATIONS


#: ``smdb hent KIND``: the forms (from the form table) and the lookup lists.
def _kind(operation: str) -> str:
    """The CLI's name for a Hent operation: HentAnmodninger -> anmodninger, HentAlleTilbud -> tilbud,
    HentAsiForMyndighed -> asi-myndighed."""
    name = operation.removeprefix("Hent").removeprefix("Alle")
    return re.sub(r"(?<=[a-z])For(?=[A-Z])", "-", name).lower()


#: ``smdb hent KIND``: every form with a Hent of its own and every lookup list, from the table and the contract.
HENT_FORMS = {_kind(spec.hent): spec.form for spec in FORMS.values() if spec.hent}
HENT_OPSLAG = {_kind(name): name for name in lookup_operations()}
HENT = {**HENT_FORMS, **HENT_OPSLAG}


def cmd_hent(args: Args) -> int:
    from smdb.forms import id_element
    from smdb.soap.contract import SEARCH_IDS as SEARCH_FORMS

    client = make_client(args)
    rows: list[dict[str, Any]]
    if args.kind in HENT_OPSLAG:
        rows = client.hent_opslag(HENT_OPSLAG[args.kind], cpr=args.cpr, kommunekode=args.kommune)
    else:
        form = HENT_FORMS[args.kind]
        kwargs: dict[str, Any] = {"cpr": args.cpr}
        if form == Form.ANM:
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
    print_rows(rows, args.format, sys.stdout, args.vis_cpr)
    return EXIT_OK


def cmd_aktivliste(args: Args) -> int:
    from smdb.systemskifte import AKTIVLISTE_KOLONNER, aabne_indskrivninger, aktive_forloeb, aktivliste_rows

    kommune = kommune_of(args)
    client = make_client(args)
    rows = aktivliste_rows(
        aktive_forloeb(client, kommune),
        aabne_indskrivninger(client, kommune),
        mellemloesning_fra=args.mellemloesning_fra,
    )
    print_rows(rows, args.format, sys.stdout, args.vis_cpr, AKTIVLISTE_KOLONNER)
    return EXIT_OK


@cli.command("whoami", help="hvem kender SMDB os som (TokenTest WhoAmI)")
@with_global
def _whoami(**kw: Any) -> int:
    return run(cmd_whoami, **kw)


@cli.command("check", help="virker certifikat, endpoint og ur?")
@with_global
def _check(**kw: Any) -> int:
    return run(cmd_check, **kw)


@cli.command("echo", help="TokenTest Echo: TEXT sendes og kommer tilbage")
@click.argument("text")
@with_global
def _echo(**kw: Any) -> int:
    return run(cmd_echo, **kw)


@cli.command("hent", help="hent data fra SMDB: KIND er " + ", ".join(sorted(HENT)))
@click.argument("kind", type=click.Choice(sorted(HENT)))
@opt("--cpr", type=CprType(), help="borgerens CPR-nummer (DDMMÅÅ-SSSS eller 10 cifre)")
@opt("--kommune", type=int, help="kommunekoden (SMDB_KOMMUNEKODE)")
@opt("--format", type=click.Choice(["table", "json", "csv"]), default="table", help="uddataformat")
@opt("--vis-cpr", "vis_cpr", is_flag=True, help="vis hele CPR-numre (ellers maskeret)")
@with_global
def _hent(**kw: Any) -> int:
    return run(cmd_hent, **kw)


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
@with_global
def _aktivliste(**kw: Any) -> int:
    return run(cmd_aktivliste, **kw)
