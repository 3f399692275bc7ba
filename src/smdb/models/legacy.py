"""INDS, YDEL and UDSK: the provider forms of §3.2, voluntary in 2024 and closed for dates from 2025-01-01.

They are kept so that a vendor can still read (HentIndskrivninger/HentYdelser) and correct historic
provider data; the rules refuse any of these forms dated 2025-01-01 or later.
"""

from __future__ import annotations

from datetime import date

from pydantic import Field

from smdb.codes import (
    BoligsituationEfterUdskrivning,
    Hovedindtaegtskilde,
    IndskrivningHvorfra,
    JaNej,
    JaNejUoplyst,
    PlanlagtPeriode,
    Samtaleramme,
    UdskrivningAarsag,
    YdelseAfsluttetAarsag,
    YdelseIntensitet,
)
from smdb.models._base import (
    Bool,
    CprNummer,
    Dato,
    Heltal,
    Kommunekode,
    SmdbModel,
    felt,
    registrer,
    smdb_id_felt,
)

#: §3.2: from this date INDS, YDEL and UDSK can no longer be reported.
LUKKET_FRA = date(2025, 1, 1)
TEKST = 250


@registrer("INDS")
class Indskrivning(SmdbModel):
    """Indskrivning på behandlingstilbud (INDS)."""

    smdb_id: Heltal | None = smdb_id_felt("IndskrivningId")
    tilbud_id: Heltal = Field(
        alias="TilbudId", ge=1, description="The offer the citizen is enrolled in (not a §3.2 variable)"
    )
    cpr: CprNummer = felt("17-INDS", "BorgerCprNummer", ...)
    navn: str | None = felt("18-INDS", "BorgerNavn", max_length=TEKST)
    myndighed: Kommunekode = felt("19-INDS", "IndskrivningMyndighedKode", ...)
    indskrivningsdato: Dato = felt("1-INDS", "IndskrivningDato", ...)
    hvorfra: IndskrivningHvorfra | None = felt("4-INDS", "IndskrivningHvorfraKode")
    hvorfra_tekst: str | None = felt("5-INDS", "IndskrivningHvorfraTekst", max_length=TEKST)
    straf_alternativ: JaNejUoplyst | None = felt("8-INDS", "BehandlingStrafAlternativKode")
    gravid: JaNejUoplyst | None = felt("9-INDS", "PersonGravidKode")
    parbehandling: JaNejUoplyst | None = felt("10-INDS", "PersonParbehandlingKode")
    afgiftes: JaNej | None = felt("13-INDS", "PersonAfgiftesKode")


@registrer("YDEL")
class Ydelse(SmdbModel):
    """Tildeling af ydelse på behandlingstilbud (YDEL)."""

    smdb_id: Heltal | None = smdb_id_felt("YdelseId")
    individuel: Bool | None = felt("12-YDEL", "ErIndividuelYdelse")
    gruppe: Bool | None = felt("12-YDEL", "ErGruppeYdelse")
    familie: Bool | None = felt("12-YDEL", "ErFamilieYdelse")
    par: Bool | None = felt("12-YDEL", "ErParYdelse")
    samtaleramme: Samtaleramme | None = felt("5-YDEL", "ConsultationTypeCode")
    planlagt_periode: PlanlagtPeriode | None = felt("6-YDEL", "PlannedPeriodCode")
    intensitet: YdelseIntensitet | None = felt("7-YDEL", "IntensityCode")
    startdato: Dato = felt("2-YDEL", "YdelseStartDato", ...)
    slutdato: Dato | None = felt("4-YDEL", "YdelseSlutDato")
    afsluttet_aarsag: YdelseAfsluttetAarsag | None = felt("3-YDEL", "YdelseAfsluttetAarsagKode")
    afsluttet_tekst: str | None = felt("11-YDEL", "OtherTerminationReasonDescription", max_length=TEKST)


@registrer("UDSK")
class Udskrivning(SmdbModel):
    """Udskrivning af borger fra tilbud (UDSK)."""

    smdb_id: Heltal | None = smdb_id_felt("UdskrivningId")
    udskrivningsdato: Dato = felt("3-UDSK", "UdskrivningDato", ...)
    aarsag: UdskrivningAarsag | None = felt("4-UDSK", "UdskrivningAarsagKode")
    aarsag_tekst: str | None = felt("5-UDSK", "UdskrivningAarsagTekst", max_length=TEKST)
    selvhjaelpsnetvaerk: JaNejUoplyst | None = felt("1-UDSK", "PersonSelvhjaelpsnetvaerkKontaktKode")
    stoffri_partner: JaNejUoplyst | None = felt("2-UDSK", "PersonStoffriPartnerKode")
    boligsituation: BoligsituationEfterUdskrivning | None = felt("6-UDSK", "PersonBoligsituationEfterUdskrivningKode")
    hovedindtaegtskilde: Hovedindtaegtskilde | None = felt("7-UDSK", "PersonHovedindtaegtskildeEfterUdskrivningKode")


class Indskrivningsforloeb(SmdbModel):
    """One enrolment at a provider: INDS with its YDEL list and optional UDSK (rules §6.1.6-§6.1.7)."""

    indskrivning: Indskrivning = Field(alias="INDS")
    ydelser: list[Ydelse] = Field(default_factory=list, alias="YDEL")
    udskrivning: Udskrivning | None = Field(default=None, alias="UDSK")
