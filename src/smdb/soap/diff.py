"""Compare the shipped contract with DST's real WSDL: every difference in operations, SOAP actions, element names
and types, so that the first contact with PreProd shows exactly what to change (docs/service-contract.md).

DST's WSDLs cannot be fetched while this library is written; every assumption about them is in the contract. A
WCF service serves its whole description at ``…/securehentdata.svc?singlewsdl``; :func:`diff` reads that (or a
saved copy) and the contract's own WSDL the same way and lists what differs. Namespace prefixes do not matter,
only what they stand for; element order within a sequence is reported when the names agree but the order does not.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from smdb.errors import SmdbError
from smdb.soap.contract import SERVICES, XS, build_wsdl

WSDL = "http://schemas.xmlsoap.org/wsdl/"
SOAP11 = "http://schemas.xmlsoap.org/wsdl/soap/"
SOAP12 = "http://schemas.xmlsoap.org/wsdl/soap12/"

_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True
)


class NotAWsdl(SmdbError, ValueError):
    """The document is not a WSDL 1.1 description of one of SMDB's services."""


@dataclass
class Description:
    """What a WSDL says, reduced to what the client depends on."""

    port_types: set[str] = field(default_factory=set)
    #: operation -> SOAP action
    actions: dict[str, str] = field(default_factory=dict)
    #: type or wrapper element -> [(element name, type)] in order
    types: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    #: the SOAP versions of the bindings
    soap_versions: set[str] = field(default_factory=set)


def _qname(el: etree._Element, value: str | None) -> str:
    """A type reference as ``xs:int`` for XML Schema's own types, else its local name."""
    if not value:
        return "?"
    prefix, _, local = value.rpartition(":")
    namespace = el.nsmap.get(prefix or None)
    return f"xs:{local}" if namespace == XS else local


def _sequence(owner: etree._Element) -> list[tuple[str, str]]:
    out = []
    for el in owner.iter(f"{{{XS}}}element"):
        if el is owner:
            continue
        out.append((el.get("name") or el.get("ref") or "?", _qname(el, el.get("type"))))
    return out


def describe(document: bytes) -> Description:
    """Read a (single-file) WSDL 1.1 document."""
    try:
        root = etree.fromstring(document, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise NotAWsdl(f"ikke gyldig XML: {exc}") from None
    if root.tag != f"{{{WSDL}}}definitions":
        raise NotAWsdl("dokumentet er ikke en WSDL 1.1 (wsdl:definitions)")
    d = Description()
    for pt in root.iter(f"{{{WSDL}}}portType"):
        d.port_types.add(pt.get("name") or "?")
        for op in pt.findall(f"{{{WSDL}}}operation"):
            d.actions.setdefault(op.get("name") or "?", "")
    for binding_op in root.iter(f"{{{WSDL}}}operation"):
        for version, ns in (("1.1", SOAP11), ("1.2", SOAP12)):
            soap_op = binding_op.find(f"{{{ns}}}operation")
            if soap_op is not None:
                d.actions[binding_op.get("name") or "?"] = soap_op.get("soapAction") or ""
                d.soap_versions.add(version)
    for schema in root.iter(f"{{{XS}}}schema"):
        for ct in schema.findall(f"{{{XS}}}complexType"):
            d.types[ct.get("name") or "?"] = _sequence(ct)
        for el in schema.findall(f"{{{XS}}}element"):
            inline = el.find(f"{{{XS}}}complexType")
            if inline is not None:
                d.types[f"element {el.get('name')}"] = _sequence(inline)
    return d


def service_of(description: Description) -> str:
    """Which of SMDB's services a description is, by its port type (``ISecureHentData`` -> ``HentData``)."""
    for key, svc in SERVICES.items():
        if svc.port_type in description.port_types:
            return key
    raise NotAWsdl(f"ukendt tjeneste (portType {', '.join(sorted(description.port_types)) or 'ingen'})")


def diff(theirs: Description, ours: Description) -> list[str]:
    """Every difference, one line each, in Danish: ``+`` only at DST, ``-`` only in smdb-client, ``~`` differs."""
    lines: list[str] = []
    for op in sorted(set(theirs.actions) | set(ours.actions)):
        if op not in ours.actions:
            lines.append(f"+ operation {op} findes kun hos DST")
        elif op not in theirs.actions:
            lines.append(f"- operation {op} findes kun i smdb-client")
        elif theirs.actions[op] != ours.actions[op]:
            lines.append(
                f"~ operation {op}: SOAPAction hos DST {theirs.actions[op]!r}, i smdb-client {ours.actions[op]!r}"
            )
    if theirs.soap_versions != ours.soap_versions:
        lines.append(
            f"~ SOAP-version hos DST {', '.join(sorted(theirs.soap_versions)) or '?'}, "
            f"i smdb-client {', '.join(sorted(ours.soap_versions))}"
        )
    for name in sorted(set(theirs.types) | set(ours.types)):
        if name not in ours.types:
            lines.append(f"+ type {name} findes kun hos DST")
            continue
        if name not in theirs.types:
            lines.append(f"- type {name} findes kun i smdb-client")
            continue
        t, o = dict(theirs.types[name]), dict(ours.types[name])
        for el in sorted(set(t) | set(o)):
            if el not in o:
                lines.append(f"+ {name}.{el} ({t[el]}) findes kun hos DST")
            elif el not in t:
                lines.append(f"- {name}.{el} ({o[el]}) findes kun i smdb-client")
            elif t[el] != o[el]:
                lines.append(f"~ {name}.{el}: type hos DST {t[el]}, i smdb-client {o[el]}")
        if set(t) == set(o) and [n for n, _ in theirs.types[name]] != [n for n, _ in ours.types[name]]:
            lines.append(f"~ {name}: elementernes rækkefølge er en anden hos DST")
    return lines


def diff_document(document: bytes) -> tuple[str, list[str]]:
    """(service, differences) of one of DST's WSDL documents against the shipped contract."""
    theirs = describe(document)
    service = service_of(theirs)
    return service, diff(theirs, describe(build_wsdl(service)))
