"""The 22 substances of the 18-IVÆR matrix, as one table that drives models, schema and rules.

Every substance has five official variables, all named ``<Prefix><Suffix>`` with the suffixes in
:data:`VARIABLER`. Keeping the table in one place means the model fields, the JSON Schema, the
allowed-mode rule (§6.1.3, 18-IVÆR c) and the SOAP mapping cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from smdb.codes import Hovedstof
from smdb.codes import Indtagelsesmaade as M

_ALLE = frozenset(M)
#: §6.1.3 c: ordered methadone/buprenorphine/heroin cannot be smoked (2) or sniffed (4).
_ORDINERET = frozenset({M.INJEKTION, M.SPISER_DRIKKER, M.UOPLYST})


@dataclass(frozen=True, slots=True)
class StofInfo:
    prefix: str
    label: str
    modes: frozenset[M]
    hovedstof: Hovedstof | None


class Stof(Enum):
    """One member per substance row of 18-IVÆR, in the order of the specification."""

    ORDINERET_METADON = StofInfo("OrdineretMetadon", "Metadon (ordineret)", _ORDINERET, None)
    ILLEGAL_METADON = StofInfo("IllegalMetadon", "Metadon (illegal)", _ALLE, Hovedstof.METADON_ILLEGAL)
    ORDINERET_HEROIN = StofInfo("OrdineretHeroin", "Heroin (ordineret)", _ORDINERET, None)
    ILLEGAL_HEROIN = StofInfo("IllegalHeroin", "Heroin (illegal)", _ALLE, Hovedstof.HEROIN_ILLEGAL)
    TRAMADOL = StofInfo("Tramadol", "Tramadol", _ALLE, Hovedstof.TRAMADOL)
    OXYCODON = StofInfo("Oxycodon", "Oxycodon", _ALLE, Hovedstof.OXYCODON)
    FENTANYL = StofInfo("Fentanyl", "Fentanyl", _ALLE, Hovedstof.FENTANYL)
    ANDRE_OPIATER = StofInfo("AndreOpiater", "Andre opiater", _ALLE, Hovedstof.ANDRE_OPIATER)
    ORDINERET_BUPRENORPHIN = StofInfo("OrdineretBuprenorphin", "Buprenorphin (ordineret)", _ORDINERET, None)
    ILLEGAL_BUPRENORPHIN = StofInfo(
        "IllegalBuprenorphin", "Buprenorphin (illegal)", _ALLE, Hovedstof.BUPRENORPHIN_ILLEGAL
    )
    ORDINERET_BENZODIAZEPINER = StofInfo("OrdineretBenzodiazepiner", "Benzodiazepiner (ordineret)", _ALLE, None)
    ILLEGAL_BENZODIAZEPINER = StofInfo(
        "IllegalBenzodiazepiner", "Benzodiazepiner (illegal)", _ALLE, Hovedstof.BENZODIAZEPINER_ILLEGAL
    )
    AMFETAMIN = StofInfo("Amfetaminer", "Amfetamin", _ALLE, Hovedstof.AMFETAMIN)
    METAMFETAMIN = StofInfo("Metamfetamin", "Metamfetamin", _ALLE, Hovedstof.METAMFETAMIN)
    KOKAIN_PULVER = StofInfo("KokainPulver", "Kokain (pulver)", _ALLE, Hovedstof.KOKAIN_PULVER)
    KOKAIN_CRACK = StofInfo("KokainCrack", "Kokain (crack)", _ALLE, Hovedstof.KOKAIN_CRACK)
    #: §6.1.3 c: for ecstasy 4 (sniffer) cannot be chosen.
    ECSTASY = StofInfo("Ecstasy", "Ecstasy og lign.", _ALLE - {M.SNIFFER}, Hovedstof.ECSTASY)
    HALLUCINOGENER = StofInfo("Hallucinogener", "Hallucinogener", _ALLE, Hovedstof.HALLUCINOGENER)
    #: §6.1.3 c: for hash/cannabis 1 and 4 cannot be chosen.
    CANNABIS = StofInfo(
        "Cannabis", "Hash/cannabis", frozenset({M.RYGNING, M.SPISER_DRIKKER, M.UOPLYST}), Hovedstof.CANNABIS
    )
    #: §6.1.3 c: for solvents 1, 2 and 3 cannot be chosen.
    OPLOESNINGSMIDLER = StofInfo(
        "Oploesningsmidler",
        "Opløsningsmidler (inhalanter)",
        frozenset({M.SNIFFER, M.UOPLYST}),
        Hovedstof.OPLOESNINGSMIDLER,
    )
    ANDRE_STOFFER = StofInfo("AndreStoffer", "Andre stoffer", _ALLE, Hovedstof.ANDRE_STOFFER)
    #: §6.1.3 c: for alcohol 1, 2 and 4 cannot be chosen.
    ALKOHOL = StofInfo("Alkohol", "Alkohol", frozenset({M.SPISER_DRIKKER, M.UOPLYST}), None)

    @property
    def info(self) -> StofInfo:
        value: StofInfo = self.value
        return value

    def variabel(self, suffix: str) -> str:
        """Official variable name of one of the five columns, e.g. ``CannabisIndtagelseshyppighedKode``."""
        return self.info.prefix + suffix


#: The five columns per substance: (suffix of the official name, python attribute suffix).
DAGE = "DageIndtagetSenesteMaanedKvantitet"
ALDER = "FoersteBrugAlderKvantitet"
VIL_IKKE_OPLYSE = "FoersteBrugAlderVilIkkeOplyseIndikator"
HYPPIGHED = "IndtagelseshyppighedKode"
MAADE = "TypiskIndtagelsesmaadeKode"
VARIABLER: tuple[tuple[str, str], ...] = (
    (DAGE, "dage"),
    (ALDER, "alder_foerste_brug"),
    (VIL_IKKE_OPLYSE, "alder_vil_ikke_oplyse"),
    (HYPPIGHED, "hyppighed"),
    (MAADE, "maade"),
)


def attribut(stof: Stof, suffix: str) -> str:
    """Python attribute name of one substance column, e.g. ``cannabis_hyppighed``."""
    for official, py in VARIABLER:
        if official == suffix:
            return f"{stof.name.lower()}_{py}"
    raise KeyError(suffix)
