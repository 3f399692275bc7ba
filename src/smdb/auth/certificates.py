"""The organisation's OCES3 certificate (funktions-/organisationscertifikat), from PKCS#12 or PEM.

The private key stays in memory as a ``cryptography`` key object; nothing here logs or writes it, and
``repr`` of a :class:`Credentials` shows only the subject and validity.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from smdb.errors import CertificateError
from smdb.files import UnsafeFile, os_fejl, read_capped

#: Warn this long before the certificate expires.
EXPIRY_WARNING = timedelta(days=30)


class CertificateExpiryWarning(UserWarning):
    """The certificate expires soon: order a new one from the organisation's LRA in time."""


@dataclass(frozen=True, repr=False)
class Credentials:
    """A certificate with its RSA private key (and any intermediate certificates)."""

    certificate: x509.Certificate
    private_key: rsa.RSAPrivateKey
    chain: tuple[x509.Certificate, ...] = ()

    @property
    def subject(self) -> str:
        """The certificate's subject, for messages."""
        return self.certificate.subject.rfc4514_string()

    @property
    def not_after(self) -> datetime:
        """The end of the certificate's validity (UTC)."""
        return self.certificate.not_valid_after_utc

    @property
    def not_before(self) -> datetime:
        """The start of the certificate's validity (UTC)."""
        return self.certificate.not_valid_before_utc

    def cert_der(self) -> bytes:
        """The certificate in DER (for a BinarySecurityToken); encoded once per certificate, not per signed call."""
        return _der(self.certificate)

    def cert_pem(self) -> str:
        """The certificate in PEM."""
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode()

    def check_validity(self, now: datetime | None = None) -> None:
        """Raise for an expired or not yet valid certificate; warn 30 days before expiry."""
        now = now or datetime.now(UTC)
        if now < self.not_before:
            raise CertificateError(f"Certifikatet ({self.subject}) er først gyldigt fra {self.not_before:%Y-%m-%d}")
        if now > self.not_after:
            raise CertificateError(f"Certifikatet ({self.subject}) udløb {self.not_after:%Y-%m-%d}; bestil et nyt")
        if now + EXPIRY_WARNING > self.not_after:
            warnings.warn(
                f"Certifikatet ({self.subject}) udløber {self.not_after:%Y-%m-%d}; forny det i god tid",
                CertificateExpiryWarning,
                stacklevel=2,
            )

    def __repr__(self) -> str:
        return f"Credentials(subject={self.subject!r}, not_after={self.not_after:%Y-%m-%d})"


def _read(path: str | Path) -> bytes:
    try:
        return read_capped(path, 1024 * 1024)
    except UnsafeFile as exc:
        raise CertificateError(f"Certifikatfilen kan ikke bruges: {exc}") from None
    except OSError as exc:
        raise CertificateError(f"Certifikatfilen {path} kan ikke læses: {os_fejl(exc)}") from None


def _check_pair(cert: x509.Certificate, key: object) -> rsa.RSAPrivateKey:
    if not isinstance(key, rsa.RSAPrivateKey):
        raise CertificateError("Nøglen er ikke en RSA-nøgle (OCES3-certifikater bruger RSA)")
    pub = cert.public_key()
    if not isinstance(pub, rsa.RSAPublicKey) or pub.public_numbers() != key.public_key().public_numbers():
        raise CertificateError("Den private nøgle hører ikke til certifikatet")
    return key


def load_pkcs12(path: str | Path, password: str | bytes | None) -> Credentials:
    """Load a ``.p12``/``.pfx`` file as issued for OCES3 certificates."""
    data = _read(path)
    pw = password.encode() if isinstance(password, str) else password
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(data, pw)
    except ValueError:
        hint = "forkert adgangskode" if pw else "ingen adgangskode: sæt miljøvariablen SMDB_CERT_PASSWORD"
        raise CertificateError(
            f"Kunne ikke åbne PKCS#12-filen {Path(path).name}: {hint} (eller ikke en PKCS#12-fil)"
        ) from None
    if cert is None or key is None:
        raise CertificateError(f"PKCS#12-filen {Path(path).name} indeholder ikke både certifikat og nøgle")
    return Credentials(cert, _check_pair(cert, key), tuple(extra or ()))


def load_pem(
    cert_path: str | Path, key_path: str | Path | None = None, password: str | bytes | None = None
) -> Credentials:
    """Load a PEM certificate and key (one file holding both, or two files)."""
    cert_data = _read(cert_path)
    key_data = _read(key_path) if key_path else cert_data
    pw = password.encode() if isinstance(password, str) else password
    try:
        certs = x509.load_pem_x509_certificates(cert_data)
    except ValueError:
        raise CertificateError(f"{Path(cert_path).name} indeholder ikke et PEM-certifikat") from None
    if b"PRIVATE KEY-----" not in key_data:
        where = (
            f"{Path(key_path).name} indeholder" if key_path else f"{Path(cert_path).name} indeholder kun certifikatet,"
        )
        raise CertificateError(f"{where} ingen privat nøgle: angiv nøglefilen med --key (SMDB_KEY)")
    encrypted = b"ENCRYPTED PRIVATE KEY-----" in key_data or b"Proc-Type: 4,ENCRYPTED" in key_data
    if encrypted and not pw:
        raise CertificateError(
            "Den private nøgle er krypteret, men der er ingen adgangskode: sæt miljøvariablen SMDB_CERT_PASSWORD"
        )
    try:
        key = serialization.load_pem_private_key(key_data, pw)
    except TypeError:
        raise CertificateError(
            "Den private nøgle er ikke krypteret, men der er angivet en adgangskode (SMDB_CERT_PASSWORD): fjern den"
        ) from None
    except ValueError:
        what = "forkert adgangskode (SMDB_CERT_PASSWORD)" if encrypted else "ukendt format"
        raise CertificateError(f"Kunne ikke læse den private nøgle: {what}") from None
    return Credentials(certs[0], _check_pair(certs[0], key), tuple(certs[1:]))


def load(path: str | Path, password: str | bytes | None = None, key_path: str | Path | None = None) -> Credentials:
    """PKCS#12 for ``.p12``/``.pfx``, PEM otherwise."""
    if Path(path).suffix.lower() in (".p12", ".pfx"):
        return load_pkcs12(path, password)
    return load_pem(path, key_path, password)


#: :func:`load` under the name ``smdb`` exports it by (``from smdb import load_credentials``).
load_credentials = load


@functools.lru_cache(maxsize=64)
def _der(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.DER)
