"""A municipality's register as DST's systemskifte guide meets it: every state the guide names, and the untidy rest.

Kommune 101 changes reporting system with the cut-over date ``SKIFTEDATO`` (the last day in the old system);
"today" is the test suite's ``TODAY``. Each course is named by a letter, and :data:`FORVENTET` says what the guide
asks to happen to it in model 2, model 1 and the mellemløsning, so the tests compare the simulator's register
with the guide rather than with this library's own idea of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from smdb import eksempler as ex
from smdb.client import SmdbClient
from smdb.models import Indskrivning, Kontaktforloeb, Udskrivning, Ydelse
from smdb.reporting import Reporter

SKIFTEDATO = date(2024, 12, 31)
KOMMUNE = 101
ANDEN_KOMMUNE = 147


@dataclass(frozen=True)
class Forventet:
    """What the guide asks for one course (or indskrivning), per model."""

    #: model 2: "luk" (closed at the cut-over as Systemskifte), "glemt", "slet_efter", "ret_foerst", "intet"
    model2: str
    #: model 1: "slet", "glemt", "intet"
    model1: str
    #: mellemløsning: "gammelt", "nyt", "intet" (not active, or another municipality)
    mellem: str


def _cpr(n: int, kvinde: bool) -> str:
    """Made-up, valid-format CPR numbers: born 1 January 1980 + n days; even last digit for a woman."""
    return f"{(n % 28) + 1:02d}{(n // 28) % 12 + 1:02d}80{4000 + n * 2 + (0 if kvinde else 1):04d}"


def _forloeb(
    n: int,
    anmodning: date,
    *,
    iv_dage: int | None = 9,
    substitution: bool = False,
    tilbud: list[tuple[date | None, date | None]] | None = None,
    afsluttet: date | None = None,
    kommune: int = KOMMUNE,
) -> dict[str, Any]:
    """A course of citizen ``n``; ``tilbud`` gives (start, end) of each offer (None: keep the default)."""
    kvinde = n % 2 == 0
    d = ex.kontaktforloeb(
        cpr=_cpr(n, kvinde),
        kvinde=kvinde,
        kommunekode=kommune,
        anmodningsdato=anmodning,
        dage_til_ivaerksaettelse=iv_dage,
        afsluttet_efter_dage=None,
        substitution=substitution,
    )
    for t, (start, slut) in zip(d.get("TILB", []), tilbud or [], strict=False):
        if start is not None:
            t["TilbudTilknyttetBehandlingStartDato"] = start.isoformat()
        if slut is not None:
            t["TilbudTilknyttetBehandlingSlutDato"] = slut.isoformat()
    if afsluttet is not None:
        d["AFSL"] = {
            "BehandlingAfsluttetDato": afsluttet.isoformat(),
            "BehandlingAfsluttetStatusKode": "03",
            "BehandlingAfsluttetAarsagKode": "01",
        }
    return d


def _d(text: str) -> date:
    return date.fromisoformat(text)


#: The courses, by letter: (data, what the guide asks for it).
FORLOEB: dict[str, tuple[dict[str, Any], Forventet]] = {
    # active, two open offers (one substitution) and KvalHep
    "A": (_forloeb(1, _d("2024-03-01"), substitution=True), Forventet("luk", "slet", "gammelt")),
    # active, one open offer, no KvalHep
    "B": (_forloeb(2, _d("2024-10-01")), Forventet("luk", "slet", "gammelt")),
    # closed in 2024: not active, nothing to do
    "C": (
        _forloeb(3, _d("2024-01-10"), tilbud=[(None, _d("2024-06-30"))], afsluttet=_d("2024-06-30")),
        Forventet("intet", "intet", "intet"),
    ),
    # only an anmodning, six weeks before the cut-over: active, waiting for treatment
    "D": (_forloeb(4, _d("2024-11-15"), iv_dage=None), Forventet("luk", "slet", "gammelt")),
    # only an anmodning, from 2023: forgotten (the citizen never came)
    "E": (_forloeb(5, _d("2023-05-01"), iv_dage=None), Forventet("glemt", "glemt", "gammelt")),
    # treated, every offer ended in February 2024, never closed: forgotten
    "F": (
        _forloeb(6, _d("2023-11-01"), tilbud=[(None, _d("2024-02-15"))]),
        Forventet("glemt", "glemt", "gammelt"),
    ),
    # every offer ended three weeks before the cut-over: between offers, still active
    "G": (
        _forloeb(7, _d("2024-08-01"), tilbud=[(None, _d("2024-12-10"))]),
        Forventet("luk", "slet", "gammelt"),
    ),
    # anmodet after the cut-over (reported by the old system after it): DST deletes it first
    "H": (_forloeb(8, _d("2025-02-01")), Forventet("slet_efter", "slet", "nyt")),
    # anmodet before, iværksat after the cut-over
    "I": (_forloeb(9, _d("2024-12-25"), iv_dage=12), Forventet("ret_foerst", "slet", "nyt")),
    # an offer starting after the cut-over
    "J": (
        _forloeb(10, _d("2024-09-01"), substitution=True, tilbud=[(None, None), (_d("2025-01-15"), None)]),
        Forventet("ret_foerst", "slet", "gammelt"),
    ),
    # an offer ending after the cut-over
    "K": (
        _forloeb(11, _d("2024-09-01"), substitution=True, tilbud=[(None, _d("2025-01-20")), (None, None)]),
        Forventet("ret_foerst", "slet", "gammelt"),
    ),
    # active, substitution with KvalHep, a man
    "L": (_forloeb(13, _d("2024-06-01"), substitution=True), Forventet("luk", "slet", "gammelt")),
    # another municipality's active course: never touched by kommune 101's systemskifte
    "M": (_forloeb(14, _d("2024-05-01"), kommune=ANDEN_KOMMUNE), Forventet("intet", "intet", "intet")),
    # a citizen with an old closed course and an active one: only the active one is closed
    "N1": (
        _forloeb(15, _d("2023-01-05"), tilbud=[(None, _d("2023-06-30"))], afsluttet=_d("2023-06-30")),
        Forventet("intet", "intet", "intet"),
    ),
    "N2": (_forloeb(15, _d("2024-04-02")), Forventet("luk", "slet", "gammelt")),
    # an open offer since 2023: long-running treatment, not forgotten
    "O": (_forloeb(16, _d("2023-02-01")), Forventet("luk", "slet", "gammelt")),
    # anmodet after the mellemløsning's start but before the cut-over of model 1/2: the new system's in a mellemløsning
    "P": (_forloeb(17, _d("2024-12-20"), iv_dage=5), Forventet("luk", "slet", "nyt")),
}

#: The citizen with an open indskrivning and an open ydelse (the municipality's own rusmiddelcenter).
INDS_CPR = _cpr(20, False)
#: A citizen whose indskrivning was closed (udskrevet): not active.
INDS_LUKKET_CPR = _cpr(21, True)


def seed(client: SmdbClient) -> dict[str, int]:
    """Report every course and the indskrivninger; return each letter's AnmodningId (and "INDS" -> IndskrivningId)."""
    r = Reporter(client, municipality_threshold=0)
    ids: dict[str, int] = {}
    for letter, (data, _) in FORLOEB.items():
        f = Kontaktforloeb.model_validate(data)
        outcome = r.report(f)
        assert outcome.status == "sent", (letter, outcome)
        (stored,) = [s for s in client.hent_forloeb(f.cpr, f.kommunekode) if s.anmodningsdato == f.anmodningsdato]
        assert stored.anmodning.smdb_id is not None
        ids[letter] = stored.anmodning.smdb_id
    for cpr, closed in ((INDS_CPR, False), (INDS_LUKKET_CPR, True)):
        data = ex.indskrivningsforloeb(cpr=cpr, indskrevet=date(2024, 5, 1))
        ids["INDS" if not closed else "INDS_LUKKET"] = client.indsaet_indskrivning(
            Indskrivning.model_validate(data["INDS"])
        ).id
        (hentet,) = client.hent_indskrivninger(cpr=cpr)
        ydelse = dict(data["YDEL"][0])
        if not closed:
            for k in ("YdelseSlutDato", "YdelseAfsluttetAarsagKode"):
                ydelse.pop(k)
        client.indsaet_ydelse(Ydelse.model_validate(ydelse), hentet)
        if closed:
            ydelser = [y.record for y in client.hent_ydelser(indskrivning_id=hentet.record.smdb_id)]
            client.afslut_indskrivning(Udskrivning.model_validate(data["UDSK"]), hentet, ydelser)
    return ids


def letters(model: str, outcome: str) -> set[str]:
    """The letters whose expectation under ``model`` ("model1", "model2", "mellem") is ``outcome``."""
    return {k for k, (_, exp) in FORLOEB.items() if getattr(exp, model) == outcome}
