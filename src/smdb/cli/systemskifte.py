"""``smdb systemskifte``: DST's models 1 and 2 and the mellemløsning (docs/systemskifte.md)."""

from __future__ import annotations

import csv
import io
import json
import os
from datetime import timedelta
from typing import Any

import click

from smdb.cli.base import (
    DATO,
    EXIT_OK,
    EXIT_VIOLATIONS,
    Args,
    UsageError,
    cli,
    kommune_of,
    make_client,
    opt,
    run,
    with_global,
)
from smdb.files import write_owner_only


def cmd_systemskifte(args: Args) -> int:
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
    kommune = kommune_of(args)
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
@with_global
def _systemskifte(**kw: Any) -> int:
    return run(cmd_systemskifte, **kw)
