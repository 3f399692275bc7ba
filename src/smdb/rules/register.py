"""The rules that need the register: checked by SMDB (and the simulator) against what is stored, not by the client.

The client validates a course against every business rule before it sends (:mod:`smdb.rules`), including §6.1.2
against the citizen's other stored courses. What only the register can decide -- does the referenced id exist,
does a correction name a record of this very course, may this anmodning's CPR change -- is declared here, once,
with its section and its fault code, so that the simulator raises them by name (not as inline text) and
``docs/rules.md`` lists them. Each has a test that makes the simulator refuse it
(``tests/test_register_rules.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from smdb.models import Kontaktforloeb

FORRETNINGSREGEL = "FORRETNINGSREGEL"
REFERENCE = "REFERENCE"


@dataclass(frozen=True, slots=True)
class RegisterRegel:
    """A register rule: machine code, section, the fault code SMDB answers with, and a Danish description."""

    kode: str
    afsnit: str
    fejlkode: str
    beskrivelse: str


REGISTER_REGLER: dict[str, RegisterRegel] = {}


def register_regel(kode: str, afsnit: str, fejlkode: str, beskrivelse: str) -> RegisterRegel:
    """Declare a register rule once; its code must be unique."""
    if kode in REGISTER_REGLER:
        raise ValueError(f"duplicate register rule {kode}")
    rule = RegisterRegel(kode, afsnit, fejlkode, beskrivelse)
    REGISTER_REGLER[kode] = rule
    return rule


ID_FINDES = register_regel(
    "id_findes", "1.2", REFERENCE, "Et id, der henvises til, skal findes i SMDB (hent først, så henvis; §1.2)."
)
ID_I_FORLOEBET = register_regel(
    "id_i_forloebet", "1.2", REFERENCE, "En rettelse skal pege på en post i netop det forløb, den indberettes til."
)
KOMMUNEKODE_ANGIVET = register_regel(
    "kommunekode_angivet", "3.1", FORRETNINGSREGEL, "[8-ANM] KommuneKode skal angives, når anmodningen indberettes."
)
CPR_UAENDRET = register_regel(
    "cpr_uaendret",
    "5.1",
    FORRETNINGSREGEL,
    "CPR-nummeret på en indberettet anmodning kan ikke ændres; det kræver sletning i SMDB-web eller hos DST.",
)
INGEN_SLETNING = register_regel(
    "ingen_sletning",
    "5.1",
    FORRETNINGSREGEL,
    "Webservicen sletter og genåbner ikke indberetninger (der er ingen operation til det); "
    "det sker i SMDB-web eller hos DST.",
)
EN_UDSKRIVNING = register_regel(
    "en_udskrivning",
    "6.1.6",
    FORRETNINGSREGEL,
    "En indskrivning udskrives én gang; en ny udskrivning er en rettelse af den gemte (med dens UdskrivningId).",
)
ASI_FOER_2019 = register_regel(
    "asi_foer_2019", "6.2", FORRETNINGSREGEL, "ASI indberettes kun for forløb med anmodning før 1. juli 2019."
)
ASI_HENVISNING = register_regel(
    "asi_henvisning", "6.2", REFERENCE, "ASI skal henvise til en anmodning eller en indskrivning."
)
TILBUD_FINDES = register_regel(
    "tilbud_findes",
    "1.2",
    REFERENCE,
    "[1-TILB] TilbudId skal være et tilbud i SMDB's tilbudsregister (HentAlleTilbud).",
)
LAND_FINDES = register_regel(
    "land_findes",
    "1.2",
    REFERENCE,
    "[10-IVÆR] PersonStatsborgerskabKode skal være en landekode fra HentLandeliste eller 99 (Uoplyst).",
)
EN_AKTIV_AD_GANGEN = register_regel(
    "en_aktiv_ad_gangen",
    "6.1.2",
    FORRETNINGSREGEL,
    "Kommunen må kun have ét aktivt kontaktforløb for borgeren ad gangen: et forløbs periode (fra anmodning til "
    "afslutning) må ikke overlappe et andet forløbs for samme borger i samme kommune.",
)


def forloeb_overlapper(a: Kontaktforloeb, b: Kontaktforloeb) -> bool:
    """Do two courses' periods overlap? Each runs from its anmodning to its afslutning (open: for ever); a course
    anmodet on the day another ends follows it, it does not overlap it."""
    a_slut = a.afslutning.afsluttet_dato if a.afslutning is not None else None
    b_slut = b.afslutning.afsluttet_dato if b.afslutning is not None else None
    return (b_slut is None or a.anmodningsdato < b_slut) and (a_slut is None or b.anmodningsdato < a_slut)
