"""Planning, as pure data: the writes that take SMDB from what it holds to what the case system says.

No I/O here: :func:`plan` compares two courses and returns :class:`Step` s with stable keys (the journal recognises
a write of unknown outcome by its key), looping over the course forms of the table (:mod:`smdb.forms`); the
offers' matching is the one named special case. :func:`blocked_midway` says when a correction cannot be sent one
write at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from smdb.forms import Form, FormSpec, course_forms
from smdb.models import Kontaktforloeb, SmdbModel, Tilbudstilknytning
from smdb.register import aendringens_brud, anvend, skemaer

MANUEL_SLETNING = (
    "Webservicen kan ikke slette eller genåbne indberetninger (§5.1). Ret det manuelt i SMDB-web "
    "(slet bagfra: KvalHep, tilbudstilknytning, iværksættelse, anmodning) eller bed Danmarks Statistik "
    "(smdb@dst.dk) om at slette, og indberet derefter igen."
)


class StepKind(StrEnum):
    """Whether a step stores a new record or updates one SMDB holds (by its id, through IndsaetData, §1.2)."""

    INDSAET = "indsæt"
    RET = "ret"


@dataclass(frozen=True)
class Step:
    """One write to make, as data: which form, the record, the form whose SMDB id it needs, and a stable key.

    The key (form + SMDB id for an update, form + natural key for an insert) is what the journal records, so a write
    of unknown outcome is recognised in the next plan whatever its description: with two tilbudstilknytninger at
    the same tilbud, recognising steps by their text judged a stored write as lost.
    """

    kind: StepKind
    #: The form's short name (a :class:`~smdb.forms.Form` for the forms of §3).
    form: str
    #: The record to store; for ANM the course (the anmodning travels with its iværksættelse).
    record: SmdbModel
    #: The form whose SMDB id the write refers to (IVÆR for TILB and KvalHep, ANM for AFSL), None for ANM.
    parent: str | None
    key: str
    description: str


def _same(a: SmdbModel | None, b: SmdbModel | None, ignore: Iterable[str] = ()) -> bool:
    """Equal as reported: ids and SMDB's derived values do not count."""
    if a is None or b is None:
        return a is b
    skip = {"smdb_id", "dage_siden_anmodning", "alder", *ignore}
    return a.model_dump(exclude=skip, exclude_none=True) == b.model_dump(exclude=skip, exclude_none=True)


def _tilb_key(t: Any) -> tuple[Any, ...]:
    return (t.tilbud_id, t.startdato, t.behandlingstype)


def overlap(a: Kontaktforloeb, b: Kontaktforloeb) -> bool:
    """Whether two courses' periods (anmodning to afslutning, open-ended while active) share a day."""
    a_end = a.afslutning.afsluttet_dato if a.afslutning else date.max
    b_end = b.afslutning.afsluttet_dato if b.afslutning else date.max
    return a.anmodningsdato <= b_end and b.anmodningsdato <= a_end


def shares_records(a: Kontaktforloeb, b: Kontaktforloeb) -> bool:
    """Whether two courses have the same iværksættelse date or an offer in common (by id, or tilbud and start)."""
    iv_a, iv_b = a.ivaerksaettelse, b.ivaerksaettelse
    if iv_a is not None and iv_b is not None and iv_a.ivaerksat_dato == iv_b.ivaerksat_dato:
        return True
    offers = {(t.tilbud_id, t.startdato) for t in a.tilbud}
    ids = {t.smdb_id for t in a.tilbud if t.smdb_id is not None}
    return any((t.tilbud_id, t.startdato) in offers or (t.smdb_id is not None and t.smdb_id in ids) for t in b.tilbud)


def _days_apart(a: date | None, b: date | None) -> int:
    """Days between two optional dates; a missing one is as far away as possible."""
    return abs((a - b).days) if a is not None and b is not None else date.max.toordinal()


def _match_tilbud(
    target: list[Tilbudstilknytning], stored: list[Tilbudstilknytning]
) -> list[Tilbudstilknytning | None]:
    """The stored offer each intended one corrects (None: a new offer), one to one.

    By SMDB id first, by natural key (tilbud, start date, type) second, and last, among the offers still unpaired,
    by the same tilbud with the nearest start date: a corrected start date, type or intensity is an update through
    IndsaetData (§1.2 "Alle ændrede data indberettes via Indsæt data service"), not a deletion and a new offer.
    Only a stored offer left unpaired after all three is really missing from the case system (a deletion, §5.1).
    """
    free = list(stored)
    out: list[Tilbudstilknytning | None] = [None] * len(target)
    tiers: tuple[Callable[[Tilbudstilknytning, Tilbudstilknytning], bool], ...] = (
        lambda t, s: t.smdb_id is not None and s.smdb_id == t.smdb_id,
        lambda t, s: _tilb_key(s) == _tilb_key(t),
    )
    for same in tiers:
        for i, t in enumerate(target):
            if out[i] is None:
                hit = next((s for s in free if same(t, s)), None)
                if hit is not None:
                    out[i] = hit
                    free.remove(hit)
    for i, t in enumerate(target):
        if out[i] is None:
            same_offer = [s for s in free if s.tilbud_id == t.tilbud_id]
            if same_offer:
                hit = min(same_offer, key=lambda s: _days_apart(s.startdato, t.startdato))
                out[i] = hit
                free.remove(hit)
    return out


