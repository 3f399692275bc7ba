"""The service description: every operation of §1.2 and every data contract, in one table.

Like botocore, the client, the simulator and the WSDL files are all driven by this description, so they
cannot disagree. The forms' data contracts and operations are generated from the per-form table
(:mod:`smdb.forms`) and the form models (element names are the official variable names).
``python -m smdb.soap.contract`` regenerates ``src/smdb/wsdl/*.wsdl`` (shipped in the package) and the top-level
``wsdl/``; a test checks that both equal the generated ones. Every assumption is listed in docs/service-contract.md.
"""

from __future__ import annotations

import sys
import types
import typing
from dataclasses import dataclass
from datetime import date
from enum import Enum
from pathlib import Path
from typing import Any

from lxml import etree
from pydantic import BaseModel

from smdb.forms import FORMS, Form, FormSpec, id_element
from smdb.models._base import ascii_stavemaade

NS = "http://smdb.dst.dk/api/external/v1"
XS = "http://www.w3.org/2001/XMLSchema"
WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
SOAP_BIND = "http://schemas.xmlsoap.org/wsdl/soap/"
SOAP12_BIND = "http://schemas.xmlsoap.org/wsdl/soap12/"


@dataclass(frozen=True, slots=True)
class Binding:
    """A SOAP binding of the services: its WSDL name prefix, SOAP version (envelope namespace) and WSDL binding
    namespace."""

    prefix: str
    envelope_ns: str
    wsdl_ns: str


#: Certificate mode: SOAP 1.1, as assumed for DST's service (WCF BasicHttpsBinding). STS mode: SOAP 1.2, as OIO-IDWS
#: SOAP Binding 1.1 and the reference traces have it (WCF's WS2007FederationHttpBinding). One place to change if
#: DST's WSDL says otherwise (``smdb contract diff`` compares the bindings too).
BINDINGS: dict[str, Binding] = {
    "certificate": Binding("BasicHttpsBinding", "http://schemas.xmlsoap.org/soap/envelope/", SOAP_BIND),
    "sts": Binding("WS2007FederationHttpBinding", "http://www.w3.org/2003/05/soap-envelope", SOAP12_BIND),
}
WSDL_DIR = Path(__file__).resolve().parent.parent / "wsdl"


@dataclass(frozen=True, slots=True)
class Service:
    key: str
    port_type: str
    path: str  # last path segment of the endpoint, e.g. securehentdata.svc


SERVICES: dict[str, Service] = {
    "HentData": Service("HentData", "ISecureHentData", "securehentdata.svc"),
    "IndsaetData": Service("IndsaetData", "ISecureIndsaetData", "secureindsaetdata.svc"),
    "TokenTest": Service("TokenTest", "ISecureTokenTest", "securetokentest.svc"),
}


@dataclass(frozen=True, slots=True)
class El:
    """An element of a sequence: name, XSD type (``xs:…`` or a complex type name), cardinality."""

    name: str
    type: str
    min_occurs: int = 0
    many: bool = False


@dataclass(frozen=True, slots=True)
class Operation:
    service: str
    name: str
    request: tuple[El, ...]
    result: El | None
    writes: bool = False

    @property
    def action(self) -> str:
        return f"{NS}/{SERVICES[self.service].port_type}/{self.name}"


def _xsd_type(annotation: Any) -> str:
    """xs type of a model field annotation (``X | None`` and ``Annotated`` unwrapped)."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType) and args:
        return _xsd_type(args[0])
    base = typing.get_args(annotation)[0] if origin is typing.Annotated else annotation
    if isinstance(base, type):
        if issubclass(base, bool):
            return "xs:boolean"
        if issubclass(base, Enum) or issubclass(base, str):
            return "xs:string"
        if issubclass(base, int):
            return "xs:int"
        if issubclass(base, date):
            return "xs:date"
    raise TypeError(f"no XSD type for {annotation!r}")


def model_elements(model: type[BaseModel]) -> tuple[El, ...]:
    """Elements of a form's data contract. Names are ASCII (æ -> ae): XML-DSig canonicalisation and many
    SOAP stacks mishandle non-ASCII element names, and WCF data members are C# identifiers."""
    out = []
    for f in model.model_fields.values():
        if f.alias is None or f.exclude:
            continue
        out.append(El(ascii_stavemaade(f.alias), _xsd_type(f.annotation)))
    return tuple(out)


