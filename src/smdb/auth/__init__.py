"""Certificates and WS-Security signing/verification."""

from smdb.auth.certificates import CertificateExpiryWarning, Credentials, load, load_pem, load_pkcs12
from smdb.auth.wsse import sign_envelope, verify_envelope

__all__ = [
    "CertificateExpiryWarning",
    "Credentials",
    "load",
    "load_pem",
    "load_pkcs12",
    "sign_envelope",
    "verify_envelope",
]
