"""What the client does with whole courses: fetch and assemble them, and check a change before it is sent.

:class:`smdb.client.SmdbClient`'s typed methods delegate here, so the façade stays a list of one-line calls and
this module owns the two questions of §1.2 for every course form of the table (:mod:`smdb.forms`): what does
SMDB hold for the citizen, and does the change keep every rule? Assembly and the rules themselves live in the
domain (:mod:`smdb.register`, :mod:`smdb.rules`); this module adds only the Hent calls around them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from typing import Any, Protocol

from smdb.errors import ConfigurationError, SmdbFault, ValidationFailed
from smdb.forms import FORMS, Form, course_forms, spec_of
from smdb.models import (
    Indskrivning,
    Indskrivningsforloeb,
    Kontaktforloeb,
    SmdbModel,
    Udskrivning,
    Ydelse,
)
from smdb.register import Hentet, aendringens_brud, anvend, saml, ukendte_henvisninger
from smdb.rules import validate


class Henter(Protocol):
    """What the course service needs of a client (:class:`smdb.client.SmdbClient` has it)."""

    today: Callable[[], date]

    def hent(self, form: str, **criteria: Any) -> list[Hentet[Any]]: ...

    def hent_opslag(self, operation: str, **criteria: Any) -> list[dict[str, Any]]: ...


class Courses:
    """The course-level reads and checks of one client; thread-safe (the lookup lists are fetched once)."""

    def __init__(self, client: Henter) -> None:
        self.client = client
        self._opslag: tuple[frozenset[int], frozenset[str]] | None = None
        self._lock = threading.Lock()

    def opslag(self) -> tuple[frozenset[int], frozenset[str]]:
        """The TilbudIds of HentAlleTilbud and the LandeKoder of HentLandeliste, fetched once per client (a run)."""
        with self._lock:
            if self._opslag is None:
                tilbud = frozenset(int(t["TilbudId"]) for t in self.client.hent_opslag("HentAlleTilbud"))
                lande = frozenset(str(land["LandeKode"]) for land in self.client.hent_opslag("HentLandeliste"))
                self._opslag = (tilbud, lande)
            return self._opslag

    def kontroller_henvisninger(self, records: list[SmdbModel]) -> None:
        """Raise ValidationFailed for a TilbudId or landekode that SMDB's lookup lists do not hold (nothing sent)."""
        nye = ukendte_henvisninger(records, *self.opslag()) if records else []
        if nye:
            raise ValidationFailed(nye)

    def hent_forloeb(self, cpr: str, kommunekode: int | None = None) -> list[Kontaktforloeb]:
        """Every stored course of a citizen: the anmodninger, then each fetched course form by CPR."""
        anm = self.client.hent(Form.ANM, cpr=cpr, kommunekode=kommunekode)
        if not anm:
            return []
        found: dict[str, list[Hentet[Any]]] = {Form.ANM: anm}
        for spec in course_forms():
            if spec.hent is not None:
                found[spec.form] = self.client.hent(spec.form, cpr=cpr)
        return saml(found, kommunekode)

    def hent_kommunens_forloeb(self, kommunekode: int) -> dict[str, list[Kontaktforloeb]]:
        """Every stored course of the municipality by CPR, one Hent per form by KommuneKode."""
        found = {
            spec.form: self.client.hent(spec.form, kommunekode=kommunekode) for spec in course_forms() if spec.hent
        }
        found[Form.ANM] = self.client.hent(Form.ANM, kommunekode=kommunekode)
        by_cpr: dict[str, list[Kontaktforloeb]] = {}
        for course in saml(found, kommunekode):
            by_cpr.setdefault(str(course.cpr), []).append(course)
        return by_cpr

    def forloeb_med(self, form: str, record_id: int) -> tuple[Kontaktforloeb, list[Kontaktforloeb]]:
        """The stored course the record ``record_id`` of ``form`` (ANM or IVÆR) belongs to, and all of the
        citizen's courses."""
        if form not in (Form.ANM, Form.IVAER):  # Hent searches by these ids only (the contract's Soegning)
            raise ConfigurationError(f"{form}: validate_first kan kun finde forløbet under en ANM eller IVÆR")
        anmodning_id: int | None = record_id
        if form == Form.IVAER:
            found_iv = self.client.hent(Form.IVAER, ivaerksaettelse_id=record_id)
            anmodning_id = found_iv[0].anmodning_id if found_iv else None
        found = self.client.hent(Form.ANM, anmodning_id=anmodning_id) if anmodning_id is not None else []
        if found:
            alle = self.hent_forloeb(found[0].record.cpr, found[0].record.kommunekode)
            for f in alle:
                if f.anmodning.smdb_id == anmodning_id:
                    return f, alle
        raise SmdbFault("REFERENCE", f"{FORMS[form].id_element} {record_id} findes ikke i SMDB")

    def kontroller(self, nyt: Kontaktforloeb, foer: Kontaktforloeb | None, alle: list[Kontaktforloeb]) -> None:
        """Raise ValidationFailed for every violation the change introduces (old data is not the caller's fault)."""
        nye = aendringens_brud(nyt, foer, alle, self.client.today())
        if nye:
            raise ValidationFailed(nye)

    def kontroller_anmodning(self, forloeb: Kontaktforloeb, state: list[Kontaktforloeb] | None) -> None:
        """Check the anmodning (new or updated) with its optional iværksættelse against the stored courses."""
        anm = forloeb.anmodning.model_copy(update={"kommunekode": forloeb.kommunekode})
        alle = state if state is not None else self.hent_forloeb(anm.cpr, forloeb.kommunekode)
        foer = next((f for f in alle if anm.smdb_id and f.anmodning.smdb_id == anm.smdb_id), None)
        nyt = forloeb.model_copy(update={"anmodning": anm})
        if foer is not None:
            nyt = foer.model_copy(update={"anmodning": anm})
            if forloeb.ivaerksaettelse is not None:
                nyt = anvend(nyt, forloeb.ivaerksaettelse)
        self.kontroller(nyt, foer, alle)
        self.kontroller_henvisninger([forloeb.ivaerksaettelse] if forloeb.ivaerksaettelse else [])

    def kontroller_skema(self, record: SmdbModel, parent_id: int | None) -> None:
        """Check a record of any form against what SMDB holds: a course form against its stored course (found by
        ``parent_id``), a legacy form (INDS/YDEL/UDSK) by the rules alone (see :meth:`kontroller_indskrivning`)."""
        spec = spec_of(record)
        if spec.parent is None or parent_id is None:
            raise ConfigurationError(f"{spec.form} kræver parent_id ({spec.parent_id_element})")
        foer, alle = self.forloeb_med(spec.parent, parent_id)
        self.kontroller(anvend(foer, record), foer, alle)
        self.kontroller_henvisninger([record])

    def kontroller_indskrivning(
        self,
        indskrivning: Indskrivning,
        ydelser: list[Ydelse] | None = None,
        udskrivning: Udskrivning | None = None,
    ) -> None:
        """Check a legacy indskrivning with its ydelser and udskrivning by the rules (§3.2)."""
        forloeb = Indskrivningsforloeb(indskrivning=indskrivning, ydelser=ydelser or [], udskrivning=udskrivning)
        violations = validate(forloeb, self.client.today())
        if violations:
            raise ValidationFailed(violations)
