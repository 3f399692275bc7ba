"""§6.1.8 Kvalitet i den lægefaglige behandling / Hepatitis C, and the §3.3 table constraints."""

from __future__ import annotations

from collections.abc import Iterator

from smdb.codes import SUBSTITUTIONSTYPER, DeltVaerktoej
from smdb.models import Kontaktforloeb
from smdb.rules._core import Kontekst, Violation, navn, regel
from smdb.rules._forloeb import FORLOEB
from smdb.rules.ivaer import HAR_INJICERET

KVALHEP_EN = regel(
    "kvalhep_en_pr_ivaer",
    "6.1.8",
    ["KvalHep", "1-IVÆR"],
    "Der må maksimalt være ét KvalHep-skema for hver iværksættelse (2).",
)
KVALHEP_FORUDSAETNING = regel(
    "kvalhep_uden_ivaer_eller_tilb",
    "6.1.8",
    ["KvalHep", "1-IVÆR", "1-TILB"],
    "KvalHep kræver, at behandlingen er iværksat og har et tilbud tilknyttet af den indberettende myndighed (1).",
)
KVALHEP_RISIKOGRUPPE = regel(
    "kvalhep_ikke_risikogruppe",
    "6.1.8",
    ["KvalHep", "8-TILB", "32-IVÆR", "33-IVÆR"],
    "KvalHep udfyldes kun ved substitutionsbehandling (8-TILB 01, 07, 08, 05, 03) eller når 32-IVÆR eller "
    "33-IVÆR er 03, 04 eller 05 (3).",
)
KVALHEP_KUN_KVINDER = regel(
    "kvalhep_antikonception_kun_kvinder",
    "3.3",
    ["9-KVAL", "10-KVAL", "1-ANM"],
    "9-KVAL og 10-KVAL vises kun, hvis borgeren er kvinde.",
)

_HAR_DELT = frozenset({DeltVaerktoej.IKKE_SENESTE_12_MDR, DeltVaerktoej.SENESTE_12_MDR, DeltVaerktoej.SENESTE_30_DAGE})


def i_risikogruppe(f: Kontaktforloeb) -> bool:
    """§6.1.8 (3): substitution treatment, or has injected / shared equipment (03, 04, 05)."""
    if any(t.behandlingstype in SUBSTITUTIONSTYPER for t in f.tilbud):
        return True
    iv = f.ivaerksaettelse
    return iv is not None and (iv.injektion in HAR_INJICERET or iv.delt_vaerktoej in _HAR_DELT)


@FORLOEB
def _kvalhep(f: Kontaktforloeb, ctx: Kontekst) -> Iterator[Violation]:
    k = f.kvalhep
    if k is None:
        return
    if f.antal_skemaer.get("KvalHep", 1) > 1:
        yield KVALHEP_EN.brud(
            f"Iværksættelsen har {f.antal_skemaer['KvalHep']} KvalHep-skemaer; der må maksimalt være ét"
        )
    if f.ivaerksaettelse is None or not f.tilbud:
        yield KVALHEP_FORUDSAETNING.brud(
            "KvalHep kan først indberettes, når behandlingen er iværksat "
            f"({navn('1-IVÆR', 'IvaerksatBehandlingDato')}) og har en tilbudstilknytning ({navn('1-TILB', 'TilbudId')})"
        )
    elif not i_risikogruppe(f):
        yield KVALHEP_RISIKOGRUPPE.brud(
            "KvalHep udfyldes kun for borgere i risikogruppen: substitutionsbehandling i "
            f"{navn('8-TILB', 'BehandlingTypeKode')}, eller injektion/deling af værktøj (03, 04, 05) i "
            f"{navn('32-IVÆR', 'PersonNogensindeInjiceretEllerInjicererForTidenKode')} / "
            f"{navn('33-IVÆR', 'PersonNogensindeDeltEllerDelerVaerktoejForTidenKode')}"
        )
    if not f.er_kvinde and (k.antikonception_raadgivet is not None or k.antikonception_ivaerksat is not None):
        yield KVALHEP_KUN_KVINDER.brud(
            f"{navn('9-KVAL', 'BehandlingModtagetAntikonceptionRaadgivetKode')} og "
            f"{navn('10-KVAL', 'BehandlingAntikonceptionIvaerksatKode')} må kun besvares for kvinder "
            f"({navn('1-ANM', 'PersonKoenKode')} = 00)"
        )