def _anm_step(kind: StepKind, course: Kontaktforloeb, key: str, description: str) -> Step:
    return Step(kind, Form.ANM, course, None, key, description)


def plan(target: Kontaktforloeb, stored: Kontaktforloeb | None) -> tuple[list[Step], str | None]:
    """The writes that take SMDB from ``stored`` to ``target``, in the order the rules need; or a refusal.

    Stored and intended records are matched by SMDB id first and by natural key second; the i-th of several
    offers with the same natural key is keyed ``…#i``, so keys stay stable from one plan to the next.
    """
    steps: list[Step] = []
    if stored is None:
        what = "anmodning" + (" og iværksættelse" if target.ivaerksaettelse else "")
        steps.append(_anm_step(StepKind.INDSAET, target, f"ANM:{target.anmodningsdato}", f"indsæt {what}"))
    else:
        if stored.ivaerksaettelse is not None and target.ivaerksaettelse is None:
            return [], "SMDB har en iværksættelse, som fagsystemet ikke har. " + MANUEL_SLETNING
        anm = target.anmodning.model_copy(update={"smdb_id": stored.anmodning.smdb_id})
        iv = target.ivaerksaettelse
        if iv is not None and stored.ivaerksaettelse is not None:
            iv = iv.model_copy(update={"smdb_id": stored.ivaerksaettelse.smdb_id})
        anm_changed = not _same(anm, stored.anmodning, ignore={"kommunekode"})
        iv_changed = iv is not None and not _same(iv, stored.ivaerksaettelse)
        if anm_changed or iv_changed:
            ret = target.model_copy(update={"anmodning": anm, "ivaerksaettelse": iv})
            if stored.ivaerksaettelse or not iv:
                steps.append(_anm_step(StepKind.RET, ret, f"ANM#{anm.smdb_id}", "ret anmodning/iværksættelse"))
            else:
                steps.append(_anm_step(StepKind.INDSAET, ret, f"IVÆR:ANM#{anm.smdb_id}", "indsæt iværksættelse"))
    stored_tilb = list(stored.tilbud) if stored else []
    matches = _match_tilbud(list(target.tilbud), stored_tilb)
    updates: list[Step] = []
    inserts: list[tuple[Any, Step]] = []
    seen: dict[tuple[Any, ...], int] = {}
    for t, match in zip(target.tilbud, matches, strict=True):
        natural = _tilb_key(t)
        nth = seen[natural] = seen.get(natural, -1) + 1
        if match is None:
            key = f"TILB:{t.tilbud_id}:{t.startdato}:{t.behandlingstype}#{nth}"
            inserts.append(
                (t.startdato, Step(StepKind.INDSAET, Form.TILB, t, Form.IVAER, key, f"tilknyt tilbud {t.tilbud_id}"))
            )
            continue
        stored_tilb.remove(match)
        if not _same(t, match):
            upd = t.model_copy(update={"smdb_id": match.smdb_id})
            updates.append(
                Step(StepKind.RET, Form.TILB, upd, Form.IVAER, f"TILB#{match.smdb_id}", f"ret tilbud {t.tilbud_id}")
            )
    if stored_tilb:
        return [], (f"SMDB har {len(stored_tilb)} tilbudstilknytning(er), som fagsystemet ikke har. " + MANUEL_SLETNING)
    # Closing offers before opening new ones keeps every intermediate state valid (§6.1.4 c); inserting the
    # earliest start first keeps §6.1.4 b true after the first insert.
    steps.extend(updates)
    steps.extend(s for _, s in sorted(inserts, key=lambda x: (x[0] is None, x[0])))
    for spec in course_forms():
        if spec.sent_with is not None or spec.form == Form.TILB:
            continue  # IVÆR travels with its anmodning, the offers are matched above
        refusal = (_plan_many if spec.many else _plan_single)(spec, target, stored, steps)
        if refusal is not None:
            return [], refusal
    return steps, None


#: What a step of a form of one is called (the default: "indsæt FORM" / "ret FORM").
_VERBS: dict[str, tuple[str, str]] = {
    Form.KVALHEP: ("indsæt KvalHep", "ret KvalHep"),
    Form.AFSL: ("afslut behandling", "ret afslutning"),
}
#: Why a stored record the case system no longer has cannot be sent (the webservice cannot delete, §5.1).
_MISSING: dict[str, str] = {
    Form.KVALHEP: "SMDB har et KvalHep-skema, som fagsystemet ikke har. ",
    Form.AFSL: "Forløbet er afsluttet i SMDB men aktivt i fagsystemet; genåbning kræver sletning. ",
}


