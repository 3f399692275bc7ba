"""Aktivliste: the municipality's active courses and open indskrivninger (DST's list, and the systemskifte's
starting point).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from smdb.client import SmdbClient
from smdb.models import Indskrivningsforloeb, Kontaktforloeb, Ydelse
from smdb.systemskifte.plan import sidste_aktivitet


def aktive_forloeb(client: SmdbClient, kommunekode: int) -> list[Kontaktforloeb]:
    """DST's "Borgere med igangværende kontaktforløb": courses of the municipality with no AFSL (four Hent calls
    by KommuneKode, not four per citizen)."""
    alle = client.hent_kommunens_forloeb(kommunekode)
    return sorted(
        (f for courses in alle.values() for f in courses if f.afslutning is None and f.kommunekode == kommunekode),
        key=lambda f: (f.anmodningsdato, f.anmodning.smdb_id or 0),
    )


def aabne_indskrivninger(client: SmdbClient, kommunekode: int) -> list[Indskrivningsforloeb]:
    """The municipality's open indskrivninger (no udskrivning), each with its open ydelser (no end date)."""
    out = []
    for h in client.hent_indskrivninger(kommunekode=kommunekode):
        if h.udskrivning is not None or h.record.smdb_id is None or h.record.myndighed != kommunekode:
            continue  # closed, or (should the search be wider than asked) another municipality's
        ydelser: list[Ydelse] = [
            y.record for y in client.hent_ydelser(indskrivning_id=h.record.smdb_id) if y.record.slutdato is None
        ]
        out.append(Indskrivningsforloeb(indskrivning=h.record, ydelser=ydelser))
    return out


#: The columns of the active-course list, fixed so that an empty list still has a header for the reader.
AKTIVLISTE_KOLONNER = (
    "Skema",
    "PersonIdentifikator",
    "KommuneKode",
    "Id",
    "Startdato",
    "IvaerksatBehandlingDato",
    "AabneTilbud",
    "KvalHep",
    "SidsteAktivitet",
    "System",
)


def aktivliste_rows(
    forloeb: Iterable[Kontaktforloeb],
    indskrivninger: Iterable[Indskrivningsforloeb] = (),
    *,
    mellemloesning_fra: date | None = None,
) -> list[dict[str, Any]]:
    """DST's "Aktivliste": the active anmodninger and indskrivninger. With ``mellemloesning_fra``, the column
    System says which system owns each: the old one (SMDB-web) for what began before that date, else the new."""

    def system(start: date) -> str:
        if mellemloesning_fra is None:
            return ""
        return "gammelt (SMDB-web)" if start < mellemloesning_fra else "nyt"

    rows = []
    for f in forloeb:
        iv = f.ivaerksaettelse
        rows.append(
            {
                "Skema": "Anmodning",
                "PersonIdentifikator": str(f.cpr),
                "KommuneKode": f.kommunekode,
                "Id": f.anmodning.smdb_id,
                "Startdato": f.anmodningsdato.isoformat(),
                "IvaerksatBehandlingDato": iv.ivaerksat_dato.isoformat() if iv else "",
                "AabneTilbud": ", ".join(str(t.tilbud_id) for t in f.tilbud if t.slutdato is None),
                "KvalHep": "ja" if f.kvalhep else "nej",
                "SidsteAktivitet": sidste_aktivitet(f).isoformat(),
                "System": system(f.anmodningsdato),
            }
        )
    for i in indskrivninger:
        inds = i.indskrivning
        rows.append(
            {
                "Skema": "Indskrivning",
                "PersonIdentifikator": str(inds.cpr),
                "KommuneKode": inds.myndighed,
                "Id": inds.smdb_id,
                "Startdato": inds.indskrivningsdato.isoformat(),
                "IvaerksatBehandlingDato": "",
                "AabneTilbud": str(inds.tilbud_id),
                "KvalHep": "",
                "SidsteAktivitet": max([inds.indskrivningsdato, *(y.startdato for y in i.ydelser)]).isoformat(),
                "System": system(inds.indskrivningsdato),
            }
        )
    return rows