def _form_elements(spec: FormSpec) -> tuple[El, ...]:
    """A form's data contract: the reference to its parent, its own variables (its id included), and the forms
    that come nested in its Hent answer (AFSL in the anmodning, UDSK in the indskrivning)."""
    ref = (El(spec.parent_id_element, "xs:int"),) if spec.parent_id_element else ()
    nested = tuple(
        El(child.wire_name, child.wire_name) for child in FORMS.values() if child.parent is spec.form and not child.hent
    )
    return ref + model_elements(spec.model) + nested


_ASI = (
    El("AsiId", "xs:int"),
    El(id_element(Form.ANM), "xs:int"),
    El(id_element(Form.INDS), "xs:int"),
    El("AsiDato", "xs:date"),
    El("AsiData", "xs:string"),
)

#: The lookup lists of §1.2 ("som bruges som opslag"): operation -> the type of its records and their elements.
#: A new lookup list is one row here (and the simulator's rows in ``smdb.sim.service.OPSLAG``).
LOOKUPS: dict[str, tuple[str, tuple[El, ...]]] = {
    "HentAlleTilbud": (
        "Tilbud",
        (
            El("TilbudId", "xs:int", 1),
            El("TilbudNavn", "xs:string"),
            El("Postnummer", "xs:string"),
            El("KommuneKode", "xs:int"),
        ),
    ),
    "HentLandeliste": ("Land", (El("LandeKode", "xs:string", 1), El("LandeNavn", "xs:string"))),
    "HentYdelsespakker": (
        "Ydelsespakke",
        (El("YdelsespakkeKode", "xs:string", 1), El("YdelsespakkeNavn", "xs:string")),
    ),
    "HentAsiForMyndighed": ("Asi", _ASI),
    "HentAsiForTilbud": ("Asi", _ASI),
}


#: Complex types: the forms (from the table and the models) plus search criteria, results and lookup records.
def _complex_types() -> dict[str, tuple[El, ...]]:
    t: dict[str, tuple[El, ...]] = {spec.wire_name: _form_elements(spec) for spec in FORMS.values()}
    for item, elements in LOOKUPS.values():
        t[item] = elements
    t.update(
        {
            "Soegning": (
                El("PersonIdentifikator", "xs:string"),
                El("KommuneKode", "xs:int"),
                *(El(id_element(f), "xs:int") for f in SEARCH_IDS),
            ),
            "IndsaetResultat": (
                El("Id", "xs:int", 1),
                El(id_element(Form.ANM), "xs:int"),
                El(id_element(Form.IVAER), "xs:int"),
            ),
            "WhoAmIResultat": (
                El("Subject", "xs:string", 1),
                El("Organisation", "xs:string"),
                El("Cvr", "xs:string"),
                El("CertifikatUdloeber", "xs:dateTime"),
            ),
            "SmdbFejl": (El("FejlKode", "xs:string", 1), El("Besked", "xs:string", 1), El("Regel", "xs:string")),
        }
    )
    fetched = [spec.wire_name for spec in FORMS.values() if spec.hent]
    for name in (*fetched, *(item for item, _ in LOOKUPS.values())):
        t[f"ArrayOf{name}"] = (El(name, name, many=True),)
    return t


#: The forms whose SMDB ids a search (Soegning) can name.
SEARCH_IDS = (Form.ANM, Form.IVAER, Form.INDS)
COMPLEX_TYPES = _complex_types()

_S = El("Soegning", "Soegning")


def _hent(name: str, result: str) -> Operation:
    return Operation("HentData", name, (_S,), El(f"{name}Result", f"ArrayOf{result}"))


def _skriv(name: str, *request: El) -> Operation:
    return Operation("IndsaetData", name, request, El(f"{name}Result", "IndsaetResultat"), writes=True)


def _derived_operations() -> list[Operation]:
    """The operations derived from the tables: the forms' (below) and one Hent per lookup list."""
    return [*_form_operations(), *(_hent(name, item) for name, (item, _) in LOOKUPS.items())]