def _id(record: SmdbModel) -> int | None:
    """A form record's SMDB id (every form has one; the base model does not say so)."""
    value = getattr(record, "smdb_id", None)
    return int(value) if value is not None else None


def _plan_single(
    spec: FormSpec, target: Kontaktforloeb, stored: Kontaktforloeb | None, steps: list[Step]
) -> str | None:
    """The write of a form of which a course holds at most one (KvalHep, AFSL, a new form): insert, correct, or
    refuse when SMDB holds one the case system does not."""
    held = skemaer(stored, spec) if stored is not None else []
    wanted = skemaer(target, spec)
    old, new = (held[0] if held else None), (wanted[0] if wanted else None)
    if old is not None and new is None:
        return _MISSING.get(spec.form, f"SMDB har et {spec.form}-skema, som fagsystemet ikke har. ") + MANUEL_SLETNING
    if new is not None and not _same(new, old):
        record = new.model_copy(update={"smdb_id": _id(old) if old is not None else None})
        insert, correct = _VERBS.get(spec.form, (f"indsæt {spec.form}", f"ret {spec.form}"))
        if old is None:
            steps.append(Step(StepKind.INDSAET, spec.form, record, spec.parent, f"{spec.form}:ny", insert))
        else:
            steps.append(Step(StepKind.RET, spec.form, record, spec.parent, f"{spec.form}#{_id(old)}", correct))
    return None


def _plan_many(spec: FormSpec, target: Kontaktforloeb, stored: Kontaktforloeb | None, steps: list[Step]) -> str | None:
    """The writes of a new form of which a course holds many, one to one: by SMDB id, then by equal content, then
    the rest in order as corrections (an update, never a second record beside the first: at-most-once holds when a
    write of unknown outcome did land); only what is left over is new. The i-th new record is keyed ``…:ny#i``."""
    free = skemaer(stored, spec) if stored is not None else []
    wanted = skemaer(target, spec)
    pairs: list[SmdbModel | None] = [None] * len(wanted)
    tiers: tuple[Callable[[SmdbModel, SmdbModel], bool], ...] = (
        lambda t, s: _id(t) is not None and _id(s) == _id(t),
        lambda t, s: _same(t, s),
        lambda t, s: True,
    )
    for same in tiers:
        for i, record in enumerate(wanted):
            hit = next((r for r in free if same(record, r)), None) if pairs[i] is None else None
            if hit is not None:
                pairs[i] = hit
                free.remove(hit)
    new = 0
    for record, match in zip(wanted, pairs, strict=True):
        if match is None:
            key, new = f"{spec.form}:ny#{new}", new + 1
            steps.append(Step(StepKind.INDSAET, spec.form, record, spec.parent, key, f"indsæt {spec.form}"))
        elif not _same(record, match):
            update = record.model_copy(update={"smdb_id": _id(match)})
            key = f"{spec.form}#{_id(match)}"
            steps.append(Step(StepKind.RET, spec.form, update, spec.parent, key, f"ret {spec.form}"))
    if free:
        return f"SMDB har {len(free)} {spec.form}-skema(er), som fagsystemet ikke har. " + MANUEL_SLETNING
    return None


def _after(course: Kontaktforloeb, step: Step) -> Kontaktforloeb:
    """The course as SMDB holds it once ``step`` is stored."""
    record = step.record
    if isinstance(record, Kontaktforloeb):  # the anmodning with its iværksættelse, in one write
        return course.model_copy(update={"anmodning": record.anmodning, "ivaerksaettelse": record.ivaerksaettelse})
    return anvend(course, record)


def blocked_midway(
    stored: Kontaktforloeb | None, steps: list[Step], others: list[Kontaktforloeb], today: date
) -> str | None:
    """Why a correction cannot be sent one write at a time, or None.

    SMDB judges every write against the whole stored course, so each state between the steps must keep the rules,
    not only the last. Some corrections cannot: moving the iværksættelse date moves the offers that start on it
    (§6.1.4: one must start on it, none before it), and whichever goes first breaks a rule. Refused here, before
    anything is sent, with the manual route, instead of half-sent and rejected by SMDB."""
    if stored is None:
        return None
    state = stored
    for step in steps[:-1]:
        state = _after(state, step)
        new = aendringens_brud(state, stored, others, today)
        if new:
            return (
                f"Rettelsen kan ikke sendes én indberetning ad gangen: efter '{step.description}' ville SMDB afvise "
                f"forløbet ({new[0].tekst(kode=False)}). Ret det i SMDB-web, eller bed Danmarks Statistik "
                "(smdb@dst.dk) om hjælp."
            )
    return None
