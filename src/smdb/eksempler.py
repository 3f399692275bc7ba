"""Realistic example courses in the official JSON shape, for the demo, the docs, tests and benchmarks.

The CPR numbers are made up (valid format and date, not real people); use them only against the
simulator or PreProd.
"""

from __future__ import annotations

import copy
from datetime import date, timedelta
from typing import Any

from smdb.stoffer import ALDER, DAGE, HYPPIGHED, MAADE, Stof

#: 1 January 1990, woman (even last digit); 15 June 1985, man; 3 March 2008 (7th digit 4: born 2008).
CPR_KVINDE = "0101904322"
CPR_MAND = "1506851233"
CPR_UNG = "0303084125"


def _stofrække(stof: Stof, dage: int, alder: int, hyppighed: str) -> dict[str, Any]:
    modes = sorted(m.value for m in stof.info.modes)
    return {
        stof.variabel(DAGE): dage,
        stof.variabel(ALDER): alder,
        stof.variabel(HYPPIGHED): hyppighed,
        stof.variabel(MAADE): modes[0],
    }


def ivaerksaettelse(ivaerksat: date, *, fuld_stofmatrix: bool = False) -> dict[str, Any]:
    """A complete IVÆR; with ``fuld_stofmatrix`` every one of the 22 substance rows is answered."""
    ivaer: dict[str, Any] = {
        "OenskerBorgerTilbudLaegesamtaleKode": "01",
        "LaegesamtaleAfholdtIndikator": True,
        "LaegesamtaleAfholdtDato": (ivaerksat - timedelta(days=2)).isoformat(),
        "IvaerksatBehandlingDato": ivaerksat.isoformat(),
        "ScreeningsvaerktoejAnvendtIvaerksaetKode": "03",
        "BehandlingFormaalKode": "02",
        "HenvisningPaaOpfordringAfKode": "04",
        "PersonHovedindtaegtskildeKode": "06",
        "PersonSamlivssituationKode": "01",
        "PersonBoligsituationKode": "02",
        "PersonStatsborgerskabKode": "5100",
        "PersonImmigrantKode": "01",
        "PersonGrundskoleuddannelseKode": "03",
        "PersonUngdomsuddannelseKode": "04",
        "PersonVideregaaendeUddannelseKode": "01",
        "PersonBoernMedKontaktKvantitet": 1,
        "PersonBoernAnbragtUdenforHjemmetKvantitet": 0,
        "PersonStoffriSenesteMaanedIndikator": False,
        "PersonHovedstofAngivelseIkkeMuligIndikator": False,
        "PersonAktueltHovedstofKode": "08",
        "PersonNogensindeInjiceretEllerInjicererForTidenKode": "05",
        "PersonNogensindeDeltEllerDelerVaerktoejForTidenKode": "01",
        "PersonFoersteInjektionAlderKode": "02",
        "PersonNogensindeTestetHCVKode": "04",
        "PersonNogensindeTestetHIVKode": "04",
        "PersonNogensindeSubstitutionsbehandlingKode": "02",
        "PersonFoersteSubstitutionsbehandlingAlderKvantitet": 24,
    }
    if fuld_stofmatrix:
        for stof in Stof:
            ivaer.update(_stofrække(stof, 2, 16, "01"))
        ivaer["KommentarOmkringAndreStoffer"] = "Lyrica"
    else:
        ivaer.update(_stofrække(Stof.ILLEGAL_HEROIN, 20, 19, "03"))
        ivaer.update(_stofrække(Stof.CANNABIS, 8, 15, "02"))
        ivaer.update(_stofrække(Stof.ALKOHOL, 4, 14, "01"))
    return ivaer