def _form_operations() -> list[Operation]:
    """Hent and Indsaet operations of the forms, from the table: one Hent per fetched form; one Indsaet per
    operation, carrying the forms that share it (IndsaetIvaerksaettelse: the anmodning, and the iværksættelse)."""
    ops = [_hent(spec.hent, spec.wire_name) for spec in FORMS.values() if spec.hent]
    writes: dict[str, list[FormSpec]] = {}
    for spec in FORMS.values():
        writes.setdefault(spec.indsaet, []).append(spec)
    for name, specs in writes.items():
        ops.append(_skriv(name, *(El(s.wire_name, s.wire_name, 1 if i == 0 else 0) for i, s in enumerate(specs))))
    return ops


OPERATIONS: dict[str, Operation] = {
    op.name: op
    for op in sorted(
        (
            *_derived_operations(),
            _skriv("IndsaetAsi", El("Asi", "Asi", 1)),
            Operation("TokenTest", "Echo", (El("Tekst", "xs:string"),), El("EchoResult", "xs:string")),
            Operation("TokenTest", "Throw", (), El("ThrowResult", "xs:string")),
            Operation("TokenTest", "WhoAmI", (), El("WhoAmIResult", "WhoAmIResultat")),
        ),
        key=lambda op: (op.service, op.name),
    )
}


#: The operations generated from the form table and the lookup lists (replaced by :func:`refresh`).
_FORM_OPS = {op.name for op in _derived_operations()}


def lookup_operations() -> list[str]:
    """The lookup lists (§1.2 "som bruges som opslag"): the HentData operations that fetch no form."""
    return list(LOOKUPS)


def refresh() -> None:
    """Derive the forms' and lookup lists' data contracts and operations again from the tables (after
    :func:`smdb.forms.register` or a new :data:`LOOKUPS` row, as an import would after an edit of the source); the
    other rows stay as they are."""
    for name in _FORM_OPS:
        OPERATIONS.pop(name, None)
    _FORM_OPS.clear()
    for op in _derived_operations():
        OPERATIONS[op.name] = op
        _FORM_OPS.add(op.name)
    COMPLEX_TYPES.clear()
    COMPLEX_TYPES.update(_complex_types())


def operations_of(service: str) -> list[Operation]:
    """The operations of one service (HentData, IndsaetData, TokenTest), by name: the WSDL's stable order."""
    return sorted((op for op in OPERATIONS.values() if op.service == service), key=lambda op: op.name)


# --------------------------------------------------------------------------- WSDL generation
def _q(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}"


def _type_ref(t: str) -> str:
    return t if t.startswith("xs:") else f"tns:{t}"


def _sequence(parent: etree._Element, elements: tuple[El, ...]) -> None:
    seq = etree.SubElement(parent, _q(XS, "sequence"))
    for el in elements:
        e = etree.SubElement(seq, _q(XS, "element"), name=el.name, type=_type_ref(el.type))
        e.set("minOccurs", str(el.min_occurs))
        if el.many:
            e.set("maxOccurs", "unbounded")
        if el.min_occurs == 0 and not el.many:
            e.set("nillable", "true")


