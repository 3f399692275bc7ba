"""Every rule: one case that fails on exactly that rule, and a nearby case that passes.

Each case starts from a valid example course (:mod:`smdb.eksempler`) and changes as little as possible.
``test_every_rule_has_a_case`` makes it impossible to add a rule without a test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest

from smdb import eksempler as ex
from smdb.rules import REGLER, Violation, parse_and_validate

TODAY = date(2025, 6, 1)
Data = Any


def base(**kw: Any) -> dict[str, Any]:
    return ex.kontaktforloeb(**kw)


def mand(**kw: Any) -> dict[str, Any]:
    return ex.kontaktforloeb(cpr=ex.CPR_MAND, kvinde=False, **kw)


def inds() -> dict[str, Any]:
    return ex.indskrivningsforloeb()


def iv(c: dict[str, Any], **fields: Any) -> dict[str, Any]:
    for k, v in fields.items():
        if v is None:
            c["IVÆR"].pop(k, None)
        else:
            c["IVÆR"][k] = v
    return c


def sæt(c: dict[str, Any], form: str, **fields: Any) -> dict[str, Any]:
    target = c[form]
    for k, v in fields.items():
        if v is None:
            target.pop(k, None)
        else:
            target[k] = v
    return c


def tilb(c: dict[str, Any], i: int, **fields: Any) -> dict[str, Any]:
    for k, v in fields.items():
        if v is None:
            c["TILB"][i].pop(k, None)
        else:
            c["TILB"][i][k] = v
    return c


def sen_iv(c: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """Anmodning 2024-02-20: iværksættelse 2024-03-10 is 19 days later, so 4-IVÆR may be answered."""
    c["ANM"]["BehandlingAnmodningDato"] = "2024-02-20"
    return iv(c, LaegesamtaleAfholdtDato="2024-02-25", **fields)


def ung(c: dict[str, Any]) -> dict[str, Any]:
    """A 16-year-old (born 2008-03-03) with first-use ages that fit."""
    c["ANM"]["PersonIdentifikator"] = ex.CPR_UNG
    for k in list(c["IVÆR"]):
        if k.endswith("FoersteBrugAlderKvantitet"):
            c["IVÆR"][k] = 13
    c["IVÆR"]["PersonFoersteSubstitutionsbehandlingAlderKvantitet"] = 15
    return c


def andre_stoffer(c: dict[str, Any], dage: int) -> dict[str, Any]:
    return iv(
        c,
        AndreStofferDageIndtagetSenesteMaanedKvantitet=dage,
        AndreStofferFoersteBrugAlderKvantitet=20,
        AndreStofferIndtagelseshyppighedKode="01",
        AndreStofferTypiskIndtagelsesmaadeKode="03",
    )


def uden_ivaer(c: dict[str, Any]) -> dict[str, Any]:
    for k in ("IVÆR", "KvalHep"):
        c.pop(k, None)
    return c


def ydel(c: dict[str, Any], **fields: Any) -> dict[str, Any]:
    for k, v in fields.items():
        if v is None:
            c["YDEL"][0].pop(k, None)
        else:
            c["YDEL"][0][k] = v
    return c


def to_indskrivninger(tilbud_b: int, b_start: str, b_slut: str | None) -> list[dict[str, Any]]:
    a = inds()
    b = inds()
    b["INDS"]["TilbudId"] = tilbud_b
    b["INDS"]["IndskrivningDato"] = b_start
    ydel(b, YdelseStartDato=b_start, YdelseSlutDato=b_slut)
    if b_slut is None:
        b.pop("UDSK")
        a.pop("UDSK")
        ydel(a, YdelseSlutDato=None)
    else:
        b["UDSK"]["UdskrivningDato"] = b_slut
    return [a, b]


@dataclass(frozen=True)
class Case:
    fail: Callable[[], Data]
    ok: Callable[[], Data]
    today: date = TODAY
    today_ok: date | None = None


K = "BehandlingAfsluttetAarsagKode"
T = "BehandlingAfsluttetAarsagTekst"

CASES: dict[str, Case] = {
    # ---- §6.1.1, §6.1.2 and ANM table
    "dato_i_fremtiden": Case(lambda: base(), lambda: base(), today=date(2024, 9, 5), today_ok=date(2024, 9, 6)),
    "gravid_paakraevet": Case(
        lambda: sæt(base(), "ANM", PersonGravidKode=None), lambda: sæt(base(), "ANM", PersonGravidKode="99")
    ),
    "gravid_kun_kvinder": Case(lambda: sæt(mand(), "ANM", PersonGravidKode="02"), lambda: mand()),
    "kommunekode_afviger": Case(
        lambda: sæt(base(), "ANM", KommuneKode=147), lambda: sæt(base(), "ANM", KommuneKode=101)
    ),
    "en_aaben_anmodning": Case(
        lambda: [base(afsluttet_efter_dage=None), base(afsluttet_efter_dage=None)],
        lambda: [base(afsluttet_efter_dage=None), base(afsluttet_efter_dage=None, kommunekode=147)],
    ),
    # ---- §6.1.3
    "ivaer_en_pr_anmodning": Case(
        lambda: (lambda c: {**c, "IVÆR": [c["IVÆR"], c["IVÆR"]]})(base()),
        lambda: (lambda c: {**c, "IVÆR": [c["IVÆR"]]})(base()),
    ),
    "ivaer_foer_anmodning": Case(
        lambda: iv(sæt(base(), "ANM", BehandlingAnmodningDato="2024-03-11"), LaegesamtaleAfholdtDato=None),
        lambda: iv(sæt(base(), "ANM", BehandlingAnmodningDato="2024-03-10"), LaegesamtaleAfholdtDato=None),
    ),
    "afledt_vaerdi_afviger": Case(
        lambda: iv(base(), IvaerksatBehandlingDageSidenAnmodningKvantitet=10),
        lambda: iv(
            base(), IvaerksatBehandlingDageSidenAnmodningKvantitet=9, PersonIvaerksatBehandlingAlderKvantitet=34
        ),
    ),
    "laegesamtale_foer_anmodning": Case(
        lambda: iv(base(), LaegesamtaleAfholdtDato="2024-02-28"),
        lambda: iv(base(), LaegesamtaleAfholdtDato="2024-03-01"),
    ),
    "laegesamtale_tidsfrist_aarsag_paakraevet": Case(
        lambda: iv(base(), LaegesamtaleAfholdtDato="2024-03-11"),
        lambda: iv(
            base(), LaegesamtaleAfholdtDato="2024-03-11", LaegesamtaleIkkeAfholdtAarsagTidsfristOverskredetKode="04"
        ),
    ),
    "laegesamtale_tidsfrist_aarsag_vises_ikke": Case(
        lambda: iv(base(), LaegesamtaleIkkeAfholdtAarsagTidsfristOverskredetKode="01"),
        lambda: iv(
            base(), LaegesamtaleAfholdtDato="2024-03-16", LaegesamtaleIkkeAfholdtAarsagTidsfristOverskredetKode="01"
        ),
    ),
    "laegesamtale_tekst_paakraevet": Case(
        lambda: iv(
            base(), LaegesamtaleAfholdtDato="2024-03-11", LaegesamtaleIkkeAfholdtAarsagTidsfristOverskredetKode="06"
        ),
        lambda: iv(
            base(),
            LaegesamtaleAfholdtDato="2024-03-11",
            LaegesamtaleIkkeAfholdtAarsagTidsfristOverskredetKode="06",
            LaegesamtaleIkkeAfholdtAarsagTidsfristOverskredetTekst="Lægen var syg",
        ),
    ),
    "laegesamtale_tekst_vises_ikke": Case(
        lambda: iv(
            base(),
            LaegesamtaleAfholdtDato="2024-03-11",
            LaegesamtaleIkkeAfholdtAarsagTidsfristOverskredetKode="01",
            LaegesamtaleIkkeAfholdtAarsagTidsfristOverskredetTekst="Lægen var syg",
        ),
        lambda: iv(
            base(),
            LaegesamtaleAfholdtDato="2024-03-11",
            LaegesamtaleIkkeAfholdtAarsagTidsfristOverskredetKode="06",
            LaegesamtaleIkkeAfholdtAarsagTidsfristOverskredetTekst="Lægen var syg",
        ),
    ),
    "garanti_aarsag_vises_ikke": Case(
        lambda: iv(base(), BehandlingGarantiOverskredetAarsagKode="01"),
        lambda: sen_iv(base(), BehandlingGarantiOverskredetAarsagKode="01"),
    ),
    "garanti_frit_valg_under_18": Case(
        lambda: sen_iv(ung(base()), BehandlingGarantiOverskredetAarsagKode="05"),
        lambda: sen_iv(ung(base()), BehandlingGarantiOverskredetAarsagKode="06"),
    ),
    "garanti_samtykke_18_eller_over": Case(
        lambda: sen_iv(base(), BehandlingGarantiOverskredetAarsagKode="06"),
        lambda: sen_iv(base(), BehandlingGarantiOverskredetAarsagKode="05"),
    ),
    "garanti_tekst_paakraevet": Case(
        lambda: sen_iv(base(), BehandlingGarantiOverskredetAarsagKode="07"),
        lambda: sen_iv(
            base(), BehandlingGarantiOverskredetAarsagKode="07", BehandlingGarantiOverskredetAarsagTekst="Ombygning"
        ),
    ),
    "garanti_tekst_vises_ikke": Case(
        lambda: sen_iv(
            base(), BehandlingGarantiOverskredetAarsagKode="01", BehandlingGarantiOverskredetAarsagTekst="Ombygning"
        ),
        lambda: sen_iv(
            base(), BehandlingGarantiOverskredetAarsagKode="07", BehandlingGarantiOverskredetAarsagTekst="Ombygning"
        ),
    ),
    "screening_tekst_paakraevet": Case(
        lambda: iv(base(), ScreeningsvaerktoejAnvendtIvaerksaetKode="05"),
        lambda: iv(
            base(), ScreeningsvaerktoejAnvendtIvaerksaetKode="05", ScreeningsvaerktoejAnvendtIvaerksaetTekst="AUDIT"
        ),
    ),
    "screening_tekst_vises_ikke": Case(
        lambda: iv(base(), ScreeningsvaerktoejAnvendtIvaerksaetTekst="AUDIT"),
        lambda: iv(
            base(), ScreeningsvaerktoejAnvendtIvaerksaetKode="05", ScreeningsvaerktoejAnvendtIvaerksaetTekst="AUDIT"
        ),
    ),
    "grundskole_paakraevet": Case(
        lambda: iv(base(), PersonGrundskoleuddannelseKode=None),
        lambda: iv(base(), PersonGrundskoleuddannelseKode="99"),
    ),
    "ungdomsuddannelse_paakraevet": Case(
        lambda: iv(base(), PersonVideregaaendeUddannelseKode="06", PersonUngdomsuddannelseKode=None),
        lambda: iv(base(), PersonVideregaaendeUddannelseKode="01", PersonUngdomsuddannelseKode=None),
    ),
    "stof_alder_over_alder": Case(
        lambda: iv(base(), IllegalHeroinFoersteBrugAlderKvantitet=35),
        lambda: iv(base(), IllegalHeroinFoersteBrugAlderKvantitet=34),
    ),
    "stof_ufuldstaendig": Case(
        lambda: iv(base(), IllegalHeroinIndtagelseshyppighedKode=None),
        lambda: iv(
            base(),
            IllegalHeroinFoersteBrugAlderKvantitet=None,
            IllegalHeroinFoersteBrugAlderVilIkkeOplyseIndikator=True,
        ),
    ),
    "stof_ugyldig_indtagelsesmaade": Case(
        lambda: iv(base(), AlkoholTypiskIndtagelsesmaadeKode="01"),
        lambda: iv(base(), AlkoholTypiskIndtagelsesmaadeKode="99"),
    ),
    "andre_stoffer_kommentar_paakraevet": Case(
        lambda: andre_stoffer(base(), 3),
        lambda: iv(andre_stoffer(base(), 3), KommentarOmkringAndreStoffer="GHB"),
    ),
    "andre_stoffer_kommentar_vises_ikke": Case(
        lambda: iv(base(), KommentarOmkringAndreStoffer="GHB"),
        lambda: iv(andre_stoffer(base(), 0), KommentarOmkringAndreStoffer="GHB"),
    ),
    "hovedstof_paakraevet": Case(
        lambda: iv(base(), PersonAktueltHovedstofKode=None),
        lambda: iv(base(), PersonAktueltHovedstofKode=None, PersonHovedstofAngivelseIkkeMuligIndikator=True),
    ),
    "hovedstof_vises_ikke": Case(
        lambda: iv(base(), PersonHovedstofAngivelseIkkeMuligIndikator=True),
        lambda: iv(base(), PersonAktueltHovedstofKode="13"),
    ),
    "injektion_paakraevet": Case(
        lambda: iv(base(), PersonNogensindeInjiceretEllerInjicererForTidenKode=None),
        lambda: iv(base(), PersonNogensindeInjiceretEllerInjicererForTidenKode="06"),
    ),
    "deling_paakraevet": Case(
        lambda: iv(base(), PersonNogensindeDeltEllerDelerVaerktoejForTidenKode=None),
        lambda: iv(base(), PersonNogensindeDeltEllerDelerVaerktoejForTidenKode="99"),
    ),
    "foerste_injektion_paakraevet": Case(
        lambda: iv(base(), PersonFoersteInjektionAlderKode=None),
        lambda: iv(
            base(), PersonFoersteInjektionAlderKode=None, PersonNogensindeInjiceretEllerInjicererForTidenKode="01"
        ),
    ),
    "foerste_injektion_aldrig_modstrid": Case(
        lambda: iv(
            base(), PersonNogensindeInjiceretEllerInjicererForTidenKode="04", PersonFoersteInjektionAlderKode="08"
        ),
        lambda: iv(
            base(), PersonNogensindeInjiceretEllerInjicererForTidenKode="06", PersonFoersteInjektionAlderKode="08"
        ),
    ),
    "hcv_test_paakraevet": Case(
        lambda: iv(base(), PersonNogensindeTestetHCVKode=None), lambda: iv(base(), PersonNogensindeTestetHCVKode="05")
    ),
    "hiv_test_paakraevet": Case(
        lambda: iv(base(), PersonNogensindeTestetHIVKode=None), lambda: iv(base(), PersonNogensindeTestetHIVKode="05")
    ),
    "substitution_paakraevet": Case(
        lambda: iv(base(), PersonNogensindeSubstitutionsbehandlingKode=None),
        lambda: iv(base(), PersonNogensindeSubstitutionsbehandlingKode="01"),
    ),
    "substitution_alder_paakraevet": Case(
        lambda: iv(base(), PersonFoersteSubstitutionsbehandlingAlderKvantitet=None),
        lambda: iv(
            base(),
            PersonFoersteSubstitutionsbehandlingAlderKvantitet=None,
            PersonNogensindeSubstitutionsbehandlingKode="99",
        ),
    ),
    # ---- §6.1.4
    "tilb_uden_ivaer": Case(lambda: uden_ivaer(base()), lambda: {**uden_ivaer(base()), "TILB": []}),
    "tilb_start_foer_ivaer": Case(
        lambda: (
            lambda c: c["TILB"].append({**c["TILB"][0], "TilbudTilknyttetBehandlingStartDato": "2024-03-09"}) or c
        )(base()),
        lambda: (
            lambda c: c["TILB"].append({**c["TILB"][0], "TilbudTilknyttetBehandlingStartDato": "2024-03-11"}) or c
        )(base()),
    ),
    "tilb_ingen_start_lig_ivaer": Case(
        lambda: tilb(
            tilb(base(), 0, TilbudTilknyttetBehandlingStartDato="2024-03-11"),
            1,
            TilbudTilknyttetBehandlingStartDato="2024-03-11",
        ),
        lambda: tilb(base(), 0, TilbudTilknyttetBehandlingStartDato="2024-03-11"),
    ),
    "tilb_start_efter_slut": Case(
        lambda: tilb(
            base(), 0, TilbudTilknyttetBehandlingStartDato="2024-05-01", TilbudTilknyttetBehandlingSlutDato="2024-04-01"
        ),
        lambda: tilb(
            base(), 0, TilbudTilknyttetBehandlingStartDato="2024-05-01", TilbudTilknyttetBehandlingSlutDato="2024-05-01"
        ),
    ),
    "tilb_slut_uden_start": Case(
        lambda: tilb(
            base(afsluttet_efter_dage=None),
            0,
            TilbudTilknyttetBehandlingStartDato=None,
            TilbudTilknyttetBehandlingSlutDato="2024-04-01",
        ),
        lambda: tilb(base(afsluttet_efter_dage=None), 0, TilbudTilknyttetBehandlingStartDato=None),
    ),
    "tilb_slut_mangler_ved_afsl": Case(
        lambda: tilb(base(), 0, TilbudTilknyttetBehandlingSlutDato=None),
        lambda: tilb(base(), 0, TilbudTilknyttetBehandlingSlutDato="2024-06-01"),
    ),
    "tilb_slut_efter_afsl": Case(
        lambda: tilb(base(), 0, TilbudTilknyttetBehandlingSlutDato="2024-09-07"),
        lambda: tilb(base(), 0, TilbudTilknyttetBehandlingSlutDato="2024-09-05"),
    ),
    "tilb_parallel_substitution": Case(
        lambda: (lambda c: c["TILB"].append({**c["TILB"][1], "TilbudId": 1003, "BehandlingTypeKode": "07"}) or c)(
            base()
        ),
        lambda: (
            lambda c: (
                c["TILB"].append(
                    {
                        **c["TILB"][1],
                        "TilbudId": 1003,
                        "BehandlingTypeKode": "07",
                        "TilbudTilknyttetBehandlingStartDato": "2024-05-01",
                    }
                )
                or tilb(c, 1, TilbudTilknyttetBehandlingSlutDato="2024-05-01")
            )
        )(base()),
    ),
    "autorisation_paakraevet": Case(
        lambda: tilb(base(), 1, AutorisationKodeTekst=None),
        lambda: tilb(base(), 1, AutorisationKodeTekst=None, BehandlingTypeKode="06"),
    ),
    "autorisation_vises_ikke": Case(
        lambda: tilb(base(), 0, AutorisationKodeTekst="0C4TX"),
        lambda: tilb(base(), 0, BehandlingTypeKode="06"),
    ),
    # ---- §6.1.5
    "afsl_en_pr_forloeb": Case(
        lambda: (lambda c: {**c, "AFSL": [c["AFSL"], c["AFSL"]]})(base()),
        lambda: (lambda c: {**c, "AFSL": [c["AFSL"]]})(base()),
    ),
    "afsl_foer_anmodning": Case(
        lambda: sæt(base(dage_til_ivaerksaettelse=None), "AFSL", BehandlingAfsluttetDato="2024-02-28"),
        lambda: sæt(base(dage_til_ivaerksaettelse=None), "AFSL", BehandlingAfsluttetDato="2024-03-01"),
    ),
    "afsl_foer_ivaer": Case(
        lambda: sæt(
            {**uden_ivaer(base()), "IVÆR": base()["IVÆR"], "TILB": []}, "AFSL", BehandlingAfsluttetDato="2024-03-09"
        ),
        lambda: sæt(
            {**uden_ivaer(base()), "IVÆR": base()["IVÆR"], "TILB": []}, "AFSL", BehandlingAfsluttetDato="2024-03-10"
        ),
    ),
    "afsl_ikke_lig_seneste_tilb_slut": Case(
        lambda: sæt(base(), "AFSL", BehandlingAfsluttetDato="2024-09-07"),
        lambda: sæt(
            tilb(base(), 0, TilbudTilknyttetBehandlingSlutDato="2024-09-07"),
            "AFSL",
            BehandlingAfsluttetDato="2024-09-07",
        ),
    ),
    "afsl_tekst_paakraevet": Case(
        lambda: sæt(base(), "AFSL", **{K: "10"}), lambda: sæt(base(), "AFSL", **{K: "10", T: "Systemskifte"})
    ),
    "afsl_tekst_vises_ikke": Case(
        lambda: sæt(base(), "AFSL", **{T: "Systemskifte"}), lambda: sæt(base(), "AFSL", **{K: "10", T: "Systemskifte"})
    ),
    # ---- §6.1.8 and §3.3
    "kvalhep_en_pr_ivaer": Case(
        lambda: (lambda c: {**c, "KvalHep": [c["KvalHep"], c["KvalHep"]]})(base()),
        lambda: (lambda c: {**c, "KvalHep": [c["KvalHep"]]})(base()),
    ),
    "kvalhep_uden_ivaer_eller_tilb": Case(
        lambda: {**base(dage_til_ivaerksaettelse=None), "KvalHep": ex.kvalhep(kvinde=True)},
        lambda: base(dage_til_ivaerksaettelse=None),
    ),
    "kvalhep_ikke_risikogruppe": Case(
        lambda: {
            **iv(
                mand(substitution=False),
                PersonNogensindeInjiceretEllerInjicererForTidenKode="01",
                PersonFoersteInjektionAlderKode=None,
            ),
            "KvalHep": ex.kvalhep(kvinde=False),
        },
        lambda: {
            **iv(mand(substitution=False), PersonNogensindeInjiceretEllerInjicererForTidenKode="01"),
            "KvalHep": ex.kvalhep(kvinde=False),
            "IVÆR": {
                **mand()["IVÆR"],
                "PersonNogensindeInjiceretEllerInjicererForTidenKode": "01",
                "PersonNogensindeDeltEllerDelerVaerktoejForTidenKode": "04",
            },
        },
    ),
    "kvalhep_antikonception_kun_kvinder": Case(
        lambda: sæt(mand(), "KvalHep", BehandlingModtagetAntikonceptionRaadgivetKode="01"),
        lambda: mand(),
    ),
    # ---- §3 table constraints found while parsing
    "paakraevet": Case(lambda: sæt(base(), "ANM", BehandlingAnmodningDato=None), lambda: base()),
    "kode_ugyldig": Case(
        lambda: sæt(base(), "ANM", BehandlingTidligereKode="03"),
        lambda: sæt(base(), "ANM", BehandlingTidligereKode="99"),
    ),
    "ukendt_felt": Case(
        lambda: sæt(base(), "ANM", PersonAlder=34),
        lambda: (
            lambda c: sæt(
                c,
                "ANM",
                PersonPsykiskFunktionsnedsaettelseKode=c["ANM"].pop("PersonPsykiskFunktionsnedsættelseKode"),
            )
        )(base()),
    ),
    "for_lang": Case(
        lambda: sæt(base(), "AFSL", **{K: "10", T: "x" * 401}), lambda: sæt(base(), "AFSL", **{K: "10", T: "x" * 400})
    ),
    "udenfor_interval": Case(
        lambda: iv(base(), IllegalHeroinDageIndtagetSenesteMaanedKvantitet=31),
        lambda: iv(base(), IllegalHeroinDageIndtagetSenesteMaanedKvantitet=30),
    ),
    "format_ugyldig": Case(
        lambda: iv(base(), PersonStatsborgerskabKode="510"), lambda: iv(base(), PersonStatsborgerskabKode="99")
    ),
    "cpr_ugyldig": Case(
        lambda: sæt(base(), "ANM", PersonIdentifikator="3102904322"),
        lambda: sæt(base(), "ANM", PersonIdentifikator="310190-4322"),
    ),
    "dato_ugyldig": Case(
        lambda: sæt(base(), "ANM", BehandlingAnmodningDato="2024-02-30"),
        lambda: sæt(base(), "ANM", BehandlingAnmodningDato="2024-02-29"),
    ),
    "forkert_type": Case(
        lambda: iv(base(), PersonBoernMedKontaktKvantitet="1"), lambda: iv(base(), PersonBoernMedKontaktKvantitet=1)
    ),
    # ---- §3.2, §6.1.6, §6.1.7 (provider forms)
    "tilbudsskema_lukket": Case(
        lambda: ex.indskrivningsforloeb(indskrevet=date(2025, 1, 5)),
        lambda: ex.indskrivningsforloeb(indskrevet=date(2024, 10, 1)),
    ),
    "tilbud_dato_i_fremtiden": Case(lambda: inds(), lambda: inds(), today=date(2024, 3, 31), today_ok=date(2024, 4, 1)),
    "inds_en_aaben": Case(
        lambda: to_indskrivninger(1002, "2024-03-01", None), lambda: to_indskrivninger(1003, "2024-03-01", None)
    ),
    "inds_overlap": Case(
        lambda: to_indskrivninger(1002, "2024-03-01", "2024-05-01"),
        lambda: to_indskrivninger(1002, "2024-04-01", "2024-05-01"),
    ),
    "udsk_foer_inds": Case(
        lambda: sæt({**inds(), "YDEL": []}, "UDSK", UdskrivningDato="2024-01-31"),
        lambda: sæt({**inds(), "YDEL": []}, "UDSK", UdskrivningDato="2024-02-01"),
    ),
    "udsk_foer_ydel_slut": Case(
        lambda: sæt(inds(), "UDSK", UdskrivningDato="2024-03-31"),
        lambda: sæt(inds(), "UDSK", UdskrivningDato="2024-04-01"),
    ),
    "udsk_aabne_ydelser": Case(lambda: ydel(inds(), YdelseSlutDato=None), lambda: inds()),
    "udsk_ikke_lig_seneste_ydel_slut": Case(
        lambda: sæt(inds(), "UDSK", UdskrivningDato="2024-04-02"),
        lambda: ydel(sæt(inds(), "UDSK", UdskrivningDato="2024-04-02"), YdelseSlutDato="2024-04-02"),
    ),
    "ydel_start_efter_slut": Case(
        lambda: ydel(inds(), YdelseStartDato="2024-04-02", YdelseSlutDato="2024-04-01"),
        lambda: ydel(inds(), YdelseStartDato="2024-04-01", YdelseSlutDato="2024-04-01"),
    ),
    "ydel_start_foer_inds": Case(
        lambda: ydel(inds(), YdelseStartDato="2024-01-31"), lambda: ydel(inds(), YdelseStartDato="2024-02-01")
    ),
    "inds_hvorfra_tekst_paakraevet": Case(
        lambda: sæt(inds(), "INDS", IndskrivningHvorfraKode="08"),
        lambda: sæt(inds(), "INDS", IndskrivningHvorfraKode="08", IndskrivningHvorfraTekst="Bosted"),
    ),
    "inds_hvorfra_tekst_vises_ikke": Case(
        lambda: sæt(inds(), "INDS", IndskrivningHvorfraTekst="Bosted"),
        lambda: sæt(inds(), "INDS", IndskrivningHvorfraKode="08", IndskrivningHvorfraTekst="Bosted"),
    ),
    "ydel_planlagt_periode_vises_ikke": Case(
        lambda: ydel(inds(), ConsultationTypeCode="01"),
        lambda: ydel(inds(), ConsultationTypeCode="01", PlannedPeriodCode=None),
    ),
    "ydel_afsluttet_tekst_paakraevet": Case(
        lambda: ydel(inds(), YdelseAfsluttetAarsagKode="10"),
        lambda: ydel(inds(), YdelseAfsluttetAarsagKode="10", OtherTerminationReasonDescription="Flyttet tilbud"),
    ),
    "ydel_afsluttet_tekst_vises_ikke": Case(
        lambda: ydel(inds(), OtherTerminationReasonDescription="Flyttet tilbud"),
        lambda: ydel(inds(), YdelseAfsluttetAarsagKode="10", OtherTerminationReasonDescription="Flyttet tilbud"),
    ),
    "udsk_aarsag_tekst_paakraevet": Case(
        lambda: sæt(inds(), "UDSK", UdskrivningAarsagKode="10"),
        lambda: sæt(inds(), "UDSK", UdskrivningAarsagKode="10", UdskrivningAarsagTekst="Systemskifte"),
    ),
    "udsk_aarsag_tekst_vises_ikke": Case(
        lambda: sæt(inds(), "UDSK", UdskrivningAarsagTekst="Systemskifte"),
        lambda: sæt(inds(), "UDSK", UdskrivningAarsagKode="10", UdskrivningAarsagTekst="Systemskifte"),
    ),
}


def koder(data: Data, today: date) -> list[str]:
    _, violations = parse_and_validate(data, today=today)
    return [v.code for v in violations]


def test_every_rule_has_a_case() -> None:
    assert set(REGLER) == set(CASES)


@pytest.mark.parametrize("code", sorted(CASES))
def test_rule_fails(code: str) -> None:
    case = CASES[code]
    found = koder(case.fail(), case.today)
    assert found, f"{code}: expected a violation, got none"
    assert set(found) == {code}, found


@pytest.mark.parametrize("code", sorted(CASES))
def test_rule_passes(code: str) -> None:
    case = CASES[code]
    assert koder(case.ok(), case.today_ok or case.today) == []


def test_violation_names_section_and_felt_id() -> None:
    _, vs = parse_and_validate(iv(base(), PersonGrundskoleuddannelseKode=None), today=TODAY)
    (v,) = vs
    assert v.rule == "6.1.3"
    assert v.fields == ("12-IVÆR",)
    assert "PersonGrundskoleuddannelseKode" in v.message


def test_ordered_substance_cannot_be_main_substance() -> None:
    """§3.1 20-IVÆR: ordered substances are not in the list; a made-up code for one is refused by field."""
    _, vs = parse_and_validate(iv(base(), PersonAktueltHovedstofKode="01"), today=TODAY)
    assert [(v.code, v.fields, v.rule) for v in vs] == [("kode_ugyldig", ("20-IVÆR",), "3.1")]


def test_violations_in_a_list_carry_the_course_index() -> None:
    _, vs = parse_and_validate([base(), iv(base(kommunekode=147), PersonNogensindeTestetHIVKode=None)], today=TODAY)
    assert [(v.forloeb, v.code) for v in vs] == [(1, "hiv_test_paakraevet")]


def test_a_violation_names_each_felt_id_once() -> None:
    """The Felt-ID is in brackets only when the message does not already name it."""
    c = base()
    c.pop("kommunekode")
    _, vs = parse_and_validate(c, today=TODAY)
    assert [str(v) for v in vs] == ["§3.1 [8-ANM] KommuneKode skal udfyldes (paakraevet)"]
    _, vs = parse_and_validate(iv(base(), PersonGrundskoleuddannelseKode=None), today=TODAY)
    assert [str(v) for v in vs] == [
        "§6.1.3 [12-IVÆR] PersonGrundskoleuddannelseKode er obligatorisk (grundskole_paakraevet)"
    ]
    named = Violation("6.1.5", ("1-AFSL",), "x", "1-AFSL ligger før startdatoen.", forloeb=2)
    assert str(named) == "forløb 2: §6.1.5 1-AFSL ligger før startdatoen. (x)"
    assert named.tekst(kode=False) == "§6.1.5 1-AFSL ligger før startdatoen."


def test_error_output_never_contains_the_cpr_number() -> None:
    data = sæt(base(), "ANM", PersonIdentifikator="3102904322")
    _, vs = parse_and_validate([data, sæt(base(), "ANM", BehandlingTidligereKode="0101904322")], today=TODAY)
    text = " ".join(str(v) for v in vs)
    assert "3102904322" not in text and "0101904322" not in text and "4322" not in text


def test_legacy_course_skips_sanitised_content_rules() -> None:
    """§6.2: a course requested before 2019-07-01 is checked for dates and structure only."""
    c = base(anmodningsdato=date(2019, 6, 30))
    iv(c, PersonGrundskoleuddannelseKode=None, PersonNogensindeTestetHIVKode=None)
    assert koder(c, TODAY) == []
    c2 = base(anmodningsdato=date(2019, 7, 1))
    iv(c2, PersonGrundskoleuddannelseKode=None)
    assert koder(c2, TODAY) == ["grundskole_paakraevet"]
    # dates still checked for legacy courses
    c3 = sæt(base(anmodningsdato=date(2019, 6, 30)), "AFSL", BehandlingAfsluttetDato="2019-07-01")
    assert "afsl_foer_ivaer" in koder(c3, TODAY)


def test_a_retired_field_on_a_course_before_2019_is_refused_not_dropped() -> None:
    """docs/rules.md §6.2: the models carry no "Udgået" field, so one in the input is named, never sent or lost."""
    old = ex.kontaktforloeb(anmodningsdato=date(2019, 1, 5))
    old["IVÆR"]["BehandlingGarantiOverskredetAarsagUdgaaetKode"] = "01"
    _, violations = parse_and_validate(old, date(2025, 6, 1))
    assert [(v.code, v.message) for v in violations] == [
        ("ukendt_felt", "IVÆR.BehandlingGarantiOverskredetAarsagUdgaaetKode er ikke et felt i skemaet")
    ]


def test_a_course_with_an_unreadable_code_still_gets_its_other_rules_checked_in_the_same_pass() -> None:
    """Fixing a file takes one round: the wrong code is named, and so is the date rule the rest of the course breaks
    (the unreadable field treated as missing, without a second complaint about it)."""
    data = ex.kontaktforloeb()
    data["IVÆR"]["BehandlingFormaalKode"] = "77"
    data["IVÆR"]["IvaerksatBehandlingDato"] = "2024-02-20"  # before the anmodning
    _, violations = parse_and_validate(data, date(2025, 6, 1))
    codes = [v.code for v in violations]
    assert codes[0] == "kode_ugyldig" and "ivaer_foer_anmodning" in codes
    assert sum(1 for v in violations if "6-IVÆR" in v.fields) == 1
    many = [ex.kontaktforloeb(), data]
    _, in_a_list = parse_and_validate(many, date(2025, 6, 1))
    assert {v.forloeb for v in in_a_list} == {1} and "ivaer_foer_anmodning" in [v.code for v in in_a_list]
