"""§3.2 closure, §6.1.6 Indskrivning og udskrivning and §6.1.7 Registrér ydelse (provider forms)."""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import replace

from smdb.codes import IndskrivningHvorfra, Samtaleramme, UdskrivningAarsag, YdelseAfsluttetAarsag
from smdb.models import LUKKET_FRA, Indskrivningsforloeb
from smdb.rules._betinget import betinget_felt
from smdb.rules._core import Kontekst, Tjekliste, Violation, navn, regel

INDS = navn("1-INDS", "IndskrivningDato")
UDSK = navn("3-UDSK", "UdskrivningDato")
YSTART = navn("2-YDEL", "YdelseStartDato")
YSLUT = navn("4-YDEL", "YdelseSlutDato")

INDSKRIVNING = Tjekliste()

LUKKET = regel(
    "tilbudsskema_lukket",
    "3.2",
    ["1-INDS", "2-YDEL", "4-YDEL", "3-UDSK"],
    "INDS, YDEL og UDSK kan ikke indberettes for datoer fra 1. januar 2025.",
)
FREMTID = regel(
    "tilbud_dato_i_fremtiden",
    "6.1.1",
    ["1-INDS", "2-YDEL", "4-YDEL", "3-UDSK"],
    "Alle datoer skal være dags dato eller før (også i tilbudsskemaerne).",
)
EN_AABEN = regel(
    "inds_en_aaben",
    "6.1.6",
    ["1-INDS", "3-UDSK"],
    "For et tilbud må der maksimalt være én uafsluttet indskrivning for samme borger pr. myndighed (1).",
)
NEGATIV = regel("udsk_foer_inds", "6.1.6", ["3-UDSK", "1-INDS"], "En indskrivning må ikke have negativ varighed (2).")
OVERLAP = regel(
    "inds_overlap", "6.1.6", ["1-INDS", "3-UDSK"], "Indskrivninger i det samme tilbud må ikke overlappe (3)."
)
UDSK_FOER_YDEL = regel(
    "udsk_foer_ydel_slut",
    "6.1.6",
    ["3-UDSK", "4-YDEL"],
    "Udskrivningsdato må ikke ligge før seneste Slutdato for ydelser på indskrivningen (6.1.6 (4); samme "
    "betingelse som 6.1.7 (5): ydelsens Slutdato må ikke ligge efter udskrivningsdatoen).",
)
AABNE_YDELSER = regel(
    "udsk_aabne_ydelser",
    "6.1.6",
    ["3-UDSK", "4-YDEL"],
    "Der kan ikke registreres udskrivning, mens der er åbne ydelser (6.1.6 (5); også 6.1.7 (6)).",
)
UDSK_IKKE_SENESTE = regel(
    "udsk_ikke_lig_seneste_ydel_slut",
    "3.2",
    ["3-UDSK", "4-YDEL"],
    "Udskrivningsdato skal være samme som seneste YdelseSlutDato i forløbet.",
)
YDEL_START_SLUT = regel(
    "ydel_start_efter_slut",
    "6.1.7",
    ["2-YDEL", "4-YDEL"],
    "En ydelses Startdato kan ikke ligge efter dens Slutdato (3).",
)
YDEL_FOER_INDS = regel(
    "ydel_start_foer_inds",
    "6.1.7",
    ["2-YDEL", "1-INDS"],
    "En ydelses Startdato kan ikke ligge før indskrivningsdatoen (6.1.7 (4); også 6.1.6 (6)).",
)
_INDS_TEKST = betinget_felt(
    "inds_hvorfra_tekst",
    ("4-INDS", "IndskrivningHvorfraKode", "hvorfra"),
    IndskrivningHvorfra.ANDET,
    ("5-INDS", "IndskrivningHvorfraTekst", "hvorfra_tekst"),
    "3.2",
    "3.2",
)
_YDEL_PERIODE = betinget_felt(
    "ydel_planlagt_periode",
    ("5-YDEL", "ConsultationTypeCode", "samtaleramme"),
    Samtaleramme.AFGRAENSET,
    ("6-YDEL", "PlannedPeriodCode", "planlagt_periode"),
    "3.2",
    None,
)
_YDEL_TEKST = betinget_felt(
    "ydel_afsluttet_tekst",
    ("3-YDEL", "YdelseAfsluttetAarsagKode", "afsluttet_aarsag"),
    YdelseAfsluttetAarsag.ANDEN,
    ("11-YDEL", "OtherTerminationReasonDescription", "afsluttet_tekst"),
    "3.2",
    "3.2",
)
_UDSK_TEKST = betinget_felt(
    "udsk_aarsag_tekst",
    ("4-UDSK", "UdskrivningAarsagKode", "aarsag"),
    UdskrivningAarsag.ANDEN,
    ("5-UDSK", "UdskrivningAarsagTekst", "aarsag_tekst"),
    "3.2",
    "3.2",
)


