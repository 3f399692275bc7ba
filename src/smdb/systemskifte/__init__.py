"""Systemskifte: a municipality changing reporting system (DST's guide "Vejledning om systemskifte", and §7).

The guide gives three ways, and this module plans each from what SMDB holds for the municipality:

* **Model 1** (history kept): the active courses are deleted in SMDB (only SMDB-web or DST can delete, §5.1)
  and entered again in the new system with their original dates. We produce the deletion list in the guide's
  order per citizen and the re-registration plan.
* **Model 2** (no history): every active course is closed at the cut-over date (open offers end then, AFSL with
  årsag 10 "Anden" and the text "Systemskifte", which is how DST recognises the course continues in the new
  system) and is registered again in the new system from the day after. We send the closures (``apply``).
* **Mellemløsning**: the old system (SMDB-web) keeps the courses begun before the cut-over until they end; the
  new system reports only courses anmodet from it (:class:`smdb.reporting.Reporter` ``kun_anmodet_fra``).

Whatever the model, a real municipality's register holds more than active courses, and the plan sorts them:

* **forgotten courses** (no open offer, nothing happened for ``glemt_efter`` before the cut-over) are not
  systemskifte: the guide asks for them to be closed with their *correct* dates. They are listed with a suggested
  closing from the data, never marked "Systemskifte", never re-registered, and their closing is sent only on an
  explicit, separate request (:meth:`Systemskifteplan.luk_glemte`);
* **courses with activity after the cut-over** (an anmodning, an iværksættelse or an offer dated after it) cannot
  be closed at it: an anmodning after the cut-over must be deleted by DST before the new system can report the
  course, other dates must be corrected first; each is an action for the municipality;
* **open indskrivninger and ydelser** (the guide's steps, and "aktive anmodninger hhv. indskrivninger") cannot be
  closed or deleted through the webservice, which refuses INDS/YDEL/UDSK from 2025 (§3.2): each is an action to
  take in SMDB-web or with DST, named by its id and tilbud.

Every action is tied to an SMDB id, so :meth:`Systemskifteplan.udestaaende` can tell, by fetching those records
again, what is still left to do; a systemskifte is done when nothing is.
"""

from smdb.systemskifte.aktivliste import AKTIVLISTE_KOLONNER, aabne_indskrivninger, aktive_forloeb, aktivliste_rows
from smdb.systemskifte.modeller import kontroller_dato, mellemloesning, model1, model2
from smdb.systemskifte.plan import (
    GLEMT_EFTER,
    SYSTEMSKIFTE_TEKST,
    Glemt,
    Handling,
    Handlingstype,
    Model,
    Systemskifteplan,
    plan_navn,
)

__all__ = [
    "AKTIVLISTE_KOLONNER",
    "GLEMT_EFTER",
    "SYSTEMSKIFTE_TEKST",
    "Glemt",
    "Handling",
    "Handlingstype",
    "Model",
    "Systemskifteplan",
    "aabne_indskrivninger",
    "aktive_forloeb",
    "aktivliste_rows",
    "kontroller_dato",
    "mellemloesning",
    "model1",
    "model2",
    "plan_navn",
]
