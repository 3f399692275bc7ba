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

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from smdb.forms import REFERENCE_ATTR, Form, FormSpec, course_forms, spec_of
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


def skemaer(forloeb: Kontaktforloeb, spec: FormSpec) -> list[SmdbModel]:
    """The records of ``spec``'s form the course holds (none, one, or the list of a form of many)."""
    value = getattr(forloeb, spec.attr) if spec.attr else forloeb.skemaer.get(spec.form, [])
    return list(value) if isinstance(value, list) else ([] if value is None else [value])


def anvend(forloeb: Kontaktforloeb, record: SmdbModel) -> Kontaktforloeb:
    """The course with ``record`` stored, for any course form of the table: replacing the record with its SMDB id,
    or added as new. Adding a second record of a form of one (IVÆR, KvalHep, AFSL) is counted in ``antal_skemaer``
    so the rules report it (§6.1.3, §6.1.8, §6.1.5) -- as SMDB refuses it."""
    spec = spec_of(record)
    if spec.form == Form.ANM:
        return forloeb.model_copy(update={"anmodning": record})
    held = skemaer(forloeb, spec)
    rid = getattr(record, "smdb_id", None)
    if spec.many:
        new = [r for r in held if rid is None or getattr(r, "smdb_id", None) != rid] + [record]
    elif held and rid is None:
        return forloeb.model_copy(update={"antal_skemaer": {**forloeb.antal_skemaer, str(spec.form): 2}})
    else:
        new = [record]
    if spec.attr is None:
        return forloeb.model_copy(update={"skemaer": {**forloeb.skemaer, spec.form: new}})
    return forloeb.model_copy(update={spec.attr: new if spec.many else new[0]})


def saml(hentet: Mapping[str, list[Hentet[Any]]], kommunekode: int | None = None) -> list[Kontaktforloeb]:
    """Assemble stored courses from Hent results by form (``hentet[Form.ANM]`` and any course form of the
    table), following the reference ids only: a record joins the course whose record its parent id names."""
    by_parent: dict[tuple[str, int], list[Hentet[Any]]] = {}
    for spec in course_forms():
        parent_ref = REFERENCE_ATTR.get(str(spec.parent))
        for h in hentet.get(spec.form, []):
            pid = getattr(h, parent_ref) if parent_ref else None
            if pid is not None:
                by_parent.setdefault((spec.form, pid), []).append(h)
    out = []
    for a in hentet.get(Form.ANM, []):
        anm = a.record
        kommune = anm.kommunekode or kommunekode
        if kommune is None:
            raise ValueError("Anmodningen har ingen KommuneKode")
        ids: dict[str, int | None] = {Form.ANM: anm.smdb_id}
        updates: dict[str, Any] = {}
        extra: dict[str, list[SmdbModel]] = {}
        antal: dict[str, int] = {}
        for spec in course_forms():
            parent_id = ids.get(str(spec.parent))
            if spec.nested and spec.parent == Form.ANM:
                nested = getattr(a, str(spec.attr), None)
                found = [nested] if nested is not None else []
            else:
                found = [h.record for h in by_parent.get((spec.form, parent_id), [])] if parent_id else []
            if not found:
                continue
            if not spec.many:
                ids[spec.form] = found[0].smdb_id
                if len(found) > 1:  # SMDB holds two where one is allowed: the rules report it (§6.1.3, …)
                    antal[str(spec.form)] = len(found)
            if spec.attr is None:
                extra[spec.form] = found
            else:
                updates[spec.attr] = found if spec.many else found[0]
        course = Kontaktforloeb(kommunekode=kommune, anmodning=anm).model_copy(
            update={**updates, "skemaer": extra, "antal_skemaer": antal}
        )
        out.append(course)
    return out


def saml_forloeb(
    anmodninger: list[Hentet[Anmodning]],
    ivaerksaettelser: list[Hentet[Ivaerksaettelse]],
    tilknytninger: list[Hentet[Tilbudstilknytning]],
    kvalhep: list[Hentet[KvalHep]],
    kommunekode: int | None = None,
) -> list[Kontaktforloeb]:
    """:func:`saml` for the four Hent results of §3.1 and §3.3 (kept for callers of the first releases)."""
    return saml(
        {Form.ANM: anmodninger, Form.IVAER: ivaerksaettelser, Form.TILB: tilknytninger, Form.KVALHEP: kvalhep},
        kommunekode,
    )


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
