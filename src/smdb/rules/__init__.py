"""Local validation of every business rule of the Kravspecifikation before anything is sent.

``validate`` takes parsed courses (:class:`~smdb.models.Kontaktforloeb`, and the legacy provider
aggregate :class:`~smdb.models.Indskrivningsforloeb`) and returns every :class:`Violation`; an empty list
means SMDB's rules as published are met. ``parse_and_validate`` does the same for raw JSON-like data and
reports type and code-list errors as §3 violations instead of raising.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from pydantic import ValidationError

from smdb.errors import ValidationFailed
from smdb.models import Indskrivningsforloeb, Kontaktforloeb
from smdb.rules import afsl, generelt, ivaer, kvalhep, legacy, tilb  # noqa: F401 - registers the checks
from smdb.rules._core import REGLER, Kontekst, Regel, Violation, navn, regel
from smdb.rules._forloeb import FORLOEB
from smdb.rules.parsing import fra_validation_error

Forloeb = Kontaktforloeb | Indskrivningsforloeb

EN_AABEN_ANMODNING = regel(
    "en_aaben_anmodning",
    "6.1.2",
    ["2-ANM", "1-AFSL", "8-ANM"],
    "Inden for samme myndighedskommune må en borger højst have én anmodning uden afslutning (ét aktivt forløb).",
)

__all__ = [
    "REGLER",
    "Indlaest",
    "Regel",
    "Violation",
    "indlaes",
    "parse",
    "parse_and_validate",
    "parse_forloeb",
    "parse_validate_and_warn",
    "validate",
]


def validate(forloeb: Forloeb | Sequence[Forloeb], today: date | None = None) -> list[Violation]:
    """Every violation of the courses given. ``today`` defaults to the system date; pass it for repeatability.

    Violations carry the index of the course in the sequence (None when a single course was given).
    """
    ctx = Kontekst(today or date.today())
    items: list[tuple[int | None, Forloeb]]
    if isinstance(forloeb, Kontaktforloeb | Indskrivningsforloeb):
        items = [(None, forloeb)]
    else:
        items = list(enumerate(forloeb))
    out: list[Violation] = []
    kontakt: list[tuple[int, Kontaktforloeb]] = []
    indskrivninger: list[tuple[int, Indskrivningsforloeb]] = []
    for idx, f in items:
        checks = FORLOEB if isinstance(f, Kontaktforloeb) else legacy.INDSKRIVNING
        for v in checks.run(f, ctx):
            out.append(v if idx is None else replace(v, forloeb=idx))
        if idx is not None:
            if isinstance(f, Kontaktforloeb):
                kontakt.append((idx, f))
            else:
                indskrivninger.append((idx, f))
    out.extend(_en_aaben_anmodning(kontakt))
    out.extend(legacy.paa_tvaers(indskrivninger))
    return out


def _en_aaben_anmodning(kontakt: Iterable[tuple[int, Kontaktforloeb]]) -> list[Violation]:
    """§6.1.2 across the courses given (the simulator applies it against the whole register)."""
    aabne: dict[tuple[str, int], list[int]] = defaultdict(list)
    for idx, f in kontakt:
        if f.afslutning is None:
            aabne[(str(f.cpr), f.kommunekode)].append(idx)
    out = []
    for (cpr, kommune), idxs in aabne.items():
        for idx in idxs[1:]:
            out.append(
                Violation(
                    EN_AABEN_ANMODNING.afsnit,
                    EN_AABEN_ANMODNING.felter,
                    EN_AABEN_ANMODNING.kode,
                    f"Borgeren ({cpr[:6]}-****) har allerede et aktivt kontaktforløb i kommune {kommune} "
                    f"(forløb {idxs[0]}); en ny anmodning kræver, at det afsluttes først "
                    f"({navn('1-AFSL', 'BehandlingAfsluttetDato')})",
                    idx,
                )
            )
    return out


def parse(data: Any, index: int | None = None) -> tuple[Forloeb | None, list[Violation]]:
    """Parse one course (``{"kommunekode", "ANM", ...}`` or ``{"INDS", "YDEL", "UDSK"}``) from JSON-like data."""
    model: type[Kontaktforloeb] | type[Indskrivningsforloeb] = (
        Indskrivningsforloeb if isinstance(data, dict) and "INDS" in data else Kontaktforloeb
    )
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        return None, fra_validation_error(exc, index)


def parse_forloeb(data: Any, today: date | None = None) -> Kontaktforloeb:
    """One course from user data (JSON-like, official names), parsed and checked against every rule.

    The documented way in for a case system: unlike ``Kontaktforloeb.model_validate`` (pydantic's own English
    errors), every problem is a :class:`Violation` with section, Felt-ID, official name and a Danish message.

    :raises ValidationFailed: the data does not parse, is not a Kontaktforløb, or breaks a rule (all violations).
    """
    forloeb, violations = parse(data)
    if forloeb is not None and not isinstance(forloeb, Kontaktforloeb):
        raise ValidationFailed([Violation("1.2", (), "ikke_kontaktforloeb", "Dataene er ikke et kontaktforløb")])
    if forloeb is None:
        raise ValidationFailed(violations or [Violation("1.2", (), "ulaeselig", "Dataene kan ikke læses")])
    found = validate(forloeb, today)
    if found:
        raise ValidationFailed(found)
    return forloeb


@dataclass(frozen=True)
class Indlaest:
    """One course of the input as read: its index, the course (None when it did not parse) and its violations."""

    index: int
    forloeb: Forloeb | None
    violations: list[Violation]

    @property
    def ok(self) -> bool:
        """Did the course parse and keep every rule?"""
        return self.forloeb is not None and not self.violations


def indlaes(data: Any, today: date | None = None) -> list[Indlaest]:
    """Every course of ``data`` (one course or a list), index by index as in the input, parsed and validated: the
    courses that did not parse are there too, with their violations, so a case system can point at each."""
    items = data if isinstance(data, list) else [data]
    out = []
    for i, item in enumerate(items):
        forloeb, violations = parse(item, i)
        if forloeb is not None:
            violations = [replace(v, forloeb=i) for v in validate(forloeb, today)]
        out.append(Indlaest(i, forloeb, violations))
    return out


def _drop(data: Any, loc: Sequence[Any]) -> bool:
    """Remove the value at ``loc`` (a pydantic error location) from ``data``; False when it is not there."""
    node = data
    for part in loc[:-1]:
        if (isinstance(node, dict) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        ):
            node = node[part]
        else:
            return False
    last = loc[-1] if loc else None
    if isinstance(node, dict) and last in node:
        del node[last]
        return True
    return False


def rules_of_the_rest(
    data: Any, errors: Sequence[Violation], index: int | None = None, today: date | None = None
) -> list[Violation]:
    """The business-rule violations of a course that does not parse, with each unreadable field (a wrong code or
    type) treated as missing, so that a file is fixed in one round, not two. Violations about the unreadable fields
    themselves are left out (their parse errors already name them); a course still missing something required
    after that cannot be judged and gives none."""
    if not isinstance(data, dict) or not errors:
        return []
    model: type[Kontaktforloeb] | type[Indskrivningsforloeb] = (
        Indskrivningsforloeb if "INDS" in data else Kontaktforloeb
    )
    trimmed = copy.deepcopy(data)
    unreadable = {felt for v in errors for felt in v.fields}
    for _ in range(3):
        try:
            course = model.model_validate(trimmed)
            break
        except ValidationError as exc:
            dropped = [_drop(trimmed, tuple(e["loc"])) for e in exc.errors() if e["type"] != "missing"]
            if not any(dropped):
                return []
    else:
        return []
    return [replace(v, forloeb=index) for v in validate(course, today) if not unreadable & set(v.fields)]


def parse_and_validate(data: Any, today: date | None = None) -> tuple[list[Forloeb], list[Violation]]:
    """Parse a course or a list of courses and validate those that parse. Nothing raises for bad data."""
    parsed, violations, _ = parse_validate_and_warn(data, today, warn=False)
    return parsed, violations


def parse_validate_and_warn(
    data: Any, today: date | None = None, *, warn: bool = True
) -> tuple[list[Forloeb], list[Violation], list[Violation]]:
    """:func:`parse_and_validate`, plus the warnings (:mod:`smdb.rules.advarsler`) of the courses that parse, with
    the indices of ``data``. Warnings never make data invalid."""
    from smdb.rules.advarsler import advarsler

    single = not isinstance(data, list)
    raw = [data] if single else data
    parsed: list[Forloeb] = []
    idx_map: list[int] = []
    violations: list[Violation] = []
    for i, item in enumerate(raw):
        f, errs = parse(item, None if single else i)
        violations.extend(errs)
        violations.extend(rules_of_the_rest(item, errs, None if single else i, today))
        if f is not None:
            parsed.append(f)
            idx_map.append(i)
    warnings: list[Violation] = []
    if single:
        violations.extend(validate(parsed[0], today) if parsed else [])
        warnings.extend(advarsler(parsed[0], today) if parsed and warn else [])
    else:
        for v in validate(parsed, today):
            orig = idx_map[v.forloeb] if v.forloeb is not None else None
            violations.append(replace(v, forloeb=orig))
        for w in advarsler(parsed, today) if warn else []:
            warnings.append(Violation(w.rule, w.fields, w.code, w.message, idx_map[w.forloeb or 0]))
    return parsed, violations, warnings


def nye_brud(
    efter: Forloeb, foer: Forloeb | None, andre: Sequence[Forloeb], today: date | None = None
) -> list[Violation]:
    """The violations a change introduces: ``efter`` replaces ``foer`` among the stored courses ``andre``.

    Used by the client (validate before send) and the simulator (enforce on receipt) alike, so that old
    data already in SMDB never blocks a correct new report, while every rule the change breaks, including
    the cross-course ones (§6.1.2, §6.1.6), is caught.
    """
    gamle = {(v.code, v.message) for v in validate([*andre, foer] if foer is not None else list(andre), today)}
    return [replace(v, forloeb=None) for v in validate([*andre, efter], today) if (v.code, v.message) not in gamle]
