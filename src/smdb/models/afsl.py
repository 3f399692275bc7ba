"""AFSL: Afslutning af behandling (§3.1)."""

from __future__ import annotations

from smdb.codes import AfsluttetAarsag, AfsluttetStatus
from smdb.models._base import Dato, Heltal, SmdbModel, felt, registrer, smdb_id_felt


@registrer("AFSL")
class Afslutning(SmdbModel):
    """The end of a contact course; at most one per course (§6.1.5)."""

    smdb_id: Heltal | None = smdb_id_felt("AfslutningId")
    afsluttet_dato: Dato = felt("1-AFSL", "BehandlingAfsluttetDato", ...)
    status: AfsluttetStatus | None = felt("2-AFSL", "BehandlingAfsluttetStatusKode")
    aarsag: AfsluttetAarsag = felt("3-AFSL", "BehandlingAfsluttetAarsagKode", ...)
    aarsag_tekst: str | None = felt(
        "3-AFSL",
        "BehandlingAfsluttetAarsagTekst",
        max_length=400,
        description="Vises ved svar 10 (Anden årsag); the spec gives this text no Felt-ID of its own",
    )
