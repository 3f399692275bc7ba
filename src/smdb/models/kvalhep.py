"""KvalHep: Kvalitet i den lægefaglige behandling og Hepatitis C (§3.3)."""

from __future__ import annotations

from smdb.codes import (
    AntiviralBehandling,
    BenzodiazepinerIvaerksat,
    BuprenorphinIvaerksat,
    HepatitisAVaccination,
    HepatitisBVaccination,
    HIVUdredning,
    JaNejIngenIndikation,
    JaNejUoplyst,
    SerologiskUdredning,
    YderligereUdredning,
)
from smdb.models._base import Heltal, SmdbModel, felt, registrer, smdb_id_felt


@registrer("KvalHep")
class KvalHep(SmdbModel):
    """The quality/hepatitis form for citizens in the risk group; at most one per iværksættelse (§6.1.8)."""

    smdb_id: Heltal | None = smdb_id_felt("KvalHepId")
    vurderet_fysisk_psykisk: JaNejUoplyst | None = felt("1-KVAL", "BehandlingVurderetPsykiskEfterIndskrivningKode")
    behandlingsplan: JaNejUoplyst | None = felt("2-KVAL", "BehandlingBehandlingsplanJournaliseretKode")
    psykisk_lidelse_ivaerksat: JaNejIngenIndikation | None = felt("3-KVAL", "BehandlingPsykiskLidelseIvaerksatKode")
    psykiatri_henvisning: JaNejIngenIndikation | None = felt("4-KVAL", "BehandlingForetagetPsykiatriHenvisningKode")
    buprenorphin: BuprenorphinIvaerksat | None = felt("5-KVAL", "BehandlingBuprenorphinIvaerksatKode")
    ekg: JaNejIngenIndikation | None = felt("6-KVAL", "BehandlingEKGudfoertKode")
    benzodiazepiner: BenzodiazepinerIvaerksat | None = felt("7-KVAL", "BehandlingBenzodiazepinerIvaerksatKode")
    alkohol: JaNejIngenIndikation | None = felt("8-KVAL", "BehandlingAlkoholIvaerksatKode")
    antikonception_raadgivet: JaNejIngenIndikation | None = felt(
        "9-KVAL", "BehandlingModtagetAntikonceptionRaadgivetKode", description="Vises kun, hvis kvinde"
    )
    antikonception_ivaerksat: JaNejIngenIndikation | None = felt(
        "10-KVAL", "BehandlingAntikonceptionIvaerksatKode", description="Vises kun, hvis kvinde"
    )
    smitteveje_raadgivet: JaNejUoplyst | None = felt("11-HEPC", "BehandlingVirusSmittevejeRaadgivetKode")
    hepatitis_a_udredning: SerologiskUdredning | None = felt(
        "12A-HEPC", "BehandlingSerologiskHepatitisAudredningTilbudtKode"
    )
    hepatitis_a: JaNejUoplyst | None = felt("12B-HEPC", "PersonHepatitisAnogensindeKode")
    hepatitis_b_udredning: SerologiskUdredning | None = felt(
        "13A-HEPC", "BehandlingSerologiskHepatitisBudredningTilbudtKode"
    )
    hepatitis_b: JaNejUoplyst | None = felt("13B-HEPC", "PersonHepatitisBnogensindeKode")
    hepatitis_c_udredning: SerologiskUdredning | None = felt(
        "14A-HEPC", "BehandlingSerologiskHepatitisCudredningTilbudKode"
    )
    hepatitis_c: JaNejUoplyst | None = felt("14B-HEPC", "PersonHepatitisCnogensindeKode")
    hcv_yderligere_udredning: YderligereUdredning | None = felt("15A-HEPC", "BehandlingYderligereUdredningHenvistKode")
    antiviral_behandling: AntiviralBehandling | None = felt("15B-HEPC", "BehandlingAntiviralIvaerksatKode")
    hepatitis_a_vaccination: HepatitisAVaccination | None = felt("16-HEPC", "BehandlingHepatitisAvaccinationKode")
    hepatitis_b_vaccination: HepatitisBVaccination | None = felt("17-HEPC", "BehandlingHepatitisBvaccinationKode")
    hiv_udredning: HIVUdredning | None = felt("18-HEPC", "BehandlingHIVudredningTilbudtKode")
