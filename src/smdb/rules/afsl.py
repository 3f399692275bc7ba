"""§6.1.5 Afslut behandling, and the §3.1 table constraints of AFSL."""

from __future__ import annotations

from collections.abc import Iterator

from smdb.codes import AfsluttetAarsag
from smdb.models import Kontaktforloeb
from smdb.rules._betinget import betinget_felt
from smdb.rules._core import Kontekst, Violation, navn, regel
from smdb.rules._forloeb import FORLOEB

AFSL = navn("1-AFSL", "BehandlingAfsluttetDato")

AFSL_EN = regel(
    "afsl_en_pr_forloeb", "6.1.5", ["1-AFSL", "2-ANM"], "Der må kun foretages én afslutning pr. kontaktforløb."
)
AFSL_FOER_ANM = regel(
    "afsl_foer_anmodning",
    "6.1.5",
    ["1-AFSL", "2-ANM"],
    "Dato for afsluttet behandling skal være lig med eller senere end anmodningsdatoen.",
)
AFSL_FOER_IVAER = regel(
    "afsl_foer_ivaer",
    "6.1.5",
    ["1-AFSL", "1-IVÆR"],
    "1-AFSL må ikke ligge før 1-IVÆR (§6.1.5; samme betingelse som §6.1.3 c: 1-IVÆR må ikke ligge efter 1-AFSL).",
)
AFSL_IKKE_SENESTE_SLUT = regel(
    "afsl_ikke_lig_seneste_tilb_slut",
    "6.1.5",
    ["1-AFSL", "4-TILB"],
    "Er alle tilbudstilknytninger afsluttede, skal 1-AFSL være den samme som den seneste Tilbudsslutdato.",
)
_TEKST = betinget_felt(
    "afsl_tekst",
    ("3-AFSL", "BehandlingAfsluttetAarsagKode", "aarsag"),
    AfsluttetAarsag.ANDEN,
    ("3-AFSL", "BehandlingAfsluttetAarsagTekst", "aarsag_tekst"),
    "3.1",
    "3.1",
)


@FORLOEB
def _afsl(f: Kontaktforloeb, ctx: Kontekst) -> Iterator[Violation]:
    a = f.afslutning
    if a is None:
        return
    d = a.afsluttet_dato
    if f.antal_skemaer.get("AFSL", 1) > 1:
        yield AFSL_EN.brud(f"Forløbet har {f.antal_skemaer['AFSL']} afslutninger; der må kun være én")
    if d < f.anmodning.anmodningsdato:
        yield AFSL_FOER_ANM.brud(
            f"{AFSL} ({d}) ligger før {navn('2-ANM', 'BehandlingAnmodningDato')} ({f.anmodning.anmodningsdato})"
        )
    iv = f.ivaerksaettelse
    if iv is not None and d < iv.ivaerksat_dato:
        yield AFSL_FOER_IVAER.brud(
            f"{AFSL} ({d}) ligger før {navn('1-IVÆR', 'IvaerksatBehandlingDato')} ({iv.ivaerksat_dato})"
        )
    slut = [t.slutdato for t in f.tilbud]
    if slut and all(s is not None for s in slut):
        seneste = max(s for s in slut if s is not None)
        # AFSL before the latest end is reported by tilb_slut_efter_afsl; only the other direction here.
        if d > seneste:
            yield AFSL_IKKE_SENESTE_SLUT.brud(
                f"{AFSL} ({d}) skal være lig med den seneste "
                f"{navn('4-TILB', 'TilbudTilknyttetBehandlingSlutDato')} ({seneste})"
            )
    yield from _TEKST(a)
