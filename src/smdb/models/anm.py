"""ANM: Anmodning om behandling (§3.1)."""

from __future__ import annotations

from smdb.codes import JaNejUoplyst, Koen
from smdb.models._base import CprNummer, Dato, Heltal, Kommunekode, SmdbModel, felt, registrer, smdb_id_felt


@registrer("ANM")
class Anmodning(SmdbModel):
    """A citizen's request for treatment; the start of every contact course (kontaktforløb)."""

    smdb_id: Heltal | None = smdb_id_felt("AnmodningId")
    cpr: CprNummer = felt("6-ANM", "PersonIdentifikator", ..., description="CPR-nummer")
    navn: str | None = felt("7-ANM", "PersonNavn", max_length=250, description="Borger")
    kommunekode: Kommunekode | None = felt(
        "8-ANM", "KommuneKode", description="Opholdskommune (3 cifre); defaults to the course's kommunekode"
    )
    koen: Koen = felt("1-ANM", "PersonKoenKode", ..., description="Borgerens køn")
    anmodningsdato: Dato = felt("2-ANM", "BehandlingAnmodningDato", ..., description="Anmodningsdato")
    tidligere_behandling: JaNejUoplyst | None = felt(
        "3-ANM", "BehandlingTidligereKode", description="Tidligere i stofmisbrugsbehandling"
    )
    gravid: JaNejUoplyst | None = felt(
        "4-ANM", "PersonGravidKode", description="Vises, hvis PersonKoenKode=Kvinde (og skal da besvares)"
    )
    psykisk_lidelse: JaNejUoplyst | None = felt(
        "5-ANM",
        "PersonPsykiskFunktionsnedsættelseKode",
        description="Diagnosticeret psykisk lidelse ud over stofmisbrug",
    )
