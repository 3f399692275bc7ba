"""§6.1.4 Tilbudstilknytning, and the §3.1 table constraints of TILB."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date

from smdb.codes import SUBSTITUTIONSTYPER
from smdb.models import Kontaktforloeb, Tilbudstilknytning
from smdb.rules._core import Kontekst, Violation, navn, regel
from smdb.rules._forloeb import FORLOEB

START = navn("3-TILB", "TilbudTilknyttetBehandlingStartDato")
SLUT = navn("4-TILB", "TilbudTilknyttetBehandlingSlutDato")
IVAER = navn("1-IVÆR", "IvaerksatBehandlingDato")
AFSL = navn("1-AFSL", "BehandlingAfsluttetDato")

TILB_UDEN_IVAER = regel(
    "tilb_uden_ivaer",
    "6.1.4",
    ["1-TILB", "1-IVÆR"],
    "Hver tilbudstilknytning skal være knyttet til en Dato for iværksat behandling.",
)
START_FOER_IVAER = regel(
    "tilb_start_foer_ivaer", "6.1.4", ["3-TILB", "1-IVÆR"], "Tilbudsstartdato må ikke ligge før 1-IVÆR (a)."
)
INGEN_START_LIG_IVAER = regel(
    "tilb_ingen_start_lig_ivaer",
    "6.1.4",
    ["3-TILB", "1-IVÆR"],
    "Er der tilknytninger på iværksættelsen, skal mindst én Tilbudsstartdato være lig med 1-IVÆR (b).",
)
START_EFTER_SLUT = regel(
    "tilb_start_efter_slut", "6.1.4", ["3-TILB", "4-TILB"], "Tilbudsstartdato må ikke ligge efter Tilbudsslutdato (c)."
)
SLUT_UDEN_START = regel(
    "tilb_slut_uden_start",
    "6.1.4",
    ["4-TILB", "3-TILB"],
    "Tilbudsslutdato skal være tom, hvis der ikke er nogen Tilbudsstartdato (d).",
)
SLUT_MANGLER = regel(
    "tilb_slut_mangler_ved_afsl",
    "6.1.4",
    ["4-TILB", "1-AFSL"],
    "Tilbudsslutdato må ikke være tom, når forløbet har en Dato for afsluttet behandling (a); "
    "§6.1.5: et kontaktforløb kan ikke afsluttes, så længe der er uafsluttede tilbudstilknytninger.",
)
SLUT_EFTER_AFSL = regel(
    "tilb_slut_efter_afsl",
    "6.1.4",
    ["4-TILB", "1-AFSL"],
    "Tilbudsslutdato må ikke ligge efter Dato for afsluttet behandling (b); §6.1.5: 1-AFSL må ikke ligge før "
    "den seneste Tilbudsslutdato.",
)
PARALLEL_SUBSTITUTION = regel(
    "tilb_parallel_substitution",
    "6.1.4",
    ["8-TILB", "3-TILB", "4-TILB"],
    "Højest én aktiv tilbudstilknytning ad gangen med substitutionsbehandling (01, 07, 08, 05, 03); "
    "stoffri (04) og anden medicinsk (06) må ligge parallelt (a, b, c).",
)
AUTORISATION_KRAV = regel(
    "autorisation_paakraevet",
    "3.1",
    ["9-TILB", "8-TILB"],
    "AutorisationsID (5 tegn) skal angives, når behandlingstypen er forskellig fra 04 og 06.",
)
AUTORISATION_VISES = regel(
    "autorisation_vises_ikke",
    "3.1",
    ["9-TILB", "8-TILB"],
    "AutorisationsID vises kun, hvis behandlingstypen i 8-TILB er forskellig fra 04 og 06.",
)


def _periode(t: Tilbudstilknytning) -> str:
    return f"tilbud {t.tilbud_id} ({t.startdato or '?'} – {t.slutdato or 'åben'})"


@FORLOEB
def _tilb(f: Kontaktforloeb, ctx: Kontekst) -> Iterator[Violation]:
    if not f.tilbud:
        return
    iv = f.ivaerksaettelse
    afsl = f.afslutning
    if iv is None:
        yield TILB_UDEN_IVAER.brud(
            f"Forløbet har {len(f.tilbud)} tilbudstilknytning(er) men ingen iværksættelse ({IVAER})"
        )
    for nr, t in enumerate(f.tilbud):  # each violation says which tilbudstilknytning (TILB[nr])
        own = [*_datoer(t, iv.ivaerksat_dato if iv else None, afsl.afsluttet_dato if afsl else None), *_autorisation(t)]
        yield from (replace(v, nr=nr) for v in own)
    if iv is not None and not any(t.startdato == iv.ivaerksat_dato for t in f.tilbud):
        yield INGEN_START_LIG_IVAER.brud(f"Mindst én {START} skal være lig med {IVAER} ({iv.ivaerksat_dato})")
    yield from _parallel_substitution(f.tilbud)


def _datoer(t: Tilbudstilknytning, ivaer: date | None, afsl: date | None) -> Iterator[Violation]:
    if t.startdato is None:
        if t.slutdato is not None:
            yield SLUT_UDEN_START.brud(f"{_periode(t)}: {SLUT} er udfyldt, men {START} er tom")
    else:
        if ivaer is not None and t.startdato < ivaer:
            yield START_FOER_IVAER.brud(f"{_periode(t)}: {START} ligger før {IVAER} ({ivaer})")
        if t.slutdato is not None and t.startdato > t.slutdato:
            yield START_EFTER_SLUT.brud(f"{_periode(t)}: {START} ligger efter {SLUT}")
    if afsl is not None:
        if t.slutdato is None:
            yield SLUT_MANGLER.brud(
                f"{_periode(t)}: {SLUT} skal udfyldes, før forløbet kan afsluttes ({AFSL} = {afsl})"
            )
        elif t.slutdato > afsl:
            yield SLUT_EFTER_AFSL.brud(f"{_periode(t)}: {SLUT} ligger efter {AFSL} ({afsl})")


def _autorisation(t: Tilbudstilknytning) -> Iterator[Violation]:
    substitution = t.behandlingstype in SUBSTITUTIONSTYPER
    if substitution and not t.autorisations_id:
        yield AUTORISATION_KRAV.brud(
            f"{_periode(t)}: {navn('9-TILB', 'AutorisationKodeTekst')} (lægens autorisationsID) skal angives "
            f"for {navn('8-TILB', 'BehandlingTypeKode')} = {t.behandlingstype.value}"
        )
    elif not substitution and t.autorisations_id:
        yield AUTORISATION_VISES.brud(
            f"{_periode(t)}: {navn('9-TILB', 'AutorisationKodeTekst')} må ikke angives for "
            f"{navn('8-TILB', 'BehandlingTypeKode')} = {t.behandlingstype.value}"
        )


def _parallel_substitution(tilbud: list[Tilbudstilknytning]) -> Iterator[Violation]:
    """§6.1.4 c. Periods are inclusive, but handing over on the same day (one ends the day the next starts)
    is not counted as parallel: it is how a switch from one substitution drug to another is reported."""
    subst = sorted(
        (t for t in tilbud if t.behandlingstype in SUBSTITUTIONSTYPER and t.startdato is not None),
        key=lambda t: t.startdato or date.min,
    )
    for i, a in enumerate(subst):
        for b in subst[i + 1 :]:
            assert a.startdato is not None and b.startdato is not None
            if a.slutdato is None or b.startdato < a.slutdato:
                yield PARALLEL_SUBSTITUTION.brud(
                    f"{_periode(a)} og {_periode(b)} er aktive på samme tid, men substitutionsbehandlinger "
                    f"({navn('8-TILB', 'BehandlingTypeKode')} 01, 07, 08, 05, 03) udelukker hinanden"
                )
