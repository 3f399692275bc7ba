"""Self-signed test certificates for the simulator, the demo and tests. Never for production."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from smdb.auth.certificates import Credentials


def generate(
    organisation: str = "Testkommune",
    cvr: str = "12345678",
    *,
    days: int = 365,
    not_before: datetime | None = None,
    key_size: int = 2048,
) -> Credentials:
    """An OCES3-like organisation certificate: O=<organisation>, serialNumber=CVR:<cvr>-FID:..."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    start = not_before or datetime.now(UTC) - timedelta(minutes=5)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "DK"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{organisation} SMDB-integration"),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, f"CVR:{cvr}-FID:00000001"),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
    return Credentials(cert, key)


def to_pkcs12(creds: Credentials, password: str) -> bytes:
    return pkcs12.serialize_key_and_certificates(
        b"smdb", creds.private_key, creds.certificate, None, serialization.BestAvailableEncryption(password.encode())
    )


def to_pem(creds: Credentials, password: str | None = None) -> tuple[bytes, bytes]:
    enc: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password.encode()) if password else serialization.NoEncryption()
    )
    key = creds.private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc)
    return creds.certificate.public_bytes(serialization.Encoding.PEM), key
