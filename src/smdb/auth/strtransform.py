"""The STR-Transform of WS-Security (SOAP Message Security 1.1, section 8.3), as OIO-IDWS signs its tokens.

An OIO-IDWS service call (OIO-IDWS SOAP Binding 1.1) signs the SAML token it carries indirectly: the signature
references the ``wsse:SecurityTokenReference`` (STR) that names the token, with the STR-Transform, whose output is
the canonical form of the *token* the STR dereferences to, not of the STR itself. No Python XML-DSig library
implements it, so it is here, small, on lxml's exclusive c14n.

Dereferencing follows Digitaliseringsstyrelsen's .NET reference implementation (digst/OIOIDWS.Net, whose signed
sample messages ``tests/vectors/oioidws/`` verifies byte for byte):

- a ``KeyIdentifier`` with ValueType ``…#SAMLID`` (or a ``Reference URI="#id"``) names the token by its id: a SAML
  assertion by its ``ID``, an encrypted assertion by the ``wsu:Id`` of its ``xenc:EncryptedData``;
- the token is the ``saml:Assertion``, or for an encrypted one the whole ``saml:EncryptedAssertion`` (the element
  the WSC received from the STS and put in the Security header), canonicalised with exclusive c14n.

The Java reference implementation canonicalises the ``EncryptedData`` instead (with the default namespace in
scope); the repository documents both outputs. This library signs and verifies the .NET form, which is also what a
WCF service (as DST's is assumed to be) produces and expects.
"""

from __future__ import annotations

from lxml import etree

from smdb.errors import SecurityError

WSSE_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSSE11_NS = "http://docs.oasis-open.org/wss/oasis-wss-wssecurity-secext-1.1.xsd"
WSU_ID = "{http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd}Id"
SAML2_NS = "urn:oasis:names:tc:SAML:2.0:assertion"
XENC_NS = "http://www.w3.org/2001/04/xmlenc#"
STR_TRANSFORM = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#STR-Transform"
SAML_ID = "http://docs.oasis-open.org/wss/oasis-wss-saml-token-profile-1.1#SAMLID"
SAML2_TOKEN = "http://docs.oasis-open.org/wss/oasis-wss-saml-token-profile-1.1#SAMLV2.0"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"


def referenced_id(str_element: etree._Element) -> str:
    """The token id an STR names (KeyIdentifier SAMLID text, or a same-document Reference URI)."""
    key_identifier = str_element.find(f"{{{WSSE_NS}}}KeyIdentifier")
    if key_identifier is not None:
        if key_identifier.get("ValueType") != SAML_ID:
            raise SecurityError("SecurityTokenReference: KeyIdentifier skal have ValueType SAMLID")
        value = (key_identifier.text or "").strip()
    else:
        reference = str_element.find(f"{{{WSSE_NS}}}Reference")
        uri = reference.get("URI", "") if reference is not None else ""
        if not uri.startswith("#"):
            raise SecurityError("SecurityTokenReference henviser ikke til et token i beskeden")
        value = uri[1:]
    if not value:
        raise SecurityError("SecurityTokenReference har intet token-id")
    return value


def token_id(token: etree._Element) -> str | None:
    """The id an STR names ``token`` by (the inverse of :func:`dereference`): a SAML assertion's ``ID``, or the
    ``wsu:Id`` of an EncryptedAssertion's EncryptedData."""
    found: str | None
    if token.tag == f"{{{SAML2_NS}}}EncryptedAssertion":
        data = token.find(f"{{{XENC_NS}}}EncryptedData")
        found = data.get(WSU_ID) if data is not None else None
    else:
        found = token.get("ID")
    return found


def dereference(str_element: etree._Element) -> etree._Element:
    """The token ``str_element`` names, in its document: exactly one, or SecurityError (no wrapping by duplicates)."""
    token_id = referenced_id(str_element)
    root = str_element.getroottree().getroot()
    found: list[etree._Element] = []
    for el in root.iter(f"{{{SAML2_NS}}}Assertion", f"{{{XENC_NS}}}EncryptedData"):
        if el.tag == f"{{{SAML2_NS}}}Assertion" and el.get("ID") == token_id:
            found.append(el)
        elif el.tag == f"{{{XENC_NS}}}EncryptedData" and el.get(WSU_ID) == token_id:
            parent = el.getparent()
            if parent is None or parent.tag != f"{{{SAML2_NS}}}EncryptedAssertion":
                raise SecurityError("Det krypterede token ligger ikke i et saml:EncryptedAssertion")
            found.append(parent)
    if len(found) != 1:
        raise SecurityError(f"SecurityTokenReference peger på {len(found)} tokens, ikke ét")
    return found[0]


def canonical(str_element: etree._Element) -> bytes:
    """The STR-Transform's output: the dereferenced token in exclusive canonical form (no comments)."""
    out: bytes = etree.tostring(dereference(str_element), method="c14n", exclusive=True, with_comments=False)
    return out


def check_parameters(transform: etree._Element) -> None:
    """The transform must ask for exclusive c14n of the token (TransformationParameters/CanonicalizationMethod)."""
    method = transform.find(
        f"{{{WSSE_NS}}}TransformationParameters/{{http://www.w3.org/2000/09/xmldsig#}}CanonicalizationMethod"
    )
    if method is None or method.get("Algorithm") != EXC_C14N:
        raise SecurityError("STR-Transform skal kanonisere tokenet med exclusive c14n")


def parameters() -> etree._Element:
    """The ``wsse:TransformationParameters`` element a signer puts in the STR-Transform."""
    params = etree.Element(f"{{{WSSE_NS}}}TransformationParameters", nsmap={"wsse": WSSE_NS})
    etree.SubElement(params, "{http://www.w3.org/2000/09/xmldsig#}CanonicalizationMethod", Algorithm=EXC_C14N)
    return params
