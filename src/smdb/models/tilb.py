"""TILB: Tilknytning til tilbud (§3.1)."""

from __future__ import annotations

from smdb.codes import Behandlingsintensitet, Behandlingstype
from smdb.models._base import Bool, Dato, Heltal, SmdbModel, felt, registrer, smdb_id_felt


@registrer("TILB")
class Tilbudstilknytning(SmdbModel):
    """One offer (tilbud) attached to the iværksættelse; a course may have several (§6.1.4)."""

    smdb_id: Heltal | None = smdb_id_felt("TilbudstilknytningId")
    tilbud_id: Heltal = felt("1-TILB", "TilbudId", ..., ge=1, description="Tilbud fra HentAlleTilbud")
    frit_valg: Bool | None = felt("2-TILB", "PersonBehandlingFritValgIndikator")
    startdato: Dato | None = felt("3-TILB", "TilbudTilknyttetBehandlingStartDato")
    slutdato: Dato | None = felt("4-TILB", "TilbudTilknyttetBehandlingSlutDato")
    intensitet: Behandlingsintensitet | None = felt("7-TILB", "BehandlingIntensitetKode")
    behandlingstype: Behandlingstype = felt("8-TILB", "BehandlingTypeKode", ...)
    autorisations_id: str | None = felt(
        "9-TILB",
        "AutorisationKodeTekst",
        pattern=r"^[0-9A-Za-z]{5}$",
        description="Lægens autorisationsID (5 tegn); vises, hvis 8-TILB er forskellig fra 04 og 06",
    )

    @property
    def er_aaben(self) -> bool:
        """No end date yet (4-TILB)."""
        return self.slutdato is None
