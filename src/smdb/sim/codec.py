"""Contract-driven XML <-> dict conversion for the simulator (the client side uses zeep for this)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from lxml import etree

from smdb.soap.contract import COMPLEX_TYPES, NS

XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"

#: Hardened parser for everything the simulator receives: no entities, no network, no huge trees, and no
#: comments: exclusive c14n ignores comments, so ``<AnmodningId>1<!--x-->2</AnmodningId>`` verifies as "12"
#: while a comment-keeping tree would read "1". Acting only on what was signed means dropping them at parse time.
PARSER = etree.XMLParser(
    remove_comments=True,
    resolve_entities=False,
    no_network=True,
    huge_tree=False,
    remove_blank_text=True,
    load_dtd=False,
    dtd_validation=False,
)


class CodecError(ValueError):
    """The request does not match the contract (unknown element, wrong value type)."""


def _scalar(text: str | None, xs: str, name: str) -> Any:
    text = (text or "").strip()
    try:
        if xs == "xs:int":
            return int(text)
        if xs == "xs:boolean":
            if text not in ("true", "false", "1", "0"):
                raise ValueError(text)
            return text in ("true", "1")
        if xs == "xs:date":
            return date.fromisoformat(text[:10])
        if xs == "xs:dateTime":
            return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise CodecError(f"{name}: værdien passer ikke til typen {xs}") from None
    return text


def decode(el: etree._Element, type_name: str) -> dict[str, Any]:
    spec = {e.name: e for e in COMPLEX_TYPES[type_name]}
    out: dict[str, Any] = {}
    for child in el:
        if not isinstance(child.tag, str):
            continue
        q = etree.QName(child)
        if q.namespace != NS or q.localname not in spec:
            raise CodecError(f"Ukendt element {q.localname} i {type_name}")
        e = spec[q.localname]
        if child.get(XSI_NIL) in ("true", "1"):
            continue
        value = _scalar(child.text, e.type, e.name) if e.type.startswith("xs:") else decode(child, e.type)
        if e.many:
            out.setdefault(e.name, []).append(value)
        else:
            out[e.name] = value
    for e in COMPLEX_TYPES[type_name]:
        if e.min_occurs and e.name not in out:
            raise CodecError(f"{type_name}: {e.name} mangler")
    return out


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def encode(parent: etree._Element, name: str, value: Any, type_name: str) -> etree._Element:
    el = etree.SubElement(parent, f"{{{NS}}}{name}")
    if type_name.startswith("xs:"):
        el.text = _text(value)
        return el
    for e in COMPLEX_TYPES[type_name]:
        if e.name not in value or value[e.name] is None:
            continue
        items = value[e.name] if e.many else [value[e.name]]
        for item in items:
            encode(el, e.name, item, e.type)
    return el