def build_wsdl(service_key: str) -> bytes:
    """A WCF-style single-file WSDL (document/literal wrapped) for one service."""
    svc = SERVICES[service_key]
    ops = operations_of(service_key)
    nsmap = {"wsdl": WSDL_NS, "soap": SOAP_BIND, "soap12": SOAP12_BIND, "xs": XS, "tns": NS}
    defs = etree.Element(_q(WSDL_NS, "definitions"), nsmap=nsmap, name=f"Secure{service_key}", targetNamespace=NS)
    types_el = etree.SubElement(defs, _q(WSDL_NS, "types"))
    schema = etree.SubElement(types_el, _q(XS, "schema"), targetNamespace=NS, elementFormDefault="qualified")
    used: set[str] = set()

    def need(t: str) -> None:
        if t.startswith("xs:") or t in used:
            return
        used.add(t)
        for el in COMPLEX_TYPES[t]:
            need(el.type)

    for op in ops:
        for el in op.request:
            need(el.type)
        if op.result is not None:
            need(op.result.type)
    need("SmdbFejl")
    for name in sorted(used):
        ct = etree.SubElement(schema, _q(XS, "complexType"), name=name)
        _sequence(ct, COMPLEX_TYPES[name])
    for op in ops:
        for wrapper, elements in ((op.name, op.request), (f"{op.name}Response", (op.result,) if op.result else ())):
            el = etree.SubElement(schema, _q(XS, "element"), name=wrapper)
            _sequence(etree.SubElement(el, _q(XS, "complexType")), tuple(elements))
    etree.SubElement(schema, _q(XS, "element"), name="SmdbFejl", type="tns:SmdbFejl")

    for op in ops:
        for suffix, el_name in (("InputMessage", op.name), ("OutputMessage", f"{op.name}Response")):
            msg = etree.SubElement(defs, _q(WSDL_NS, "message"), name=f"{svc.port_type}_{op.name}_{suffix}")
            etree.SubElement(msg, _q(WSDL_NS, "part"), name="parameters", element=f"tns:{el_name}")
    fault_msg = etree.SubElement(defs, _q(WSDL_NS, "message"), name=f"{svc.port_type}_SmdbFejl_FaultMessage")
    etree.SubElement(fault_msg, _q(WSDL_NS, "part"), name="detail", element="tns:SmdbFejl")

    pt = etree.SubElement(defs, _q(WSDL_NS, "portType"), name=svc.port_type)
    for op in ops:
        o = etree.SubElement(pt, _q(WSDL_NS, "operation"), name=op.name)
        i = etree.SubElement(o, _q(WSDL_NS, "input"), message=f"tns:{svc.port_type}_{op.name}_InputMessage")
        i.set(_q("http://www.w3.org/2006/05/addressing/wsdl", "Action"), op.action)
        etree.SubElement(o, _q(WSDL_NS, "output"), message=f"tns:{svc.port_type}_{op.name}_OutputMessage")
        etree.SubElement(o, _q(WSDL_NS, "fault"), name="SmdbFejl", message=f"tns:{svc.port_type}_SmdbFejl_FaultMessage")

    location = f"https://smdbpreprodws.dst.dk/smdbwebservice/api/external/v1/{svc.path}"
    ports = []
    for binding in BINDINGS.values():
        soap = binding.wsdl_ns
        binding_name = f"{binding.prefix}_{svc.port_type}"
        b = etree.SubElement(defs, _q(WSDL_NS, "binding"), name=binding_name, type=f"tns:{svc.port_type}")
        etree.SubElement(b, _q(soap, "binding"), transport="http://schemas.xmlsoap.org/soap/http")
        for op in ops:
            o = etree.SubElement(b, _q(WSDL_NS, "operation"), name=op.name)
            etree.SubElement(o, _q(soap, "operation"), soapAction=op.action, style="document")
            for kind in ("input", "output"):
                etree.SubElement(etree.SubElement(o, _q(WSDL_NS, kind)), _q(soap, "body"), use="literal")
            f = etree.SubElement(o, _q(WSDL_NS, "fault"), name="SmdbFejl")
            etree.SubElement(f, _q(soap, "fault"), name="SmdbFejl", use="literal")
        ports.append((binding_name, soap))

    s = etree.SubElement(defs, _q(WSDL_NS, "service"), name=f"Secure{service_key}")
    for binding_name, soap in ports:
        port = etree.SubElement(s, _q(WSDL_NS, "port"), name=binding_name, binding=f"tns:{binding_name}")
        etree.SubElement(port, _q(soap, "address"), location=location)
    out: bytes = etree.tostring(defs, pretty_print=True, xml_declaration=True, encoding="utf-8")
    return out


def wsdl_filename(service_key: str) -> str:
    return SERVICES[service_key].path.replace(".svc", ".wsdl")


def write_wsdls(directory: Path = WSDL_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for key in SERVICES:
        p = directory / wsdl_filename(key)
        p.write_bytes(build_wsdl(key))
        paths.append(p)
    return paths


#: The repository's top-level copy (``wsdl/``), beside ``src/``, for people and diff tools; absent when installed.
REPO_WSDL_DIR = WSDL_DIR.parent.parent.parent / "wsdl"

if __name__ == "__main__":  # pragma: no cover - maintenance entry point
    targets = [Path(sys.argv[1])] if len(sys.argv) > 1 else [WSDL_DIR, REPO_WSDL_DIR]
    for target in targets:
        for path in write_wsdls(target):
            print(path)
