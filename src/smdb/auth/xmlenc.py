"""The EncryptedAssertion of the NemLog-in STS: a SAML assertion encrypted for the service, opaque to the client.

The real STS encrypts the token it issues for the service (WSP) it is for, so the client (WSC) carries it without
being able to read it. The simulated STS does the same, so that the client is tested with what it will really
get, and the simulated service decrypts it. The shape is the reference implementations' (tests/vectors/oioidws):
``saml:EncryptedAssertion/xenc:EncryptedData`` (``wsu:Id``, AES-256-CBC) whose KeyInfo holds an
``xenc:EncryptedKey`` (RSA-OAEP with MGF1/SHA-1) naming the service certificate by issuer and serial number.

Only what that shape needs; the client never calls :func:`decrypt`.
"""

from __future__ import annotations

import base64
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.asymmetric import padding as asym
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from lxml import etree

from smdb.errors import SecurityError

XENC_NS = "http://www.w3.org/2001/04/xmlenc#"
DS_NS = "http://www.w3.org/2000/09/xmldsig#"
SAML2_NS = "urn:oasis:names:tc:SAML:2.0:assertion"
WSSE_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU_ID = "{http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd}Id"
AES256_CBC = "http://www.w3.org/2001/04/xmlenc#aes256-cbc"
RSA_OAEP = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"
SHA1 = "http://www.w3.org/2000/09/xmldsig#sha1"
ELEMENT = "http://www.w3.org/2001/04/xmlenc#Element"
#: The EncryptedData id the NemLog-in STS uses (the RSTR's RequestedAttachedReference names it).
ENCRYPTED_ID = "encryptedassertion"

_OAEP = asym.OAEP(mgf=asym.MGF1(algorithm=hashes.SHA1()), algorithm=hashes.SHA1(), label=None)


def encrypt_assertion(assertion: etree._Element, recipient: x509.Certificate) -> etree._Element:
    """``saml:EncryptedAssertion`` holding ``assertion`` encrypted for ``recipient`` (the service's certificate)."""
    public_key = recipient.public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise SecurityError("Tjenestens certifikat har ikke en RSA-nøgle")
    key, iv = os.urandom(32), os.urandom(16)
    padder = padding.PKCS7(128).padder()
    plain = padder.update(etree.tostring(assertion)) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    cipher = iv + encryptor.update(plain) + encryptor.finalize()
    wrapper = etree.Element(f"{{{SAML2_NS}}}EncryptedAssertion", nsmap={None: SAML2_NS})
    data = etree.SubElement(wrapper, f"{{{XENC_NS}}}EncryptedData", nsmap={"xenc": XENC_NS})
    data.set("Type", ELEMENT)
    data.set(WSU_ID, ENCRYPTED_ID)
    etree.SubElement(data, f"{{{XENC_NS}}}EncryptionMethod", Algorithm=AES256_CBC)
    key_info = etree.SubElement(data, f"{{{DS_NS}}}KeyInfo", nsmap={None: DS_NS})
    encrypted_key = etree.SubElement(key_info, f"{{{XENC_NS}}}EncryptedKey")
    method = etree.SubElement(encrypted_key, f"{{{XENC_NS}}}EncryptionMethod", Algorithm=RSA_OAEP)
    etree.SubElement(method, f"{{{DS_NS}}}DigestMethod", Algorithm=SHA1)
    inner = etree.SubElement(encrypted_key, f"{{{DS_NS}}}KeyInfo")
    token_ref = etree.SubElement(inner, f"{{{WSSE_NS}}}SecurityTokenReference", nsmap={"o": WSSE_NS})
    serial = etree.SubElement(etree.SubElement(token_ref, f"{{{DS_NS}}}X509Data"), f"{{{DS_NS}}}X509IssuerSerial")
    etree.SubElement(serial, f"{{{DS_NS}}}X509IssuerName").text = recipient.issuer.rfc4514_string()
    etree.SubElement(serial, f"{{{DS_NS}}}X509SerialNumber").text = str(recipient.serial_number)
    key_cipher = etree.SubElement(
        etree.SubElement(encrypted_key, f"{{{XENC_NS}}}CipherData"), f"{{{XENC_NS}}}CipherValue"
    )
    key_cipher.text = base64.b64encode(public_key.encrypt(key, _OAEP)).decode()
    value = etree.SubElement(etree.SubElement(data, f"{{{XENC_NS}}}CipherData"), f"{{{XENC_NS}}}CipherValue")
    value.text = base64.b64encode(cipher).decode()
    return wrapper


def decrypt_assertion(
    encrypted: etree._Element, private_key: rsa.RSAPrivateKey, parser: etree.XMLParser
) -> etree._Element:
    """The ``saml:Assertion`` inside ``encrypted`` (an EncryptedAssertion), with the service's private key."""
    data = encrypted.find(f"{{{XENC_NS}}}EncryptedData")
    if data is None:
        raise SecurityError("EncryptedAssertion uden EncryptedData")
    method = data.find(f"{{{XENC_NS}}}EncryptionMethod")
    key_method = data.find(f"{{{DS_NS}}}KeyInfo/{{{XENC_NS}}}EncryptedKey/{{{XENC_NS}}}EncryptionMethod")
    if method is None or method.get("Algorithm") != AES256_CBC or key_method is None:
        raise SecurityError("Tokenet er krypteret med en ukendt algoritme")
    if key_method.get("Algorithm") != RSA_OAEP:
        raise SecurityError("Tokenets nøgle er krypteret med en ukendt algoritme")
    try:
        wrapped = base64.b64decode(
            data.findtext(
                f"{{{DS_NS}}}KeyInfo/{{{XENC_NS}}}EncryptedKey/{{{XENC_NS}}}CipherData/{{{XENC_NS}}}CipherValue"
            )
            or ""
        )
        cipher = base64.b64decode(data.findtext(f"{{{XENC_NS}}}CipherData/{{{XENC_NS}}}CipherValue") or "")
        key = private_key.decrypt(wrapped, _OAEP)
        decryptor = Cipher(algorithms.AES(key), modes.CBC(cipher[:16])).decryptor()
        plain = decryptor.update(cipher[16:]) + decryptor.finalize()
        pad = plain[-1]
        if not 1 <= pad <= 16:
            raise ValueError("padding")
        assertion: etree._Element = etree.fromstring(plain[:-pad], parser)
    except (ValueError, etree.XMLSyntaxError):
        raise SecurityError("Tokenet kan ikke dekrypteres med tjenestens nøgle") from None
    if assertion.tag != f"{{{SAML2_NS}}}Assertion":
        raise SecurityError("Det krypterede token er ikke en SAML-assertion")
    return assertion
