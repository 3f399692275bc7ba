"""IVÆR: Iværksættelse af behandling (§3.1), including the 22 x 5 substance matrix of 18-IVÆR."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import WithJsonSchema, create_model

from smdb.codes import (
    Behandlingsformaal,
    Boligsituation,
    DeltVaerktoej,
    FoersteInjektionAlder,
    GarantiOverskredetAarsag,
    Grundskole,
    Henvisning,
    Hovedindtaegtskilde,
    Hovedstof,
    Immigrant,
    Indtagelseshyppighed,
    Indtagelsesmaade,
    Injektion,
    LaegesamtaleTidsfristAarsag,
    OenskerLaegesamtale,
    Samlivssituation,
    Screeningsvaerktoej,
    Substitutionsbehandling,
    Testet,
    Ungdomsuddannelse,
    VideregaaendeUddannelse,
)
from smdb.models._base import Bool, Dato, Heltal, SmdbModel, felt, registrer, smdb_id_felt
from smdb.stoffer import ALDER, DAGE, HYPPIGHED, MAADE, VIL_IKKE_OPLYSE, Stof, StofInfo, attribut

TEKST = 250


@dataclass(frozen=True, slots=True)
class Stofbrug:
    """One row of 18-IVÆR read from the flat official fields."""

    stof: Stof
    info: StofInfo
    dage: int | None
    alder_foerste_brug: int | None
    alder_vil_ikke_oplyse: bool | None
    hyppighed: Indtagelseshyppighed | None
    maade: Indtagelsesmaade | None

    @property
    def udfyldt(self) -> bool:
        """Any of the five fields answered (a blank checkbox, False, counts as not answered)."""
        return (
            self.dage is not None
            or self.alder_foerste_brug is not None
            or bool(self.alder_vil_ikke_oplyse)
            or self.hyppighed is not None
            or self.maade is not None
        )

    @property
    def komplet(self) -> bool:
        """All fields answered: days, age (or "vil ikke oplyse"), frequency and mode (§6.1.3 18-IVÆR b)."""
        return (
            self.dage is not None
            and (self.alder_foerste_brug is not None or bool(self.alder_vil_ikke_oplyse))
            and self.hyppighed is not None
            and self.maade is not None
        )


def _stof_felter() -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for stof in Stof:
        label = stof.info.label
        modes = sorted(m.value for m in stof.info.modes)
        fields[attribut(stof, DAGE)] = (
            Heltal | None,
            felt("18-IVÆR", stof.variabel(DAGE), ge=0, le=30, description=f"{label}: Indtaget antal dage"),
        )
        fields[attribut(stof, ALDER)] = (
            Heltal | None,
            felt("18-IVÆR", stof.variabel(ALDER), ge=0, le=99, description=f"{label}: Alder ved førstegangsbrug"),
        )
        fields[attribut(stof, VIL_IKKE_OPLYSE)] = (
            Bool | None,
            felt("18-IVÆR", stof.variabel(VIL_IKKE_OPLYSE), description=f"{label}: Alder uoplyst"),
        )
        fields[attribut(stof, HYPPIGHED)] = (
            Indtagelseshyppighed | None,
            felt("18-IVÆR", stof.variabel(HYPPIGHED), description=f"{label}: Indtagelseshyppighed"),
        )
        # Parsing accepts every mode so that a wrong one is reported as §6.1.3 c; the schema shows the truth.
        only_allowed = WithJsonSchema({"anyOf": [{"type": "string", "enum": modes}, {"type": "null"}]})
        fields[attribut(stof, MAADE)] = (
            Annotated[Indtagelsesmaade | None, only_allowed],
            felt(
                "18-IVÆR",
                stof.variabel(MAADE),
                description=f"{label}: Typisk indtagelsesmåde (tilladte koder: {', '.join(modes)}, §6.1.3 c)",
                json_schema_extra={"x-allowed-codes": modes},
            ),
        )
    return fields


_Stofmatrix: Any = create_model("_Stofmatrix", __base__=SmdbModel, **_stof_felter())

#: Per substance, its info and the attribute names of its five columns: looked up once, read for every course
#: (validating a national year reads 20,000 x 22 rows).
_RAEKKER: tuple[tuple[Stof, StofInfo, str, str, str, str, str], ...] = tuple(
    (
        s,
        s.info,
        attribut(s, DAGE),
        attribut(s, ALDER),
        attribut(s, VIL_IKKE_OPLYSE),
        attribut(s, HYPPIGHED),
        attribut(s, MAADE),
    )
    for s in Stof
)
_RAEKKE = {r[0]: r for r in _RAEKKER}


@registrer("IVÆR")
class Ivaerksaettelse(_Stofmatrix):
    """The start of treatment: one per anmodning (§6.1.3).

    2-IVÆR and 3-IVÆR are derived from the anmodning and the CPR number; see
    :meth:`smdb.models.Kontaktforloeb.dage_siden_anmodning` and ``alder_ved_ivaerksaettelse``. They may
    be present in data fetched from SMDB and are then checked, never trusted.
    """

    smdb_id: Heltal | None = smdb_id_felt("IvaerksaettelseId")
    oensker_laegesamtale: OenskerLaegesamtale | None = felt("24-IVÆR", "OenskerBorgerTilbudLaegesamtaleKode")
    laegesamtale_afholdt: Bool | None = felt("25-IVÆR", "LaegesamtaleAfholdtIndikator")
    laegesamtale_dato: Dato | None = felt("26-IVÆR", "LaegesamtaleAfholdtDato")
    laegesamtale_tidsfrist_aarsag: LaegesamtaleTidsfristAarsag | None = felt(
        "29-IVÆR", "LaegesamtaleIkkeAfholdtAarsagTidsfristOverskredetKode"
    )
    laegesamtale_tidsfrist_tekst: str | None = felt(
        "30-IVÆR", "LaegesamtaleIkkeAfholdtAarsagTidsfristOverskredetTekst", max_length=TEKST
    )
    ivaerksat_dato: Dato = felt("1-IVÆR", "IvaerksatBehandlingDato", ...)
    dage_siden_anmodning: Heltal | None = felt(
        "2-IVÆR",
        "IvaerksatBehandlingDageSidenAnmodningKvantitet",
        ge=0,
        description="Read only: udregnet fra BehandlingAnmodningDato og IvaerksatBehandlingDato",
    )
    alder: Heltal | None = felt(
        "3-IVÆR",
        "PersonIvaerksatBehandlingAlderKvantitet",
        ge=0,
        description="Read only: udregnet fra CPR og IvaerksatBehandlingDato",
    )
    garanti_aarsag: GarantiOverskredetAarsag | None = felt("4-IVÆR", "BehandlingGarantiOverskredetAarsagKode")
    garanti_tekst: str | None = felt("5-IVÆR", "BehandlingGarantiOverskredetAarsagTekst", max_length=TEKST)
    screeningsvaerktoej: Screeningsvaerktoej | None = felt("42-IVÆR", "ScreeningsvaerktoejAnvendtIvaerksaetKode")
    screeningsvaerktoej_tekst: str | None = felt(
        "43-IVÆR", "ScreeningsvaerktoejAnvendtIvaerksaetTekst", max_length=TEKST
    )
    formaal: Behandlingsformaal | None = felt("6-IVÆR", "BehandlingFormaalKode")
    henvisning: Henvisning | None = felt("31-IVÆR", "HenvisningPaaOpfordringAfKode")
    hovedindtaegtskilde: Hovedindtaegtskilde | None = felt("7-IVÆR", "PersonHovedindtaegtskildeKode")
    samlivssituation: Samlivssituation | None = felt("8-IVÆR", "PersonSamlivssituationKode")
    boligsituation: Boligsituation | None = felt("9-IVÆR", "PersonBoligsituationKode")
    statsborgerskab: str | None = felt(
        "10-IVÆR",
        "PersonStatsborgerskabKode",
        pattern=r"^(\d{4}|99)$",
        description="4-cifret landekode fra CPR (HentLandeliste) eller 99 = Uoplyst",
    )
    immigrant: Immigrant | None = felt("11-IVÆR", "PersonImmigrantKode")
    grundskole: Grundskole | None = felt("12-IVÆR", "PersonGrundskoleuddannelseKode")
    ungdomsuddannelse: Ungdomsuddannelse | None = felt("13-IVÆR", "PersonUngdomsuddannelseKode")
    videregaaende: VideregaaendeUddannelse | None = felt("14-IVÆR", "PersonVideregaaendeUddannelseKode")
    boern_kontakt: Heltal | None = felt("15-IVÆR", "PersonBoernMedKontaktKvantitet", ge=0, le=99)
    boern_kontakt_vil_ikke_oplyse: Bool | None = felt("15-IVÆR", "PersonBoernMedKontaktKvantitetVilIkkeOplyseIndikator")
    boern_anbragt: Heltal | None = felt("16-IVÆR", "PersonBoernAnbragtUdenforHjemmetKvantitet", ge=0, le=99)
    boern_anbragt_vil_ikke_oplyse: Bool | None = felt(
        "16-IVÆR", "PersonBoernAnbragtUdenforHjemmetKvantitetVilIkkeOplyseIndikator"
    )
    stoffri_seneste_maaned: Bool | None = felt("17-IVÆR", "PersonStoffriSenesteMaanedIndikator")
    kommentar_andre_stoffer: str | None = felt("37-IVÆR", "KommentarOmkringAndreStoffer", max_length=TEKST)
    hovedstof_ikke_muligt: Bool | None = felt("19-IVÆR", "PersonHovedstofAngivelseIkkeMuligIndikator")
    hovedstof: Hovedstof | None = felt(
        "20-IVÆR", "PersonAktueltHovedstofKode", description="Ordinerede stoffer kan ikke angives som hovedstof"
    )
    injektion: Injektion | None = felt("32-IVÆR", "PersonNogensindeInjiceretEllerInjicererForTidenKode")
    delt_vaerktoej: DeltVaerktoej | None = felt("33-IVÆR", "PersonNogensindeDeltEllerDelerVaerktoejForTidenKode")
    foerste_injektion_alder: FoersteInjektionAlder | None = felt("22-IVÆR", "PersonFoersteInjektionAlderKode")
    testet_hcv: Testet | None = felt("34-IVÆR", "PersonNogensindeTestetHCVKode")
    testet_hiv: Testet | None = felt("35-IVÆR", "PersonNogensindeTestetHIVKode")
    substitutionsbehandling: Substitutionsbehandling | None = felt(
        "36-IVÆR", "PersonNogensindeSubstitutionsbehandlingKode"
    )
    foerste_substitution_alder: Heltal | None = felt(
        "41-IVÆR", "PersonFoersteSubstitutionsbehandlingAlderKvantitet", ge=0, le=99
    )

    def stof(self, stof: Stof) -> Stofbrug:
        """The 18-IVÆR row of one substance."""
        s, info, dage, alder, vil_ikke, hyppighed, maade = _RAEKKE[stof]
        g = self.__dict__
        return Stofbrug(s, info, g[dage], g[alder], g[vil_ikke], g[hyppighed], g[maade])

    def stofbrug(self) -> list[Stofbrug]:
        """All 22 rows of 18-IVÆR in the order of the specification."""
        g = self.__dict__
        return [Stofbrug(s, info, g[d], g[a], g[v], g[h], g[m]) for s, info, d, a, v, h, m in _RAEKKER]
