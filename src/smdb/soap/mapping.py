"""The one place where domain models meet the wire: models <-> SOAP payload dicts.

Everything that knows how an SMDB record is laid out in a request or a response lives here, so that
swapping our authored WSDL for DST's real one means changing this module and the contract table only.
The functions work on plain dicts keyed by element name; zeep (client) and the XML codec (simulator)
both speak such dicts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Any, TypeVar

from pydantic import BaseModel

from smdb.cpr import Cpr
from smdb.forms import FORMS, Form, id_element
from smdb.models import (
    Afslutning,
    Udskrivning,
)
from smdb.models._base import ascii_stavemaade
from smdb.register import Hentet

M = TypeVar("M", bound=BaseModel)

#: Reference elements that a data contract carries besides the form's own variables (the parents' ids).
REFS = tuple(dict.fromkeys(s.parent_id_element for s in FORMS.values() if s.parent_id_element))
_ANM, _IVAER, _INDS = id_element(Form.ANM), id_element(Form.IVAER), id_element(Form.INDS)


@dataclass(frozen=True, slots=True)
class IndsaetResultat:
    """What an Indsaet*/Afslut* call returns: the id of the stored record (and the course's ids)."""

    id: int
    anmodning_id: int | None = None
    ivaerksaettelse_id: int | None = None


def _wire_value(v: Any) -> Any:
    if isinstance(v, Enum):
        return v.value
    if isinstance(v, str):
        return str(v)  # a Cpr goes on the wire as plain digits
    return v


def to_wire(model: BaseModel, **refs: int | None) -> dict[str, Any]:
    """Official element names -> Python values (date, int, bool, code strings); None left out."""
    data = model.model_dump(mode="python", by_alias=True, exclude_none=True)
    out = {ascii_stavemaade(k): _wire_value(v) for k, v in data.items()}
    out.update({k: v for k, v in refs.items() if v is not None})
    return out


def from_wire(model: type[M], data: dict[str, Any]) -> M:
    """Validate a payload dict as a form; reference ids and nested records are not form fields."""
    own = {ascii_stavemaade(f.alias) for f in model.model_fields.values() if f.alias}
    fields = {
        k: v for k, v in data.items() if v is not None and not isinstance(v, dict) and (k in own or k not in REFS)
    }
    return model.model_validate(fields)


def _id(data: dict[str, Any], key: str) -> int | None:
    v = data.get(key)
    return int(v) if v is not None else None


def hentet(model: type[M], data: dict[str, Any]) -> Hentet[M]:
    """One Hent* result element as a typed record with its references."""
    afsl = data.get(FORMS[Form.AFSL].wire_name)
    udsk = data.get(FORMS[Form.UDSK].wire_name)
    return Hentet(
        record=from_wire(model, data),
        anmodning_id=_id(data, _ANM),
        ivaerksaettelse_id=_id(data, _IVAER),
        indskrivning_id=_id(data, _INDS),
        afslutning=from_wire(Afslutning, afsl) if isinstance(afsl, dict) else None,
        udskrivning=from_wire(Udskrivning, udsk) if isinstance(udsk, dict) else None,
    )


def soegning(
    cpr: str | None = None,
    kommunekode: int | None = None,
    anmodning_id: int | None = None,
    ivaerksaettelse_id: int | None = None,
    indskrivning_id: int | None = None,
) -> dict[str, Any]:
    """The search criteria of every Hent* call (an assumption: see docs/service-contract.md)."""
    s = {
        "PersonIdentifikator": str(Cpr(cpr)) if cpr else None,  # a malformed number is refused before sending
        "KommuneKode": kommunekode,
        _ANM: anmodning_id,
        _IVAER: ivaerksaettelse_id,
        _INDS: indskrivning_id,
    }
    return {k: v for k, v in s.items() if v is not None}


def indsaet_resultat(data: dict[str, Any]) -> IndsaetResultat:
    return IndsaetResultat(int(data["Id"]), _id(data, _ANM), _id(data, _IVAER))


def names_the_write(result: IndsaetResultat, record_id: int | None, refs: Mapping[str, int | None]) -> str | None:
    """Why ``result`` is not the answer to the write of the record ``record_id`` (None: a new one) under the
    course ids ``refs`` (wire names), or None when it is: a write's answer must name the record that was written
    and the course it belongs to, so a signed answer about another citizen's write cannot stand in for this one."""
    if record_id is not None and result.id != record_id:
        return f"svaret nævner post {result.id}, ikke {record_id}"
    named = {_ANM: result.anmodning_id, _IVAER: result.ivaerksaettelse_id}
    for name, wanted in refs.items():
        if wanted is not None and name in named and named[name] != wanted:
            return f"svaret nævner {name} {named[name]}, ikke {wanted}"
    return None


def plain(value: Any) -> Any:
    """zeep objects -> dicts/lists of plain values (dates kept as ``date``)."""
    from zeep.helpers import serialize_object

    return _strip(serialize_object(value, target_cls=dict))


def _strip(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _strip(x) for k, x in v.items() if x is not None}
    if isinstance(v, list):
        return [_strip(x) for x in v]
    if isinstance(v, date):
        return v
    return v