@INDSKRIVNING
def _datoer(f: Indskrivningsforloeb, ctx: Kontekst) -> Iterator[Violation]:
    datoer = [("1-INDS", INDS, f.indskrivning.indskrivningsdato)]
    for y in f.ydelser:
        datoer.append(("2-YDEL", YSTART, y.startdato))
        if y.slutdato is not None:
            datoer.append(("4-YDEL", YSLUT, y.slutdato))
    if f.udskrivning is not None:
        datoer.append(("3-UDSK", UDSK, f.udskrivning.udskrivningsdato))
    for felt_id, label, d in datoer:
        if d >= LUKKET_FRA:
            yield LUKKET.brud(
                f"{label} er {d}: INDS, YDEL og UDSK kan ikke indberettes for datoer fra {LUKKET_FRA}; "
                "behandling på tilbud indberettes af myndigheden via TILB",
                [felt_id],
            )
        if d > ctx.today:
            yield FREMTID.brud(f"{label} ({d}) ligger efter dags dato ({ctx.today})", [felt_id])


@INDSKRIVNING
def _ydelser(f: Indskrivningsforloeb, ctx: Kontekst) -> Iterator[Violation]:
    inds = f.indskrivning.indskrivningsdato
    yield from _INDS_TEKST(f.indskrivning)
    for y in f.ydelser:
        if y.slutdato is not None and y.startdato > y.slutdato:
            yield YDEL_START_SLUT.brud(f"{YSTART} ({y.startdato}) ligger efter {YSLUT} ({y.slutdato})")
        if y.startdato < inds:
            yield YDEL_FOER_INDS.brud(f"{YSTART} ({y.startdato}) ligger før {INDS} ({inds})")
        yield from _YDEL_PERIODE(y)
        yield from _YDEL_TEKST(y)


@INDSKRIVNING
def _udskrivning(f: Indskrivningsforloeb, ctx: Kontekst) -> Iterator[Violation]:
    if f.udskrivning is None:
        return
    udsk = f.udskrivning.udskrivningsdato
    inds = f.indskrivning.indskrivningsdato
    if udsk < inds:
        yield NEGATIV.brud(f"{UDSK} ({udsk}) ligger før {INDS} ({inds})")
    slut = [y.slutdato for y in f.ydelser]
    if any(s is None for s in slut):
        yield AABNE_YDELSER.brud(f"{UDSK} kan ikke udfyldes, mens en ydelse mangler {YSLUT}")
    elif slut:
        seneste = max(s for s in slut if s is not None)
        if udsk < seneste:
            yield UDSK_FOER_YDEL.brud(f"{UDSK} ({udsk}) ligger før seneste {YSLUT} ({seneste})")
        elif udsk > seneste:
            yield UDSK_IKKE_SENESTE.brud(f"{UDSK} ({udsk}) skal være samme som seneste {YSLUT} ({seneste})")
    yield from _UDSK_TEKST(f.udskrivning)


def paa_tvaers(forloeb: Sequence[tuple[int, Indskrivningsforloeb]]) -> Iterator[Violation]:
    """§6.1.6 (1) and (3): rules over all enrolments of one citizen at one offer for one authority."""
    grupper: dict[tuple[str, int, int], list[tuple[int, Indskrivningsforloeb]]] = defaultdict(list)
    for idx, f in forloeb:
        i = f.indskrivning
        grupper[(str(i.cpr), i.tilbud_id, i.myndighed)].append((idx, f))
    for (_, tilbud, myndighed), items in grupper.items():
        aabne = [idx for idx, f in items if f.udskrivning is None]
        for idx in aabne[1:]:
            yield _med_index(
                EN_AABEN.brud(
                    f"Borgeren har {len(aabne)} uafsluttede indskrivninger i tilbud {tilbud} for myndighed "
                    f"{myndighed}; der må kun være én"
                ),
                idx,
            )
        perioder = sorted(
            (
                (f.indskrivning.indskrivningsdato, f.udskrivning.udskrivningsdato if f.udskrivning else None, idx)
                for idx, f in items
            ),
            key=lambda p: (p[0], p[2]),
        )
        for (a_start, a_slut, _), (b_start, b_slut, b_idx) in itertools.pairwise(perioder):
            # Two open enrolments are reported by inds_en_aaben; an open one swallows any later one.
            inden_for = b_slut is not None if a_slut is None else b_start < a_slut
            if inden_for:
                yield _med_index(
                    OVERLAP.brud(
                        f"Indskrivningen {b_start} i tilbud {tilbud} ligger inden for en anden indskrivning "
                        f"({a_start} – {a_slut or 'åben'})"
                    ),
                    b_idx,
                )


def _med_index(v: Violation, idx: int) -> Violation:
    return replace(v, forloeb=idx)
