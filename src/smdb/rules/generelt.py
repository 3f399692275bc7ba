"""§6.1.1 (no date after today) and the §3.1 table constraints of ANM."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from smdb.models import Kontaktforloeb
from smdb.rules._core import Kontekst, Violation, navn, regel
from smdb.rules._forloeb import FORLOEB

DATO_I_FREMTIDEN = regel(
    "dato_i_fremtiden",
    "6.1.1",
    ["2-ANM", "26-IVÆR", "1-IVÆR", "3-TILB", "4-TILB", "1-AFSL"],
    "Alle datoer skal være dags dato eller før; det er ikke muligt at registrere en dato i fremtiden.",
)
GRAVID_PAAKRAEVET = regel(
    "gravid_paakraevet", "6.1.2", ["4-ANM", "1-ANM"], "Er borgeren kvinde, skal 4-ANM (graviditet) besvares."
)
GRAVID_KUN_KVINDER = regel(
    "gravid_kun_kvinder", "3.1", ["4-ANM", "1-ANM"], "4-ANM vises kun, hvis PersonKoenKode=Kvinde."
)
KOMMUNEKODE_AFVIGER = regel(
    "kommunekode_afviger",
    "3.1",
    ["8-ANM"],
    "8-ANM KommuneKode skal være den indberettende (visiterende) kommune, som forløbet hører til.",
)


def datoer(f: Kontaktforloeb) -> Iterator[tuple[str, str, date]]:
    """Every date of a course with its Felt-ID and variable name."""
    yield "2-ANM", "BehandlingAnmodningDato", f.anmodning.anmodningsdato
    iv = f.ivaerksaettelse
    if iv is not None:
        yield "1-IVÆR", "IvaerksatBehandlingDato", iv.ivaerksat_dato
        if iv.laegesamtale_dato is not None:
            yield "26-IVÆR", "LaegesamtaleAfholdtDato", iv.laegesamtale_dato
    for t in f.tilbud:
        if t.startdato is not None:
            yield "3-TILB", "TilbudTilknyttetBehandlingStartDato", t.startdato
        if t.slutdato is not None:
            yield "4-TILB", "TilbudTilknyttetBehandlingSlutDato", t.slutdato
    if f.afslutning is not None:
        yield "1-AFSL", "BehandlingAfsluttetDato", f.afslutning.afsluttet_dato


@FORLOEB
def _ingen_fremtidige_datoer(f: Kontaktforloeb, ctx: Kontekst) -> Iterator[Violation]:
    for felt_id, variabel, d in datoer(f):
        if d > ctx.today:
            yield DATO_I_FREMTIDEN.brud(
                f"{navn(felt_id, variabel)} ({d.isoformat()}) ligger efter dags dato ({ctx.today.isoformat()})",
                [felt_id],
            )


@FORLOEB
def _graviditet(f: Kontaktforloeb, ctx: Kontekst) -> Iterator[Violation]:
    gravid = f.anmodning.gravid
    if f.er_kvinde and gravid is None:
        yield GRAVID_PAAKRAEVET.brud(
            f"{navn('4-ANM', 'PersonGravidKode')} skal besvares, når {navn('1-ANM', 'PersonKoenKode')} er Kvinde"
        )
    elif not f.er_kvinde and gravid is not None:
        yield GRAVID_KUN_KVINDER.brud(
            f"{navn('4-ANM', 'PersonGravidKode')} må kun besvares, når {navn('1-ANM', 'PersonKoenKode')} er Kvinde"
        )


@FORLOEB
def _kommunekode(f: Kontaktforloeb, ctx: Kontekst) -> Iterator[Violation]:
    kode = f.anmodning.kommunekode
    if kode is not None and kode != f.kommunekode:
        yield KOMMUNEKODE_AFVIGER.brud(
            f"{navn('8-ANM', 'KommuneKode')} er {kode}, men forløbet indberettes af kommune {f.kommunekode}"
        )
