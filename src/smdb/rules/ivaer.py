"""§6.1.3 Iværksæt behandling, and the §3.1 table constraints of IVÆR."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from smdb.codes import FoersteInjektionAlder as FIA
from smdb.codes import (
    GarantiOverskredetAarsag,
    Injektion,
    LaegesamtaleTidsfristAarsag,
    Screeningsvaerktoej,
    Substitutionsbehandling,
    VideregaaendeUddannelse,
)
from smdb.models import Ivaerksaettelse, Kontaktforloeb
from smdb.rules._betinget import betinget_felt
from smdb.rules._core import Kontekst, Violation, navn, regel
from smdb.rules._forloeb import FORLOEB
from smdb.stoffer import ALDER, MAADE, Stof

#: §6.1.3: "mere end 14 dage" (behandlingsgaranti and lægesamtale deadline).
FRIST = timedelta(days=14)

IVAER_EN = regel(
    "ivaer_en_pr_anmodning",
    "6.1.3",
    ["1-IVÆR", "2-ANM"],
    "Der må maksimalt være knyttet én Dato for iværksat behandling til hver anmodning.",
)
IVAER_FOER_ANM = regel(
    "ivaer_foer_anmodning",
    "6.1.3",
    ["1-IVÆR", "2-ANM"],
    "Dato for iværksat behandling skal være samme dato eller senere end anmodningsdatoen (b).",
)
AFLEDT = regel(
    "afledt_vaerdi_afviger",
    "3.1",
    ["2-IVÆR", "3-IVÆR"],
    "2-IVÆR og 3-IVÆR er read only og udregnes af SMDB; en medsendt værdi skal stemme med udregningen.",
)
LAEGESAMTALE_FOER_ANM = regel(
    "laegesamtale_foer_anmodning",
    "3.1",
    ["26-IVÆR", "2-ANM"],
    "Dato, hvor lægesamtale blev afholdt, skal ligge fra BehandlingAnmodningDato til og med dags dato.",
)
TIDSFRIST_AARSAG_KRAV = regel(
    "laegesamtale_tidsfrist_aarsag_paakraevet",
    "6.1.3",
    ["29-IVÆR", "26-IVÆR", "2-ANM", "1-IVÆR"],
    "Ligger 26-IVÆR mere end 14 dage efter 2-ANM eller efter 1-IVÆR, skal 29-IVÆR være udfyldt (a).",
)
TIDSFRIST_AARSAG_VISES = regel(
    "laegesamtale_tidsfrist_aarsag_vises_ikke",
    "3.1",
    ["29-IVÆR", "26-IVÆR"],
    "29-IVÆR vises kun, hvis tidsfristen for lægesamtalen er overskredet.",
)
GARANTI_VISES = regel(
    "garanti_aarsag_vises_ikke",
    "6.1.3",
    ["4-IVÆR", "2-IVÆR"],
    "4-IVÆR kan kun besvares, hvis der er mere end 14 dage mellem anmodningsdato og iværksættelsesdato.",
)
GARANTI_FRIT_VALG = regel(
    "garanti_frit_valg_under_18",
    "6.1.3",
    ["4-IVÆR", "3-IVÆR"],
    "Svarmulighed Frit valg (05) er kun mulig, hvis alder ved iværksat behandling er 18 år eller derover (a).",
)
GARANTI_SAMTYKKE = regel(
    "garanti_samtykke_18_eller_over",
    "6.1.3",
    ["4-IVÆR", "3-IVÆR"],
    "Svarmulighed Samtykkeerklæring (06) er kun mulig, hvis alder ved iværksat behandling er under 18 år (b).",
)
GRUNDSKOLE = regel("grundskole_paakraevet", "6.1.3", ["12-IVÆR"], "12-IVÆR (grundskoleuddannelse) er obligatorisk.")
UNGDOMSUDD = regel(
    "ungdomsuddannelse_paakraevet",
    "6.1.3",
    ["13-IVÆR", "14-IVÆR"],
    "13-IVÆR er obligatorisk, når der er svaret bekræftende på videregående uddannelse (14-IVÆR).",
)
STOF_ALDER = regel(
    "stof_alder_over_alder",
    "6.1.3",
    ["18-IVÆR", "3-IVÆR"],
    "Alder ved førstegangsbrug må ikke være højere end borgerens alder på dato for iværksættelse (a).",
)
STOF_KOMPLET = regel(
    "stof_ufuldstaendig",
    "6.1.3",
    ["18-IVÆR"],
    "Er der udfyldt ét felt for ét stof, skal alle felter relateret til stoffet udfyldes (b).",
)
STOF_MAADE = regel(
    "stof_ugyldig_indtagelsesmaade",
    "6.1.3",
    ["18-IVÆR"],
    "Listen af indtagelsesmåder afhænger af stoftypen (c).",
)
ANDRE_STOFFER_KRAV = regel(
    "andre_stoffer_kommentar_paakraevet",
    "6.1.3",
    ["37-IVÆR", "18-IVÆR"],
    "37-IVÆR er påkrævet, hvis der er angivet mere end 0 dage for Andre stoffer i 18-IVÆR.",
)
ANDRE_STOFFER_VISES = regel(
    "andre_stoffer_kommentar_vises_ikke",
    "3.1",
    ["37-IVÆR", "18-IVÆR"],
    "37-IVÆR vises kun, hvis der er svaret på Andre stoffer i 18-IVÆR.",
)
HOVEDSTOF_KRAV = regel(
    "hovedstof_paakraevet",
    "6.1.3",
    ["20-IVÆR", "19-IVÆR", "17-IVÆR"],
    "20-IVÆR skal besvares uanset 17-IVÆR; det kan kun undlades, hvis 19-IVÆR er afkrydset.",
)
HOVEDSTOF_VISES = regel(
    "hovedstof_vises_ikke", "3.1", ["20-IVÆR", "19-IVÆR"], "20-IVÆR vises ikke, hvis 19-IVÆR er afkrydset."
)
INJEKTION_KRAV = regel("injektion_paakraevet", "6.1.3", ["32-IVÆR"], "32-IVÆR (injicering) er påkrævet.")
DELING_KRAV = regel("deling_paakraevet", "6.1.3", ["33-IVÆR"], "33-IVÆR (deling af værktøj) er påkrævet.")
FOERSTE_INJ_KRAV = regel(
    "foerste_injektion_paakraevet",
    "6.1.3",
    ["22-IVÆR", "32-IVÆR"],
    "Svares der ikke Aldrig i 32-IVÆR, er 22-IVÆR (alder ved første injektion) påkrævet.",
)
FOERSTE_INJ_MODSTRID = regel(
    "foerste_injektion_aldrig_modstrid",
    "6.1.3",
    ["22-IVÆR", "32-IVÆR"],
    "Ved bekræftende svar i 32-IVÆR kan der ikke svares Har aldrig injiceret (08) i 22-IVÆR.",
)
HCV_KRAV = regel("hcv_test_paakraevet", "6.1.3", ["34-IVÆR"], "34-IVÆR (test for HCV) er påkrævet.")
HIV_KRAV = regel("hiv_test_paakraevet", "6.1.3", ["35-IVÆR"], "35-IVÆR (test for HIV) er påkrævet.")
SUBST_KRAV = regel("substitution_paakraevet", "6.1.3", ["36-IVÆR"], "36-IVÆR (substitutionsbehandling) er påkrævet.")
SUBST_ALDER_KRAV = regel(
    "substitution_alder_paakraevet",
    "6.1.3",
    ["41-IVÆR", "36-IVÆR"],
    "Er der svaret Har været i substitutionsbehandling i 36-IVÆR, skal 41-IVÆR besvares.",
)

_LAEGE_TEKST = betinget_felt(
    "laegesamtale_tekst",
    ("29-IVÆR", "LaegesamtaleIkkeAfholdtAarsagTidsfristOverskredetKode", "laegesamtale_tidsfrist_aarsag"),
    LaegesamtaleTidsfristAarsag.ANDEN,
    ("30-IVÆR", "LaegesamtaleIkkeAfholdtAarsagTidsfristOverskredetTekst", "laegesamtale_tidsfrist_tekst"),
    "3.1",
    "6.1.3",
)
_GARANTI_TEKST = betinget_felt(
    "garanti_tekst",
    ("4-IVÆR", "BehandlingGarantiOverskredetAarsagKode", "garanti_aarsag"),
    GarantiOverskredetAarsag.ANDEN,
    ("5-IVÆR", "BehandlingGarantiOverskredetAarsagTekst", "garanti_tekst"),
    "3.1",
    "6.1.3",
)
_SCREENING_TEKST = betinget_felt(
    "screening_tekst",
    ("42-IVÆR", "ScreeningsvaerktoejAnvendtIvaerksaetKode", "screeningsvaerktoej"),
    Screeningsvaerktoej.ANDET,
    ("43-IVÆR", "ScreeningsvaerktoejAnvendtIvaerksaetTekst", "screeningsvaerktoej_tekst"),
    "3.1",
    "3.1",
)

#: 14-IVÆR answers that affirm a higher education (everything but Ingen and Uoplyst).
_VIDEREGAAENDE = frozenset(
    {
        VideregaaendeUddannelse.KORT,
        VideregaaendeUddannelse.MELLEMLANG,
        VideregaaendeUddannelse.LANG,
        VideregaaendeUddannelse.ANDEN,
    }
)
#: 32-IVÆR answers that affirm injecting (03, 04, 05).
HAR_INJICERET = frozenset({Injektion.IKKE_SENESTE_12_MDR, Injektion.SENESTE_12_MDR, Injektion.SENESTE_30_DAGE})


@FORLOEB
def _ivaer_datoer(f: Kontaktforloeb, ctx: Kontekst) -> Iterator[Violation]:
    iv = f.ivaerksaettelse
    if iv is None:
        return
    anm_dato = f.anmodning.anmodningsdato
    if f.antal_skemaer.get("IVÆR", 1) > 1:
        yield IVAER_EN.brud(
            f"Anmodningen ({navn('2-ANM', 'BehandlingAnmodningDato')} {anm_dato}) har "
            f"{f.antal_skemaer['IVÆR']} iværksættelser; der må kun være én"
        )
    if iv.ivaerksat_dato < anm_dato:
        yield IVAER_FOER_ANM.brud(
            f"{navn('1-IVÆR', 'IvaerksatBehandlingDato')} ({iv.ivaerksat_dato}) ligger før "
            f"{navn('2-ANM', 'BehandlingAnmodningDato')} ({anm_dato})"
        )
    if iv.laegesamtale_dato is not None and iv.laegesamtale_dato < anm_dato:
        yield LAEGESAMTALE_FOER_ANM.brud(
            f"{navn('26-IVÆR', 'LaegesamtaleAfholdtDato')} ({iv.laegesamtale_dato}) ligger før "
            f"{navn('2-ANM', 'BehandlingAnmodningDato')} ({anm_dato})"
        )
    for felt_id, variabel, givet, udregnet in (
        ("2-IVÆR", "IvaerksatBehandlingDageSidenAnmodningKvantitet", iv.dage_siden_anmodning, f.dage_siden_anmodning),
        ("3-IVÆR", "PersonIvaerksatBehandlingAlderKvantitet", iv.alder, f.alder_ved_ivaerksaettelse),
    ):
        if givet is not None and givet != udregnet:
            yield AFLEDT.brud(
                f"{navn(felt_id, variabel)} er {givet}, men udregnes til {udregnet}; feltet er read only", [felt_id]
            )


@FORLOEB
def _ivaer_indhold(f: Kontaktforloeb, ctx: Kontekst) -> Iterator[Violation]:
    """Content rules of the sanitised forms; §6.2: not applied to courses requested before 2019-07-01."""
    iv = f.ivaerksaettelse
    if iv is None or f.er_gammelt_forloeb:
        return
    yield from _laegesamtale(f, iv)
    yield from _garanti(f, iv)
    yield from _SCREENING_TEKST(iv)
    yield from _uddannelse(iv)
    yield from _stoffer(f, iv)
    yield from _hovedstof(iv)
    yield from _injektion(iv)
    yield from _test_og_substitution(iv)


def _laegesamtale(f: Kontaktforloeb, iv: Ivaerksaettelse) -> Iterator[Violation]:
    d = iv.laegesamtale_dato
    overskredet = d is not None and (d > f.anmodning.anmodningsdato + FRIST or d > iv.ivaerksat_dato)
    if overskredet and iv.laegesamtale_tidsfrist_aarsag is None:
        yield TIDSFRIST_AARSAG_KRAV.brud(
            f"{navn('26-IVÆR', 'LaegesamtaleAfholdtDato')} ({d}) ligger mere end 14 dage efter anmodningen "
            f"eller efter iværksættelsen, så {navn('29-IVÆR', 'LaegesamtaleIkkeAfholdtAarsagTidsfristOverskredetKode')}"
            " skal udfyldes"
        )
    elif d is not None and not overskredet and iv.laegesamtale_tidsfrist_aarsag is not None:
        yield TIDSFRIST_AARSAG_VISES.brud(
            f"{navn('29-IVÆR', 'LaegesamtaleIkkeAfholdtAarsagTidsfristOverskredetKode')} må kun udfyldes, når "
            f"tidsfristen er overskredet; {navn('26-IVÆR', 'LaegesamtaleAfholdtDato')} ({d}) er inden for fristen"
        )
    yield from _LAEGE_TEKST(iv)


def _garanti(f: Kontaktforloeb, iv: Ivaerksaettelse) -> Iterator[Violation]:
    aarsag = iv.garanti_aarsag
    dage = f.dage_siden_anmodning
    if aarsag is not None and dage is not None and dage <= FRIST.days:
        yield GARANTI_VISES.brud(
            f"{navn('4-IVÆR', 'BehandlingGarantiOverskredetAarsagKode')} kan kun besvares ved mere end 14 dage "
            f"fra anmodning til iværksættelse ({navn('2-IVÆR', 'IvaerksatBehandlingDageSidenAnmodningKvantitet')}"
            f" = {dage})"
        )
    alder = f.alder_ved_ivaerksaettelse
    if aarsag is GarantiOverskredetAarsag.FRIT_VALG and alder is not None and alder < 18:
        yield GARANTI_FRIT_VALG.brud(
            f"{navn('4-IVÆR', 'BehandlingGarantiOverskredetAarsagKode')} = 05 (frit valg) kræver alder 18 eller "
            f"derover, men {navn('3-IVÆR', 'PersonIvaerksatBehandlingAlderKvantitet')} er {alder}"
        )
    if aarsag is GarantiOverskredetAarsag.SAMTYKKE and alder is not None and alder >= 18:
        yield GARANTI_SAMTYKKE.brud(
            f"{navn('4-IVÆR', 'BehandlingGarantiOverskredetAarsagKode')} = 06 (samtykkeerklæring) kræver alder "
            f"under 18, men {navn('3-IVÆR', 'PersonIvaerksatBehandlingAlderKvantitet')} er {alder}"
        )
    yield from _GARANTI_TEKST(iv)


def _uddannelse(iv: Ivaerksaettelse) -> Iterator[Violation]:
    if iv.grundskole is None:
        yield GRUNDSKOLE.brud(f"{navn('12-IVÆR', 'PersonGrundskoleuddannelseKode')} er obligatorisk")
    if iv.videregaaende in _VIDEREGAAENDE and iv.ungdomsuddannelse is None:
        yield UNGDOMSUDD.brud(
            f"{navn('13-IVÆR', 'PersonUngdomsuddannelseKode')} skal besvares, når "
            f"{navn('14-IVÆR', 'PersonVideregaaendeUddannelseKode')} angiver en videregående uddannelse"
        )


def _stoffer(f: Kontaktforloeb, iv: Ivaerksaettelse) -> Iterator[Violation]:
    alder = f.alder_ved_ivaerksaettelse
    andre_besvaret = False
    for row in iv.stofbrug():
        if not row.udfyldt:
            continue
        info = row.info
        if row.stof is Stof.ANDRE_STOFFER:
            andre_besvaret = True
        if not row.komplet:
            yield STOF_KOMPLET.brud(
                f"18-IVÆR {info.label}: når ét felt er udfyldt, skal antal dage, alder ved førstegangsbrug "
                f"(eller Alder uoplyst), indtagelseshyppighed og typisk indtagelsesmåde alle udfyldes"
            )
        if row.alder_foerste_brug is not None and alder is not None and row.alder_foerste_brug > alder:
            yield STOF_ALDER.brud(
                f"{navn('18-IVÆR', row.stof.variabel(ALDER))} er {row.alder_foerste_brug}, højere end borgerens "
                f"alder ved iværksættelse ({navn('3-IVÆR', 'PersonIvaerksatBehandlingAlderKvantitet')} = {alder})"
            )
        if row.maade is not None and row.maade not in info.modes:
            tilladte = ", ".join(sorted(m.value for m in info.modes))
            yield STOF_MAADE.brud(
                f"{navn('18-IVÆR', row.stof.variabel(MAADE))} = {row.maade.value} ({row.maade.label}) kan ikke "
                f"vælges for {info.label}; tilladte koder: {tilladte}"
            )
    andre = iv.stof(Stof.ANDRE_STOFFER)
    kommentar = (iv.kommentar_andre_stoffer or "").strip()
    if andre.dage is not None and andre.dage > 0 and not kommentar:
        yield ANDRE_STOFFER_KRAV.brud(
            f"{navn('37-IVÆR', 'KommentarOmkringAndreStoffer')} skal udfyldes, når "
            f"AndreStofferDageIndtagetSenesteMaanedKvantitet er {andre.dage}"
        )
    elif kommentar and not andre_besvaret:
        yield ANDRE_STOFFER_VISES.brud(
            f"{navn('37-IVÆR', 'KommentarOmkringAndreStoffer')} må kun udfyldes, når der er svaret på Andre "
            "stoffer i 18-IVÆR"
        )


def _hovedstof(iv: Ivaerksaettelse) -> Iterator[Violation]:
    if iv.hovedstof_ikke_muligt:
        if iv.hovedstof is not None:
            yield HOVEDSTOF_VISES.brud(
                f"{navn('20-IVÆR', 'PersonAktueltHovedstofKode')} må ikke udfyldes, når "
                f"{navn('19-IVÆR', 'PersonHovedstofAngivelseIkkeMuligIndikator')} er afkrydset"
            )
    elif iv.hovedstof is None:
        yield HOVEDSTOF_KRAV.brud(
            f"{navn('20-IVÆR', 'PersonAktueltHovedstofKode')} skal besvares, medmindre "
            f"{navn('19-IVÆR', 'PersonHovedstofAngivelseIkkeMuligIndikator')} er afkrydset"
        )


def _injektion(iv: Ivaerksaettelse) -> Iterator[Violation]:
    if iv.injektion is None:
        yield INJEKTION_KRAV.brud(
            f"{navn('32-IVÆR', 'PersonNogensindeInjiceretEllerInjicererForTidenKode')} er påkrævet"
        )
    if iv.delt_vaerktoej is None:
        yield DELING_KRAV.brud(f"{navn('33-IVÆR', 'PersonNogensindeDeltEllerDelerVaerktoejForTidenKode')} er påkrævet")
    if iv.injektion is not None and iv.injektion is not Injektion.ALDRIG and iv.foerste_injektion_alder is None:
        yield FOERSTE_INJ_KRAV.brud(
            f"{navn('22-IVÆR', 'PersonFoersteInjektionAlderKode')} er påkrævet, når "
            f"{navn('32-IVÆR', 'PersonNogensindeInjiceretEllerInjicererForTidenKode')} = {iv.injektion.value}"
        )
    if iv.injektion in HAR_INJICERET and iv.foerste_injektion_alder is FIA.ALDRIG_INJICERET:
        yield FOERSTE_INJ_MODSTRID.brud(
            f"{navn('22-IVÆR', 'PersonFoersteInjektionAlderKode')} kan ikke være 08 (Har aldrig injiceret), når "
            f"{navn('32-IVÆR', 'PersonNogensindeInjiceretEllerInjicererForTidenKode')} = {iv.injektion.value}"
        )


def _test_og_substitution(iv: Ivaerksaettelse) -> Iterator[Violation]:
    if iv.testet_hcv is None:
        yield HCV_KRAV.brud(f"{navn('34-IVÆR', 'PersonNogensindeTestetHCVKode')} er påkrævet")
    if iv.testet_hiv is None:
        yield HIV_KRAV.brud(f"{navn('35-IVÆR', 'PersonNogensindeTestetHIVKode')} er påkrævet")
    if iv.substitutionsbehandling is None:
        yield SUBST_KRAV.brud(f"{navn('36-IVÆR', 'PersonNogensindeSubstitutionsbehandlingKode')} er påkrævet")
    elif iv.substitutionsbehandling is Substitutionsbehandling.HAR_VAERET and iv.foerste_substitution_alder is None:
        yield SUBST_ALDER_KRAV.brud(
            f"{navn('41-IVÆR', 'PersonFoersteSubstitutionsbehandlingAlderKvantitet')} skal besvares, når "
            f"{navn('36-IVÆR', 'PersonNogensindeSubstitutionsbehandlingKode')} = 02"
        )
