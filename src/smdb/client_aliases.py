"""The typed methods a vendor uses daily: one-line aliases of :meth:`SmdbClient.hent` and
:meth:`SmdbClient.indsaet`, one per form of §3, so an editor shows each form's criteria and result type.

A mixin of :class:`smdb.client.SmdbClient`, kept apart so the façade itself (construction, the generic calls, the
course service) stays short enough to read; nothing here does more than name the form.
"""

from __future__ import annotations

from typing import Any

from smdb.courses import Courses
from smdb.forms import Form
from smdb.models import (
    Afslutning,
    Anmodning,
    Indskrivning,
    Ivaerksaettelse,
    KvalHep,
    SmdbModel,
    Tilbudstilknytning,
    Udskrivning,
    Ydelse,
)
from smdb.register import Hentet
from smdb.soap.mapping import IndsaetResultat


class TypedAliases:
    """The per-form methods of :class:`smdb.client.SmdbClient` (which provides ``hent``, ``indsaet`` and the
    course service)."""

    _courses: Courses

    def hent(self, form: str, **criteria: Any) -> list[Hentet[Any]]:
        raise NotImplementedError  # pragma: no cover - SmdbClient.hent

    def indsaet(
        self, record: SmdbModel, parent_id: int | None = None, *, validate_first: bool = False
    ) -> IndsaetResultat:
        raise NotImplementedError  # pragma: no cover - SmdbClient.indsaet

    # ------------------------------------------------------------------ HentData
    def hent_anmodninger(
        self, cpr: str | None = None, kommunekode: int | None = None, anmodning_id: int | None = None
    ) -> list[Hentet[Anmodning]]:
        """HentAnmodninger (with their afslutning) by CPR, municipality or AnmodningId."""
        return self.hent(Form.ANM, cpr=cpr, kommunekode=kommunekode, anmodning_id=anmodning_id)

    def hent_ivaerksaettelser(
        self, cpr: str | None = None, anmodning_id: int | None = None, ivaerksaettelse_id: int | None = None
    ) -> list[Hentet[Ivaerksaettelse]]:
        """HentIvaerksaettelser by CPR, AnmodningId or IvaerksaettelseId."""
        return self.hent(Form.IVAER, cpr=cpr, anmodning_id=anmodning_id, ivaerksaettelse_id=ivaerksaettelse_id)

    def hent_tilbudstilknytninger(
        self, cpr: str | None = None, ivaerksaettelse_id: int | None = None
    ) -> list[Hentet[Tilbudstilknytning]]:
        """HentTilbudstilknytninger by CPR or IvaerksaettelseId."""
        return self.hent(Form.TILB, cpr=cpr, ivaerksaettelse_id=ivaerksaettelse_id)

    def hent_kvalhep(self, cpr: str | None = None, ivaerksaettelse_id: int | None = None) -> list[Hentet[KvalHep]]:
        """HentKvalHep by CPR or IvaerksaettelseId."""
        return self.hent(Form.KVALHEP, cpr=cpr, ivaerksaettelse_id=ivaerksaettelse_id)

    def hent_indskrivninger(
        self, cpr: str | None = None, kommunekode: int | None = None, indskrivning_id: int | None = None
    ) -> list[Hentet[Indskrivning]]:
        """Indskrivninger (with their udskrivning, if any); ``kommunekode`` is the paying municipality (19-INDS)."""
        return self.hent(Form.INDS, cpr=cpr, kommunekode=kommunekode, indskrivning_id=indskrivning_id)

    def hent_ydelser(self, cpr: str | None = None, indskrivning_id: int | None = None) -> list[Hentet[Ydelse]]:
        """HentYdelser by CPR or IndskrivningId."""
        return self.hent(Form.YDEL, cpr=cpr, indskrivning_id=indskrivning_id)

    # ------------------------------------------------------------------ IndsaetData
    def indsaet_tilbudstilknytning(
        self, tilknytning: Tilbudstilknytning, ivaerksaettelse_id: int, *, validate_first: bool = True
    ) -> IndsaetResultat:
        """Attach (or update, when it carries its TilbudstilknytningId) an offer to the iværksættelse."""
        return self.indsaet(tilknytning, ivaerksaettelse_id, validate_first=validate_first)

    def indsaet_kvalhep(
        self, kvalhep: KvalHep, ivaerksaettelse_id: int, *, validate_first: bool = True
    ) -> IndsaetResultat:
        """IndsaetKvalHep under the iværksættelse ``ivaerksaettelse_id`` (insert, or update with its id)."""
        return self.indsaet(kvalhep, ivaerksaettelse_id, validate_first=validate_first)

    def afslut_behandling(
        self, afslutning: Afslutning, anmodning_id: int, *, validate_first: bool = True
    ) -> IndsaetResultat:
        """AfslutBehandling: the course's afslutning under ``anmodning_id``."""
        return self.indsaet(afslutning, anmodning_id, validate_first=validate_first)

    # ------------------------------------------------------------------ IndsaetData (tilbud, legacy)
    def indsaet_indskrivning(self, indskrivning: Indskrivning, *, validate_first: bool = True) -> IndsaetResultat:
        """IndsaetIndskrivning (INDS; refused by SMDB for dates from 2025-01-01, §3.2)."""
        if validate_first:
            self._courses.kontroller_indskrivning(indskrivning)
        return self.indsaet(indskrivning)

    def indsaet_ydelse(
        self, ydelse: Ydelse, indskrivning: Hentet[Indskrivning], *, validate_first: bool = True
    ) -> IndsaetResultat:
        """IndsaetYdelse under a fetched indskrivning (YDEL; closed from 2025, §3.2)."""
        if validate_first:
            self._courses.kontroller_indskrivning(indskrivning.record, [ydelse])
        return self.indsaet(ydelse, indskrivning.record.smdb_id)

    def afslut_indskrivning(
        self,
        udskrivning: Udskrivning,
        indskrivning: Hentet[Indskrivning],
        ydelser: list[Ydelse],
        *,
        validate_first: bool = True,
    ) -> IndsaetResultat:
        """AfslutIndskrivning: the udskrivning of a fetched indskrivning (UDSK; closed from 2025, §3.2)."""
        if validate_first:
            self._courses.kontroller_indskrivning(indskrivning.record, ydelser, udskrivning)
        return self.indsaet(udskrivning, indskrivning.record.smdb_id)
