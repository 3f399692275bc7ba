"""The register's logic in one place: what SMDB holds, assembled into courses, and whether a change may be made.

The client (validating before it sends), the reporting workflow (planning against what is stored), systemskifte
and the simulator (refusing what breaks the rules) all ask the same two questions, so they share one answer:

- :func:`saml_forloeb` assembles stored courses from the records Hent* returns, following the reference ids only
  (a record can never attach to another citizen's course);
- :func:`aendringens_brud` is every rule violation a change *introduces*, judged against the citizen's other
  stored courses (§6.1.2 across the register); old data is not the caller's fault.

Domain level: no SOAP here. :class:`Hentet` is a fetched record with the ids it refers to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from smdb.models import (
    Afslutning,
    Anmodning,
    Ivaerksaettelse,
    Kontaktforloeb,
    KvalHep,
    SmdbModel,
    Tilbudstilknytning,
    Udskrivning,
)
from smdb.rules import Violation, nye_brud
from smdb.rules.register import LAND_FINDES, TILBUD_FINDES

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class Hentet(Generic[M]):
    """A record fetched with Hent*, with the SMDB ids it refers to (§1.2: fetch first, then reference)."""

    record: M
    anmodning_id: int | None = None
    ivaerksaettelse_id: int | None = None
    indskrivning_id: int | None = None
    afslutning: Afslutning | None = None
    udskrivning: Udskrivning | None = None


def aendringens_brud(
    nyt: Kontaktforloeb, foer: Kontaktforloeb | None, alle: list[Kontaktforloeb], today: date
) -> list[Violation]:
    """The violations the change from ``foer`` (what SMDB holds, or None) to ``nyt`` introduces, with ``alle`` the
    citizen's stored courses (the course itself, recognised by its AnmodningId, is left out of the others)."""
    stored_id = (foer.anmodning.smdb_id if foer is not None else None) or nyt.anmodning.smdb_id
    andre = [f for f in alle if f is not foer and (stored_id is None or f.anmodning.smdb_id != stored_id)]
    return nye_brud(nyt, foer, andre, today)


def saml_forloeb(
    anmodninger: list[Hentet[Anmodning]],
    ivaerksaettelser: list[Hentet[Ivaerksaettelse]],
    tilknytninger: list[Hentet[Tilbudstilknytning]],
    kvalhep: list[Hentet[KvalHep]],
    kommunekode: int | None = None,
) -> list[Kontaktforloeb]:
    """Assemble stored courses from the Hent* results, following the reference ids."""
    iv_by_anm: dict[int, list[Ivaerksaettelse]] = {}
    for h in ivaerksaettelser:
        if h.anmodning_id is not None:
            iv_by_anm.setdefault(h.anmodning_id, []).append(h.record)
    tilb_by_iv: dict[int, list[Tilbudstilknytning]] = {}
    for t in tilknytninger:
        if t.ivaerksaettelse_id is not None:
            tilb_by_iv.setdefault(t.ivaerksaettelse_id, []).append(t.record)
    kval_by_iv: dict[int, list[KvalHep]] = {}
    for k in kvalhep:
        if k.ivaerksaettelse_id is not None:
            kval_by_iv.setdefault(k.ivaerksaettelse_id, []).append(k.record)
    out = []
    for a in anmodninger:
        anm = a.record
        ivs = iv_by_anm.get(anm.smdb_id or -1, [])
        iv = ivs[0] if ivs else None
        iv_id = iv.smdb_id if iv is not None else None
        kommune = anm.kommunekode or kommunekode
        if kommune is None:
            raise ValueError("Anmodningen har ingen KommuneKode")
        data: dict[str, Any] = {
            "kommunekode": kommune,
            "ANM": anm,
            "IVÆR": ivs if len(ivs) > 1 else iv,
            "TILB": tilb_by_iv.get(iv_id or -1, []),
            "KvalHep": kval_by_iv.get(iv_id or -1, []) or None,
            "AFSL": a.afslutning,
        }
        out.append(Kontaktforloeb.model_validate(data))
    return out


def ukendte_henvisninger(
    records: list[SmdbModel], tilbud_ids: frozenset[int], landekoder: frozenset[str]
) -> list[Violation]:
    """The references to SMDB's lookup lists (§1.2: fetch first, "som bruges som opslag") that the lists do not
    hold: a TilbudId not in HentAlleTilbud, a statsborgerskab not in HentLandeliste (99 = Uoplyst is always valid).
    SMDB refuses them (REFERENCE); checked before sending so that the municipality hears it at once."""
    out: list[Violation] = []
    for record in records:
        if isinstance(record, Tilbudstilknytning) and record.tilbud_id not in tilbud_ids:
            rule = TILBUD_FINDES
            out.append(
                Violation(rule.afsnit, ("1-TILB",), rule.kode, f"TilbudId {record.tilbud_id}: {rule.beskrivelse}")
            )
        if isinstance(record, Ivaerksaettelse) and record.statsborgerskab not in (None, "99", *landekoder):
            rule = LAND_FINDES
            code = record.statsborgerskab
            out.append(Violation(rule.afsnit, ("10-IVÆR",), rule.kode, f"Landekode {code}: {rule.beskrivelse}"))
    return out
