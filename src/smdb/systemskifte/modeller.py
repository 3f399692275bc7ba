"""The three ways of DST's guide, planned from what SMDB holds: model 1, model 2 and mellemløsning."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from smdb.client import SmdbClient
from smdb.codes import AfsluttetAarsag, AfsluttetStatus
from smdb.errors import ConfigurationError
from smdb.forms import FORMS, Form
from smdb.models import Afslutning, Indskrivningsforloeb, Kontaktforloeb
from smdb.register import aendringens_brud
from smdb.systemskifte.aktivliste import aabne_indskrivninger, aktive_forloeb
from smdb.systemskifte.plan import (
    GLEMT_EFTER,
    LUKKEDE_SKEMAER_TEKST,
    SYSTEMSKIFTE_TEKST,
    Glemt,
    Handling,
    Handlingstype,
    Model,
    Systemskifteplan,
    efter_datoen,
    er_glemt,
    foreslaa_lukning,
    sidste_aktivitet,
)


def kontroller_dato(dato: date, today: date) -> None:
    """A cut-over date in the future is refused before anything is planned or sent (§6.1.1: no future dates)."""
    if dato > today:
        raise ConfigurationError(
            f"systemskiftedatoen {dato} ligger i fremtiden (i dag er {today}); SMDB modtager ikke fremtidige datoer "
            "(§6.1.1): kør systemskiftet på eller efter datoen"
        )


def _genregistrering(f: Kontaktforloeb, start: date, *, behold_datoer: bool) -> dict[str, Any]:
    """The course as the new system must register it: no SMDB ids; model 2 restarts it at ``start``."""
    data = f.to_official()
    ids = {spec.id_element for spec in FORMS.values()} | {s.parent_id_element for s in FORMS.values()}
    for form in (Form.ANM, Form.IVAER, Form.KVALHEP, Form.AFSL):
        if isinstance(data.get(form.value), dict):
            data[form.value] = {k: v for k, v in data[form.value].items() if k not in ids}
    data["TILB"] = [{k: v for k, v in t.items() if k not in ids} for t in data.get("TILB", [])]
    data.pop("AFSL", None)
    if behold_datoer:
        return data
    data["ANM"]["BehandlingAnmodningDato"] = start.isoformat()
    if "IVÆR" in data:
        iv = data["IVÆR"]
        iv["IvaerksatBehandlingDato"] = start.isoformat()
        for k in (
            "LaegesamtaleAfholdtDato",
            "LaegesamtaleIkkeAfholdtAarsagTidsfristOverskredetKode",
            "LaegesamtaleIkkeAfholdtAarsagTidsfristOverskredetTekst",
            "BehandlingGarantiOverskredetAarsagKode",
            "BehandlingGarantiOverskredetAarsagTekst",
            "IvaerksatBehandlingDageSidenAnmodningKvantitet",
            "PersonIvaerksatBehandlingAlderKvantitet",
        ):
            iv.pop(k, None)
        data["TILB"] = [
            {
                **{k: v for k, v in t.items() if k != "TilbudTilknyttetBehandlingSlutDato"},
                "TilbudTilknyttetBehandlingStartDato": start.isoformat(),
            }
            for t in data["TILB"]
            if "TilbudTilknyttetBehandlingSlutDato" not in t
        ]
        if not data["TILB"]:
            # between offers at the cut-over: KvalHep needs a tilbudstilknytning (§6.1.8), so the new system
            # reports it with the course's next offer
            data.pop("KvalHep", None)
            data.pop("TILB")
    return data


def _anm(f: Kontaktforloeb) -> int:
    assert f.anmodning.smdb_id is not None  # fetched from SMDB
    return f.anmodning.smdb_id


def _glemt(plan: Systemskifteplan, f: Kontaktforloeb, today: date) -> None:
    g = Glemt(f, sidste_aktivitet(f), foreslaa_lukning(f, today))
    plan.glemte.append(g)
    plan.handlinger.append(
        Handling(
            Handlingstype.GLEMT,
            str(f.cpr),
            Form.ANM,
            _anm(f),
            f"glemt forløb (sidste aktivitet {g.sidste_aktivitet}): afslut med de korrekte datoer, ikke som "
            "systemskifte (--luk-glemte sender forslaget)",
        )
    )


def _indskrivning_handling(i: Indskrivningsforloeb, dato: date, *, slet: bool) -> Handling:
    inds = i.indskrivning
    assert inds.smdb_id is not None
    ydelser = ", ".join(str(y.smdb_id) for y in i.ydelser)
    ydelse_tekst = f" og de åbne ydelser ({ydelser})" if ydelser else ""
    if slet:
        hvad = f"indskrivning på tilbud {inds.tilbud_id} fra {inds.indskrivningsdato}{ydelse_tekst} skal slettes"
    else:
        hvad = (
            f"indskrivning på tilbud {inds.tilbud_id} fra {inds.indskrivningsdato}{ydelse_tekst} skal afsluttes "
            f"pr. {dato} (udskrivning med årsag Anden, '{SYSTEMSKIFTE_TEKST}')"
        )
    return Handling(
        Handlingstype.INDSKRIVNING,
        str(inds.cpr),
        Form.INDS,
        inds.smdb_id,
        f"{hvad} i SMDB-web eller af DST (smdb@dst.dk): {LUKKEDE_SKEMAER_TEKST}",
        lukning_nok=not slet,
    )


def model2(
    client: SmdbClient, kommunekode: int, dato: date, *, glemt_efter: timedelta = GLEMT_EFTER
) -> Systemskifteplan:
    """Plan model 2: close every active course at ``dato`` and re-register it from the day after; sort out the
    forgotten courses, those with activity after ``dato``, and the open indskrivninger (module docstring)."""
    today = client.today()
    kontroller_dato(dato, today)
    plan = Systemskifteplan(Model.MODEL2, dato, kommunekode, glemt_efter_dage=glemt_efter.days)
    for f in aktive_forloeb(client, kommunekode):
        if f.anmodningsdato > dato:
            plan.handlinger.append(
                Handling(
                    Handlingstype.SLET_EFTER,
                    str(f.cpr),
                    Form.ANM,
                    _anm(f),
                    f"anmodning {f.anmodningsdato} er efter systemskiftedatoen: DST (smdb@dst.dk) skal slette den, "
                    "før det nye system kan indberette forløbet (med dets oprindelige datoer)",
                )
            )
            plan.genregistrering.append(_genregistrering(f, f.anmodningsdato, behold_datoer=True))
            continue
        if er_glemt(f, dato, glemt_efter):
            _glemt(plan, f, today)
            continue
        efter = efter_datoen(f, dato)
        if efter:
            plan.handlinger.append(
                Handling(
                    Handlingstype.RET_FOERST,
                    str(f.cpr),
                    Form.ANM,
                    _anm(f),
                    "kan ikke afsluttes pr. systemskiftedatoen, fordi forløbet har " + ", ".join(efter) + " efter "
                    "den: ret datoerne i det gamle system eller SMDB-web, eller vælg en senere systemskiftedato",
                )
            )
            continue
        tilb = [t if t.slutdato is not None else t.model_copy(update={"slutdato": dato}) for t in f.tilbud]
        # §6.1.5: when every offer was already closed, AFSL must equal the latest end date, not the cut-over.
        alle_lukket = bool(f.tilbud) and all(t.slutdato is not None for t in f.tilbud)
        afsl_dato = max(t.slutdato for t in f.tilbud if t.slutdato) if alle_lukket else dato
        afsl = Afslutning(
            afsluttet_dato=afsl_dato,
            status=AfsluttetStatus.IKKE_FAERDIGBEHANDLET,
            aarsag=AfsluttetAarsag.ANDEN,
            aarsag_tekst=SYSTEMSKIFTE_TEKST,
        )
        closed = f.model_copy(update={"tilbud": tilb, "afslutning": afsl})
        problems = aendringens_brud(closed, f, [], today)
        if problems:
            plan.handlinger.append(
                Handling(
                    Handlingstype.RET_FOERST,
                    str(f.cpr),
                    Form.ANM,
                    _anm(f),
                    "kan ikke afsluttes automatisk: " + "; ".join(v.message for v in problems),
                )
            )
            continue
        plan.lukninger.append((f, closed))
        plan.genregistrering.append(_genregistrering(f, dato + timedelta(days=1), behold_datoer=False))
    for i in aabne_indskrivninger(client, kommunekode):
        plan.handlinger.append(_indskrivning_handling(i, dato, slet=False))
    return plan


def model1(
    client: SmdbClient, kommunekode: int, dato: date, *, glemt_efter: timedelta = GLEMT_EFTER
) -> Systemskifteplan:
    """Plan model 1: the active courses and indskrivninger are deleted (by DST or in SMDB-web) and the courses
    entered again with their original dates; forgotten courses are closed instead, with their correct dates."""
    today = client.today()
    kontroller_dato(dato, today)
    plan = Systemskifteplan(Model.MODEL1, dato, kommunekode, glemt_efter_dage=glemt_efter.days)
    for f in aktive_forloeb(client, kommunekode):
        if er_glemt(f, dato, glemt_efter):
            _glemt(plan, f, today)
            continue
        plan.sletninger.append(f)
        plan.genregistrering.append(_genregistrering(f, f.anmodningsdato, behold_datoer=True))
        plan.handlinger.append(
            Handling(
                Handlingstype.SLET,
                str(f.cpr),
                Form.ANM,
                _anm(f),
                "slettes af DST eller i SMDB-web (sletteliste), og indtastes igen i det nye system",
            )
        )
    for i in aabne_indskrivninger(client, kommunekode):
        plan.slettes_indskrivninger.append(i)
        plan.handlinger.append(_indskrivning_handling(i, dato, slet=True))
    return plan


def mellemloesning(client: SmdbClient, kommunekode: int, fra: date) -> Systemskifteplan:
    """Plan the mellemløsning: which active courses the old system (SMDB-web) keeps until they end, and which the
    new system reports (those anmodet from ``fra``). Nothing is deleted, closed or sent."""
    plan = Systemskifteplan(Model.MELLEM, fra, kommunekode)
    for f in aktive_forloeb(client, kommunekode):
        (plan.gammelt_system if f.anmodningsdato < fra else plan.nyt_system).append(f)
    return plan