def kontaktforloeb(
    *,
    cpr: str = CPR_KVINDE,
    kvinde: bool = True,
    kommunekode: int = 101,
    anmodningsdato: date = date(2024, 3, 1),
    dage_til_ivaerksaettelse: int | None = 9,
    afsluttet_efter_dage: int | None = 180,
    substitution: bool = True,
    fuld_stofmatrix: bool = False,
) -> dict[str, Any]:
    """A valid course: ANM, IVÆR, one or two TILB, KvalHep (when in the risk group) and optionally AFSL."""
    course: dict[str, Any] = {
        "kommunekode": kommunekode,
        "ANM": {
            "PersonIdentifikator": cpr,
            "PersonNavn": "Testborger",
            "PersonKoenKode": "00" if kvinde else "01",
            "BehandlingAnmodningDato": anmodningsdato.isoformat(),
            "BehandlingTidligereKode": "01",
            "PersonPsykiskFunktionsnedsættelseKode": "02",
        },
    }
    if kvinde:
        course["ANM"]["PersonGravidKode"] = "02"
    if dage_til_ivaerksaettelse is None:
        if afsluttet_efter_dage is not None:
            course["AFSL"] = {
                "BehandlingAfsluttetDato": (anmodningsdato + timedelta(days=afsluttet_efter_dage)).isoformat(),
                "BehandlingAfsluttetStatusKode": "05",
                "BehandlingAfsluttetAarsagKode": "03",
            }
        return course
    ivaerksat = anmodningsdato + timedelta(days=dage_til_ivaerksaettelse)
    course["IVÆR"] = ivaerksaettelse(ivaerksat, fuld_stofmatrix=fuld_stofmatrix)
    slut = ivaerksat + timedelta(days=afsluttet_efter_dage) if afsluttet_efter_dage is not None else None
    tilb: list[dict[str, Any]] = [
        {
            "TilbudId": 1002,
            "PersonBehandlingFritValgIndikator": False,
            "TilbudTilknyttetBehandlingStartDato": ivaerksat.isoformat(),
            "BehandlingIntensitetKode": "01",
            "BehandlingTypeKode": "04",
        }
    ]
    if substitution:
        tilb.append(
            {
                "TilbudId": 1001,
                "PersonBehandlingFritValgIndikator": False,
                "TilbudTilknyttetBehandlingStartDato": ivaerksat.isoformat(),
                "BehandlingIntensitetKode": "01",
                "BehandlingTypeKode": "01",
                "AutorisationKodeTekst": "0C4TX",
            }
        )
    if slut is not None:
        for t in tilb:
            t["TilbudTilknyttetBehandlingSlutDato"] = slut.isoformat()
    course["TILB"] = tilb
    if substitution or course["IVÆR"]["PersonNogensindeInjiceretEllerInjicererForTidenKode"] in ("03", "04", "05"):
        course["KvalHep"] = kvalhep(kvinde=kvinde)
    if slut is not None:
        course["AFSL"] = {
            "BehandlingAfsluttetDato": slut.isoformat(),
            "BehandlingAfsluttetStatusKode": "03",
            "BehandlingAfsluttetAarsagKode": "01",
        }
    return course


def kvalhep(*, kvinde: bool) -> dict[str, Any]:
    k = {
        "BehandlingVurderetPsykiskEfterIndskrivningKode": "01",
        "BehandlingBehandlingsplanJournaliseretKode": "01",
        "BehandlingPsykiskLidelseIvaerksatKode": "03",
        "BehandlingForetagetPsykiatriHenvisningKode": "03",
        "BehandlingBuprenorphinIvaerksatKode": "05",
        "BehandlingEKGudfoertKode": "01",
        "BehandlingBenzodiazepinerIvaerksatKode": "04",
        "BehandlingAlkoholIvaerksatKode": "03",
        "BehandlingVirusSmittevejeRaadgivetKode": "01",
        "BehandlingSerologiskHepatitisAudredningTilbudtKode": "04",
        "PersonHepatitisAnogensindeKode": "02",
        "BehandlingSerologiskHepatitisBudredningTilbudtKode": "04",
        "PersonHepatitisBnogensindeKode": "02",
        "BehandlingSerologiskHepatitisCudredningTilbudKode": "04",
        "PersonHepatitisCnogensindeKode": "01",
        "BehandlingYderligereUdredningHenvistKode": "01",
        "BehandlingAntiviralIvaerksatKode": "04",
        "BehandlingHepatitisAvaccinationKode": "07",
        "BehandlingHepatitisBvaccinationKode": "06",
        "BehandlingHIVudredningTilbudtKode": "05",
    }
    if kvinde:
        k["BehandlingModtagetAntikonceptionRaadgivetKode"] = "01"
        k["BehandlingAntikonceptionIvaerksatKode"] = "02"
    return k


def indskrivningsforloeb(*, cpr: str = CPR_MAND, indskrevet: date = date(2024, 2, 1)) -> dict[str, Any]:
    """A closed provider enrolment from 2024 (the last year INDS/YDEL/UDSK could be reported)."""
    slut = indskrevet + timedelta(days=60)
    return {
        "INDS": {
            "TilbudId": 1002,
            "BorgerCprNummer": cpr,
            "IndskrivningMyndighedKode": 101,
            "IndskrivningDato": indskrevet.isoformat(),
            "IndskrivningHvorfraKode": "09",
            "BehandlingStrafAlternativKode": "02",
            "PersonParbehandlingKode": "02",
            "PersonAfgiftesKode": "02",
        },
        "YDEL": [
            {
                "ErIndividuelYdelse": True,
                "ConsultationTypeCode": "02",
                "PlannedPeriodCode": "02",
                "IntensityCode": "03",
                "YdelseStartDato": indskrevet.isoformat(),
                "YdelseSlutDato": slut.isoformat(),
                "YdelseAfsluttetAarsagKode": "11",
            }
        ],
        "UDSK": {
            "UdskrivningDato": slut.isoformat(),
            "UdskrivningAarsagKode": "01",
            "PersonSelvhjaelpsnetvaerkKontaktKode": "01",
            "PersonStoffriPartnerKode": "99",
            "PersonBoligsituationEfterUdskrivningKode": "01",
            "PersonHovedindtaegtskildeEfterUdskrivningKode": "06",
        },
    }


def kopi(data: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(data)
