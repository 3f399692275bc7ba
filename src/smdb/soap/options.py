"""The transport's settings, declared once: the client, the settings file and the CLI all build this one object.

Before, each of the 20-odd connection settings was a parameter of :class:`smdb.soap.caller.SoapCaller`, again of
:class:`smdb.client.SmdbClient` (which relayed it) and again in the settings and the CLI: adding one took seven
edits in four files. Now a setting is a field here (with its default and its meaning), :class:`SmdbClient` takes
the fields as keyword arguments or a whole :class:`TransportOptions`, and :class:`smdb.settings.SmdbSettings`
produces one.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import timedelta
from enum import Enum
from pathlib import Path
from typing import Any

from cryptography import x509

from smdb.auth.sts import StsConfig
from smdb.auth.wsse import MAX_MESSAGE_LIFETIME
from smdb.errors import ConfigurationError
from smdb.soap.answers import ANSWER_SKEW

#: Answers larger than this are refused: announced, or counted while streaming (a whole municipality's
#: HentAnmodninger is a few MB).
MAX_RESPONSE_BYTES = 50 * 1024 * 1024

#: The longest a call may take in all, retries and a slowly dripping answer included (seconds).
DEFAULT_DEADLINE = 120.0


class Environment(Enum):
    """DST's two environments (§1.2). ``LOCAL`` is not one of them: pass ``base_url`` for the simulator."""

    PROD = "https://smdbws.dst.dk"
    PREPROD = "https://smdbpreprodws.dst.dk"


@dataclass(frozen=True, slots=True)
class TransportOptions:
    """How to talk to SMDB: versions, bounds, retries, TLS and what an answer must prove.

    :param api_version: ``"v1"`` (DST's recommendation) or ``"v0"`` (the "Generics" variant).
    :param wsdl_dir, wsdl_url: where the three WSDLs are; defaults to the ones shipped with the package.
    :param server_certificates: DST's certificate(s). When given, every answer and every fault must carry a valid
        signature by one of them (configured means enforced); an answer to a write that fails this is an unknown
        outcome, reconciled before anything is sent again.
    :param allow_unsigned_answers: accept *unsigned* answers although a DST certificate is configured (signed ones
        are still verified); logged as a warning, for a service that turns out not to sign everything.
    :param strict: require signed answers even when no DST certificate is configured (then every answer fails).
    :param timeout: (connect, read) seconds for each network operation.
    :param deadline: seconds a whole call may take, retries included, however slowly the answer drips.
    :param max_message_lifetime: the longest Expires - Created a signed answer may claim.
    :param allow_insecure_http: allow plain ``http://`` to a host other than this machine (never for DST).
    :param retries: attempts after the first for idempotent calls (Hent*, TokenTest); writes are never re-sent.
    :param backoff: the first pause between retries (seconds; doubled each time, with jitter).
    :param verify: TLS verification (always on by default) or a CA bundle path.
    :param tls_client_cert: optional (cert, key) PEM paths for mutual TLS.
    :param max_response_bytes: the largest answer accepted.
    :param auth: ``"certificate"`` (sign each request with the organisation certificate) or ``"sts"`` (NemLog-in
        STS, OIO-IDWS: a SAML token from the STS, requests signed holder-of-key); nothing else changes.
    :param sts: where the STS is and which audience to ask for (:class:`smdb.auth.sts.StsConfig`).
    :param require_signature_confirmation: refuse a signed answer without a WS-Security 1.1 SignatureConfirmation
        of its request's signature (docs/security.md, "What binds an answer").
    :param answer_skew: how far a signed answer's Created may lie before its request was signed.
    """

    api_version: str = "v1"
    wsdl_dir: str | Path | None = None
    wsdl_url: str | None = None
    server_certificates: tuple[x509.Certificate, ...] = ()
    strict: bool = False
    allow_unsigned_answers: bool = False
    timeout: tuple[float, float] = (5.0, 60.0)
    deadline: float = DEFAULT_DEADLINE
    max_message_lifetime: timedelta = MAX_MESSAGE_LIFETIME
    allow_insecure_http: bool = False
    retries: int = 2
    backoff: float = 0.2
    verify: bool | str = True
    tls_client_cert: tuple[str, str] | None = None
    max_response_bytes: int = MAX_RESPONSE_BYTES
    auth: str = "certificate"
    sts: StsConfig | None = None
    require_signature_confirmation: bool = False
    answer_skew: timedelta = field(default=ANSWER_SKEW)

    def __post_init__(self) -> None:
        """Refuse settings that cannot work now, not at the first call."""
        if self.api_version not in ("v0", "v1"):
            raise ConfigurationError("api_version skal være 'v1' eller 'v0'")
        if self.auth not in ("certificate", "sts"):
            raise ConfigurationError("auth skal være 'certificate' eller 'sts'")
        if self.deadline <= 0:
            raise ConfigurationError("deadline skal være et positivt antal sekunder")
        # a list is accepted (the old keyword argument took one) and frozen, so the options stay hashable data
        object.__setattr__(self, "server_certificates", tuple(self.server_certificates or ()))

    @classmethod
    def of(cls, options: TransportOptions | None = None, **changes: Any) -> TransportOptions:
        """``options`` (or the defaults) with ``changes``; an unknown name raises TypeError naming it."""
        unknown = sorted(set(changes) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            raise TypeError(f"ukendt indstilling for forbindelsen: {', '.join(unknown)}")
        return dataclasses.replace(options or cls(), **changes)
