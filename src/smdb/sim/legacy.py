"""The simulator's named special cases of the blue part (§3.2: INDS, YDEL, UDSK) and of ASI (§6.2).

Kept apart from the generic service (:mod:`smdb.sim.service`): an indskrivning is not a contact course, its rules
are the legacy ones (:mod:`smdb.rules.legacy`), and ASI is opaque data that only references a course.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from smdb.forms import Form, id_element
from smdb.models import Indskrivning, Indskrivningsforloeb, Udskrivning, Ydelse
from smdb.rules import nye_brud
from smdb.rules import register as rr
from smdb.sim.service import Caller, Service, parse, refuse, rule_fault
from smdb.sim.store import Row

_ANM, _INDS = id_element(Form.ANM), id_element(Form.INDS)


def _with_id(row: Row, id_name: str, **refs: Any) -> dict[str, Any]:
    return {**row.data, id_name: row.id, **{k: v for k, v in refs.items() if v is not None}}


class LegacyService(Service):
    """The whole simulated service: the generic :class:`~smdb.sim.service.Service` and the named operations of
    the blue part and ASI."""

    def _op_HentAsiForMyndighed(self, args: dict[str, Any], caller: Caller) -> dict[str, Any]:
        s = self.soegning(args)
        rows = self.store.find("ASI", anmodning_id=s.get(_ANM), cpr=s.get("PersonIdentifikator"))
        return {"Asi": [_with_id(r, "AsiId") for r in rows if r.anmodning_id is not None]}

    def _op_HentAsiForTilbud(self, args: dict[str, Any], caller: Caller) -> dict[str, Any]:
        s = self.soegning(args)
        rows = self.store.find("ASI", indskrivning_id=s.get(_INDS), cpr=s.get("PersonIdentifikator"))
        return {"Asi": [_with_id(r, "AsiId") for r in rows if r.indskrivning_id is not None]}

    # ------------------------------------------------------------------ IndsaetData: tilbud (legacy)
    def _indskrivningsforloeb(self, row: Row) -> Indskrivningsforloeb:
        return Indskrivningsforloeb.model_validate(
            {
                "INDS": {**row.data, _INDS: row.id},
                "YDEL": [
                    {**r.data, id_element(Form.YDEL): r.id} for r in self.store.find("YDEL", indskrivning_id=row.id)
                ],
                "UDSK": next(
                    ({**r.data, id_element(Form.UDSK): r.id} for r in self.store.find("UDSK", indskrivning_id=row.id)),
                    None,
                ),
            }
        )

    def _check_inds(
        self, after: Indskrivningsforloeb, before: Indskrivningsforloeb | None, others: list[Indskrivningsforloeb]
    ) -> None:
        new = nye_brud(after, before, others, self.today())
        if new:
            raise rule_fault(new)

    def _op_IndsaetIndskrivning(self, args: dict[str, Any], caller: Caller) -> dict[str, Any]:
        i: Indskrivning = parse(Indskrivning, args["Indskrivning"])
        with self.store.transaction():
            others = [
                self._indskrivningsforloeb(r) for r in self.store.find("INDS", cpr=str(i.cpr)) if r.id != i.smdb_id
            ]
            self._check_inds(Indskrivningsforloeb(indskrivning=i), None, others)
            if i.smdb_id is not None:
                self.row(Form.INDS, i.smdb_id)
            return self.result(self.save("INDS", i, cpr=str(i.cpr), kommune=i.myndighed))

    def _op_IndsaetYdelse(self, args: dict[str, Any], caller: Caller) -> dict[str, Any]:
        data = args["Ydelse"]
        y: Ydelse = parse(Ydelse, data)
        with self.store.transaction():
            row = self.row(Form.INDS, data.get(_INDS))
            before = self._indskrivningsforloeb(row)
            ydelser = [x for x in before.ydelser if y.smdb_id is None or x.smdb_id != y.smdb_id] + [y]
            self._check_inds(before.model_copy(update={"ydelser": ydelser}), before, [])
            return self.result(self.save("YDEL", y, cpr=row.cpr, kommune=row.kommune, indskrivning_id=row.id))

    def _op_AfslutIndskrivning(self, args: dict[str, Any], caller: Caller) -> dict[str, Any]:
        data = args["Udskrivning"]
        u: Udskrivning = parse(Udskrivning, data)
        with self.store.transaction():
            row = self.row(Form.INDS, data.get(_INDS))
            before = self._indskrivningsforloeb(row)
            if before.udskrivning is not None and u.smdb_id is None:
                raise refuse(rr.EN_UDSKRIVNING, "Indskrivningen er allerede udskrevet")
            self._check_inds(before.model_copy(update={"udskrivning": u}), before, [])
            return self.result(self.save("UDSK", u, cpr=row.cpr, kommune=row.kommune, indskrivning_id=row.id))

    def _op_IndsaetAsi(self, args: dict[str, Any], caller: Caller) -> dict[str, Any]:
        asi = args["Asi"]
        with self.store.transaction():
            cpr = None
            if asi.get(_ANM) is not None:
                row = self.row(Form.ANM, asi[_ANM])
                cpr = row.cpr
                if date.fromisoformat(row.data["BehandlingAnmodningDato"]) >= date(2019, 7, 1):
                    raise refuse(rr.ASI_FOER_2019)
            elif asi.get(_INDS) is not None:
                cpr = self.row(Form.INDS, asi[_INDS]).cpr
            else:
                raise refuse(rr.ASI_HENVISNING)
            data = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in asi.items() if not k.endswith("Id")}
            rid = self.store.insert("ASI", data, cpr=cpr, anmodning_id=asi.get(_ANM), indskrivning_id=asi.get(_INDS))
            return self.result(rid, asi.get(_ANM))
