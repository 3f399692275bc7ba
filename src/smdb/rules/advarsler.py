"""Warnings beside violations: likely readings of the specification that it does not state as rules.

A warning has the shape of a :class:`~smdb.rules.Violation` (section, Felt-IDs, code, Danish message) but never
stops a report: the form accepts the data, and only the municipality can tell whether it is what they meant. Each
warning is declared here once (``ADVARSLER``), listed in docs/rules.md, and has a test that raises it and one that
does not (``tests/test_advarsler.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date

from smdb.models import Indskrivningsforloeb, Kontaktforloeb
from smdb.rules._core import Regel, Violation
from smdb.rules.ivaer import FRIST
from smdb.rules.register import forloeb_overlapper

ADVARSLER: dict[str, Regel] = {}
_TJEK: list[Callable[[Kontaktforloeb, date], list[Violation]]] = []


def advarsel(kode: str, afsnit: str, felter: list[str], beskrivelse: str) -> Regel:
    """Declare a warning once; its code is unique among the warnings."""
    if kode in ADVARSLER:
        raise ValueError(f"duplicate warning code {kode}")
    rule = Regel(kode, afsnit, tuple(felter), beskrivelse)
    ADVARSLER[kode] = rule
    return rule


GARANTI_UBESVARET = advarsel(
    "garanti_aarsag_ubesvaret",
    "6.1.3",
    ["4-IVÆR", "2-IVÆR"],
    "4-IVÆR (årsag til overskredet behandlingsgaranti) er ikke besvaret, selv om der gik mere end 14 dage fra "
    "anmodning til iværksættelse; formularen viser spørgsmålet netop da, og behandlingsgarantistatistikken bygger "
    "på svaret.",
)


def _garanti(f: Kontaktforloeb, today: date) -> list[Violation]:
    iv = f.ivaerksaettelse
    if iv is None or iv.garanti_aarsag is not None or iv.ivaerksat_dato - f.anmodningsdato <= FRIST:
        return []
    days = (iv.ivaerksat_dato - f.anmodningsdato).days
    return [GARANTI_UBESVARET.brud(f"{days} dage fra anmodning til iværksættelse: {GARANTI_UBESVARET.beskrivelse}")]


_TJEK.append(_garanti)


OVERLAPPENDE = advarsel(
    "overlappende_forloeb",
    "6.1.2",
    ["2-ANM", "1-AFSL"],
    "To forløb for samme borger i samme kommune har overlappende perioder (fra anmodning til afslutning), så de "
    "ville være aktive på samme tid; SMDB afviser det (kun ét aktivt kontaktforløb ad gangen).",
)


def _overlappende(items: list[tuple[int, Kontaktforloeb]]) -> list[Violation]:
    """Courses of one citizen in one municipality whose periods overlap, at least one of them closed (two open
    ones are a violation already: §6.1.2). Raised for the later of the two (by its index in the sequence)."""
    out = []
    for n, (i, a) in enumerate(items):
        for j, b in items[:n]:
            if (str(a.cpr), a.kommunekode) != (str(b.cpr), b.kommunekode) or a.anmodningsdato == b.anmodningsdato:
                continue  # another citizen, or the same course twice (a course is its anmodningsdato)
            if (a.afslutning is None and b.afslutning is None) or not forloeb_overlapper(a, b):
                continue
            out.append(replace(OVERLAPPENDE.brud(f"forløb {j} og {i}: {OVERLAPPENDE.beskrivelse}"), forloeb=i))
    return out


def advarsler(
    forloeb: Kontaktforloeb | Indskrivningsforloeb | Sequence[Kontaktforloeb | Indskrivningsforloeb],
    today: date | None = None,
) -> list[Violation]:
    """Every warning for the courses given (the index of the course in a sequence, as :func:`validate` does)."""
    single = isinstance(forloeb, Kontaktforloeb | Indskrivningsforloeb)
    items = [forloeb] if single else list(forloeb)
    out: list[Violation] = []
    for i, f in enumerate(items):
        if not isinstance(f, Kontaktforloeb):
            continue
        for check in _TJEK:
            out.extend(w if single else replace(w, forloeb=i) for w in check(f, today or date.today()))
    if not single:
        out.extend(_overlappende([(i, f) for i, f in enumerate(items) if isinstance(f, Kontaktforloeb)]))
    return out
