"""SmdbClient: typed calls to HentData, IndsaetData and TokenTest, validated before anything is sent.

The client is small on purpose (httpx-style): one object per organisation certificate and endpoint,
thread-safe, with explicit exceptions from :mod:`smdb.errors`. Every operation of §1.2 is reachable
through :meth:`SmdbClient.call` (driven by :mod:`smdb.soap.contract`), and the ones a vendor uses daily
have typed methods.
"""

from __future__ import annotations

import email.utils
import logging
import os
import random
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
import zeep
import zeep.exceptions
from cryptography import x509
from lxml import etree
from pydantic import BaseModel, ValidationError

from smdb.auth.certificates import Credentials
from smdb.auth.sts import StsConfig, StsTokenProvider
from smdb.auth.wsse import CLOCK_SKEW, MAX_MESSAGE_LIFETIME
from smdb.errors import (
    AnswerNotVerified,
    ConfigurationError,
    RequestNotSent,
    SecurityError,
    SmdbError,
    SmdbFault,
    SmdbOutcomeUnknown,
    SmdbRuleRejected,
    SmdbSecurityFault,
    SmdbUnavailable,
    StsError,
    ValidationFailed,
)
from smdb.http import DeadlineExceeded, ResponseTooLarge, is_loopback, require_https
from smdb.logs import install_log_scrubbing
from smdb.models import (
    Afslutning,
    Anmodning,
    Indskrivning,
    Indskrivningsforloeb,
    Ivaerksaettelse,
    Kontaktforloeb,
    KvalHep,
    Tilbudstilknytning,
    Udskrivning,
    Ydelse,
)
from smdb.rules import nye_brud, validate
from smdb.soap import mapping
from smdb.soap.contract import NS, OPERATIONS, SERVICES, Operation, wsdl_filename
from smdb.soap.mapping import Hentet, IndsaetResultat
from smdb.soap.transport import (
    SETTINGS,
    BoundedTransport,
    LoggingPlugin,
    SigningPlugin,
    TokenSigningPlugin,
    VerifyPlugin,
    load_document,
    wsdl_source,
)

log = logging.getLogger("smdb.client")
M = TypeVar("M", bound=BaseModel)

#: Answers larger than this are refused before they are read (a whole municipality's HentAnmodninger is a few MB).
MAX_RESPONSE_BYTES = 50 * 1024 * 1024


#: The longest a call may take in all, retries and a slowly dripping answer included (seconds).
DEFAULT_DEADLINE = 120.0


class UnverifiedAnswersWarning(UserWarning):
    """Answers from DST's real service are accepted without checking DST's signature."""


_warned_unverified = False


class Environment(Enum):
    """DST's two environments (§1.2). ``LOCAL`` is not one of them: pass ``base_url`` for the simulator."""

    PROD = "https://smdbws.dst.dk"
    PREPROD = "https://smdbpreprodws.dst.dk"


@dataclass(frozen=True, slots=True)
class CheckResult:
    """What :meth:`SmdbClient.check` found, for support desks."""

    ok: bool
    lines: list[str]


class SmdbClient:
    """A client for one organisation certificate against one SMDB endpoint.

    :param environment: ``Environment.PROD`` or ``Environment.PREPROD`` (ignored when ``base_url`` is set).
    :param credentials: the organisation's OCES3 certificate (:func:`smdb.auth.load`); requests are signed.
    :param base_url: explicit host, e.g. the simulator's ``http://127.0.0.1:8765``.
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
    :param verify: TLS verification (always on by default) or a CA bundle path.
    :param tls_client_cert: optional (cert, key) PEM paths for mutual TLS.
    :param auth: ``"certificate"`` (sign each request with the organisation certificate) or ``"sts"`` (NemLog-in
        STS, OIO-IDWS: a SAML token from the STS, requests signed holder-of-key); nothing else changes.
    :param sts: where the STS is and which audience to ask for (:class:`smdb.auth.sts.StsConfig`).
    :param today: "today" for local validation; injectable so rules are testable.
    :param clock: "now" for WS-Security timestamps.
    """

    def __init__(
        self,
        environment: Environment = Environment.PREPROD,
        *,
        credentials: Credentials | None = None,
        base_url: str | None = None,
        api_version: str = "v1",
        wsdl_dir: str | Path | None = None,
        wsdl_url: str | None = None,
        server_certificates: list[x509.Certificate] | None = None,
        strict: bool = False,
        allow_unsigned_answers: bool = False,
        timeout: tuple[float, float] = (5.0, 60.0),
        deadline: float = DEFAULT_DEADLINE,
        max_message_lifetime: timedelta = MAX_MESSAGE_LIFETIME,
        allow_insecure_http: bool = False,
        retries: int = 2,
        backoff: float = 0.2,
        verify: bool | str = True,
        tls_client_cert: tuple[str, str] | None = None,
        today: Callable[[], date] = date.today,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
        auth: str = "certificate",
        sts: StsConfig | None = None,
    ) -> None:
        if api_version not in ("v0", "v1"):
            raise ValueError("api_version skal være 'v1' eller 'v0'")
        if deadline <= 0:
            raise ConfigurationError("deadline skal være et positivt antal sekunder")
        install_log_scrubbing()
        self.base_url = (base_url or environment.value).rstrip("/")
        require_https(self.base_url, "SMDB-adressen", allow_insecure_http)
        self.deadline = deadline
        self.api_version = api_version
        self.credentials = credentials
        self.today = today
        self._clock = clock
        self.retries = retries
        self._backoff = backoff
        self._sleep = sleep
        self._wsdl_dir = wsdl_dir
        self._wsdl_url = wsdl_url
        self.session = session or requests.Session()
        # requests re-reads proxy variables from the environment on every request (a measurable share of a
        # call); read them once here instead, honouring NO_PROXY for this host and a CA bundle from the env.
        self.session.trust_env = False
        self.session.proxies.update(requests.utils.get_environ_proxies(self.base_url))
        env_ca = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        self.session.verify = env_ca if (verify is True and env_ca) else verify
        if tls_client_cert:
            self.session.cert = tls_client_cert
        self.session.headers["User-Agent"] = "smdb-client/0.1"
        self.session.hooks["response"].append(self._note_server_date)
        self._server_date: str | None = None
        if credentials is not None:
            credentials.check_validity()  # expired or not yet valid: refuse now; expiring soon: warn
        self.transport = BoundedTransport(self.session, timeout, max_response_bytes, deadline)
        plugins: list[zeep.Plugin] = [LoggingPlugin()]
        if auth not in ("certificate", "sts"):
            raise ValueError("auth skal være 'certificate' eller 'sts'")
        self.auth = auth
        self.sts_provider: StsTokenProvider | None = None
        if auth == "sts":
            if credentials is None:
                raise ValueError("auth='sts' kræver organisationscertifikatet (credentials)")
            config = sts or StsConfig.for_environment(prod=environment is Environment.PROD and base_url is None)
            require_https(config.endpoint, "STS-adressen", allow_insecure_http)
            self.sts_provider = StsTokenProvider(credentials, config, self.session, clock, max_response_bytes)
            plugins.insert(0, TokenSigningPlugin(credentials, self.sts_provider, clock))
        elif credentials is not None:
            plugins.insert(0, SigningPlugin(credentials, clock))
        trusted = list(server_certificates or [])
        if trusted and allow_unsigned_answers:
            log.warning(
                "allow_unsigned_answers: usignerede svar fra SMDB accepteres, selv om DST's certifikat er "
                "konfigureret; et forfalsket svar kan ikke opdages"
            )
        elif not trusted and not is_loopback(urlsplit(self.base_url).hostname or ""):
            _warn_unverified()
        self._verify = VerifyPlugin(
            trusted,
            (bool(trusted) and not allow_unsigned_answers) or strict,
            clock,
            self.transport.state,
            max_message_lifetime,
        )
        plugins.append(self._verify)
        self._plugins = plugins
        self._services: dict[str, Any] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ plumbing
    def endpoint(self, service: str) -> str:
        return f"{self.base_url}/smdbwebservice/api/external/{self.api_version}/{SERVICES[service].path}"

    def _service(self, service: str) -> Any:
        with self._lock:
            proxy = self._services.get(service)
            if proxy is None:
                doc = load_document(wsdl_source(wsdl_filename(service), self._wsdl_dir, self._wsdl_url))
                client = zeep.Client(doc, transport=self.transport, plugins=self._plugins, settings=SETTINGS)
                binding = f"{{{NS}}}BasicHttpsBinding_{SERVICES[service].port_type}"
                proxy = client.create_service(binding, self.endpoint(service))
                self._services[service] = proxy
            return proxy

    def call(self, operation: str, **kwargs: Any) -> Any:
        """Call any operation of the contract with payload dicts; returns plain dicts/lists/values.

        In STS mode a security refusal is answered with a fresh token, since a token the service no longer accepts
        (its clock, a key rollover at the STS) should not need a restart. A read is simply repeated. A write is
        repeated only on a fault *verified* as DST's (signed by its configured certificate): a forged fault after a
        write that was stored must never make the client send it again, so an unverified one makes the outcome
        unknown, to be reconciled with Hent* (with the fresh token) before anything is re-sent.
        """
        end = time.monotonic() + self.deadline
        try:
            return self._call(operation, kwargs, end)
        except SmdbSecurityFault as exc:
            if self.sts_provider is None:
                raise
            self.sts_provider.invalidate()
            if OPERATIONS[operation].writes and not exc.verified:
                raise SmdbOutcomeUnknown(
                    f"{operation}: SMDB afviste tokenet med en fejl, der ikke kan verificeres ({exc.code}). "
                    "Indberetningen kan være gemt i SMDB; afstem med Hent* før der sendes igen"
                ) from None
            log.info("%s: sikkerhedsfejl i STS-tilstand; henter nyt token og prøver én gang til", operation)
            return self._call(operation, kwargs, end)

    def _call(self, operation: str, kwargs: dict[str, Any], end: float) -> Any:
        op = OPERATIONS[operation]
        attempts = 1 if op.writes else 1 + self.retries
        for attempt in range(1, attempts + 1):
            started = time.perf_counter()
            try:
                result = self._invoke(op, kwargs, end)
            except (SmdbUnavailable, SmdbFault) as exc:
                if isinstance(exc, SmdbFault) and not exc.transient:
                    self._log(op, started, type(exc).__name__)
                    raise
                self._log(op, started, f"unavailable ({type(exc).__name__})")
                delay = min(5.0, self._backoff * 2 ** (attempt - 1)) * (0.5 + random.random())
                if attempt == attempts or time.monotonic() + delay >= end:
                    raise
                self._sleep(delay)
                continue
            except SmdbError as exc:
                self._log(op, started, type(exc).__name__)
                raise
            self._log(op, started, "ok")
            return result
        raise AssertionError("unreachable")  # pragma: no cover

    def _note_server_date(self, response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        self._server_date = response.headers.get("Date")
        return response

    def _log(self, op: Operation, started: float, outcome: str) -> None:
        log.info("%s %.1f ms %s", op.name, (time.perf_counter() - started) * 1000, outcome)

    def _invoke(self, op: Operation, kwargs: dict[str, Any], end: float) -> Any:
        proxy = self._service(op.service)
        state = self.transport.state
        state.deadline, state.sent, state.verified = end, False, False
        try:
            raw = getattr(proxy, op.name)(**kwargs)
        except zeep.exceptions.Fault as exc:
            if exc.code is None and exc.message == "Unknown fault occured":
                # zeep's name for a non-200 answer without a SOAP Fault (an HTML page from a proxy, say)
                if op.writes:
                    raise SmdbOutcomeUnknown(
                        f"{op.name}: fejlside uden SOAP-svar. Indberetningen kan være gemt i SMDB; afstem med Hent* "
                        "før der sendes igen"
                    ) from None
                raise SmdbUnavailable(f"{op.name}: fejlside uden SOAP-svar") from None
            raise _fault(exc, state.verified) from None
        except AnswerNotVerified as exc:
            if op.writes:
                raise SmdbOutcomeUnknown(
                    f"{op.name}: {exc}. Indberetningen kan være gemt i SMDB; afstem med Hent* før der sendes igen"
                ) from None
            if exc.fault:  # a read: a fault nobody can vouch for is no verdict; try again like a server in trouble
                raise SmdbUnavailable(f"{op.name}: {exc}") from None
            raise
        except (SecurityError, StsError):
            raise
        except requests.exceptions.ConnectTimeout:
            raise SmdbUnavailable(f"{op.name}: kunne ikke forbinde til {self.base_url} (timeout)") from None
        except requests.exceptions.SSLError as exc:
            raise SmdbUnavailable(f"{op.name}: TLS-fejl mod {self.base_url}: {type(exc).__name__}") from None
        except (
            requests.exceptions.RequestException,
            zeep.exceptions.TransportError,
            etree.XMLSyntaxError,
            zeep.exceptions.XMLSyntaxError,
            zeep.exceptions.XMLParseError,
            zeep.exceptions.LookupError,
            zeep.exceptions.ValidationError,
            zeep.exceptions.DTDForbidden,
            zeep.exceptions.EntitiesForbidden,
            ValueError,
            # zeep trips over some malformed answers (an empty Body, a missing result) with these
            IndexError,
            KeyError,
            AttributeError,
        ) as exc:
            if not state.sent:
                # signing or serialising failed, or the STS refused: the request never left this process
                raise RequestNotSent(
                    f"{op.name}: forespørgslen kunne ikke dannes ({type(exc).__name__}); intet er sendt"
                ) from None
            if _certainly_not_sent(exc):
                raise SmdbUnavailable(
                    f"{op.name}: kunne ikke forbinde til {self.base_url} (afvist eller ukendt adresse); intet er sendt"
                ) from None
            what = _describe(exc)
            if op.writes:
                raise SmdbOutcomeUnknown(
                    f"{op.name}: {what}. Indberetningen kan være gemt i SMDB; afstem med Hent* før der sendes igen"
                ) from None
            raise SmdbUnavailable(f"{op.name}: {what}") from None
        return mapping.plain(raw)

    # ------------------------------------------------------------------ TokenTest
    def echo(self, text: str) -> str:
        return str(self.call("Echo", Tekst=text))

    def whoami(self) -> dict[str, Any]:
        result: dict[str, Any] = self.call("WhoAmI")
        return result

    def throw(self) -> None:
        """Ask the service for a fault (to test fault handling end to end); always raises :class:`SmdbFault`."""
        self.call("Throw")

    def check(self) -> CheckResult:
        """Is the certificate valid, the endpoint reachable and our clock sane? (§1.2: "om
        funktionscertifikaterne fungerer"). Never raises; says what to fix."""
        lines: list[str] = []
        ok = True
        if self.credentials is None:
            lines.append("FEJL  intet certifikat konfigureret (SMDB_CERT)")
            ok = False
        else:
            try:
                self.credentials.check_validity()
                lines.append(
                    f"OK    certifikat {self.credentials.subject} gyldigt til {self.credentials.not_after:%Y-%m-%d}"
                )
            except SmdbError as exc:
                lines.append(f"FEJL  {exc}")
                ok = False
        try:
            who = self.whoami()
            lines.append(f"OK    {self.endpoint('TokenTest')} svarer; SMDB kender os som {who.get('Subject')}")
        except SmdbError as exc:
            lines.append(f"FEJL  {exc}")
            ok = False
        skew = self._clock_skew()  # also after a refusal: a wrong clock is a common reason for one
        if skew is None:
            lines.append("?     serverens ur kunne ikke aflæses (ingen Date-header)")
        elif abs(skew) > CLOCK_SKEW.total_seconds():
            lines.append(f"FEJL  vores ur afviger {skew:+.0f} s fra serverens; signaturens tidsstempel bliver afvist")
            ok = False
        else:
            lines.append(
                f"OK    uret afviger {skew:+.0f} s fra serverens (tilladt ±{CLOCK_SKEW.total_seconds():.0f} s)"
            )
        return CheckResult(ok, lines)

    def _clock_skew(self) -> float | None:
        """Our clock minus the server's, from the HTTP Date header of the last answer (1 s resolution)."""
        if not self._server_date:
            return None
        try:
            server = email.utils.parsedate_to_datetime(self._server_date)
        except (TypeError, ValueError):
            return None
        return (self._clock() - server).total_seconds()

    # ------------------------------------------------------------------ HentData
    def _hent(self, operation: str, model: type[M], **criteria: Any) -> list[Hentet[M]]:
        soegning = mapping.soegning(**criteria)
        items = _items(self.call(operation, Soegning=soegning))
        _check_matches(operation, soegning, items)
        try:
            return [mapping.hentet(model, item) for item in items]
        except ValidationError as exc:
            raise SmdbUnavailable(
                f"{operation}: svaret passer ikke til datamodellen ({exc.error_count()} fejl)"
            ) from None

    def hent_anmodninger(
        self, cpr: str | None = None, kommunekode: int | None = None, anmodning_id: int | None = None
    ) -> list[Hentet[Anmodning]]:
        return self._hent("HentAnmodninger", Anmodning, cpr=cpr, kommunekode=kommunekode, anmodning_id=anmodning_id)

    def hent_ivaerksaettelser(
        self, cpr: str | None = None, anmodning_id: int | None = None, ivaerksaettelse_id: int | None = None
    ) -> list[Hentet[Ivaerksaettelse]]:
        return self._hent(
            "HentIvaerksaettelser",
            Ivaerksaettelse,
            cpr=cpr,
            anmodning_id=anmodning_id,
            ivaerksaettelse_id=ivaerksaettelse_id,
        )

    def hent_tilbudstilknytninger(
        self, cpr: str | None = None, ivaerksaettelse_id: int | None = None
    ) -> list[Hentet[Tilbudstilknytning]]:
        return self._hent(
            "HentTilbudstilknytninger", Tilbudstilknytning, cpr=cpr, ivaerksaettelse_id=ivaerksaettelse_id
        )

    def hent_kvalhep(self, cpr: str | None = None, ivaerksaettelse_id: int | None = None) -> list[Hentet[KvalHep]]:
        return self._hent("HentKvalHep", KvalHep, cpr=cpr, ivaerksaettelse_id=ivaerksaettelse_id)

    def hent_indskrivninger(self, cpr: str | None = None) -> list[Hentet[Indskrivning]]:
        return self._hent("HentIndskrivninger", Indskrivning, cpr=cpr)

    def hent_ydelser(self, cpr: str | None = None, indskrivning_id: int | None = None) -> list[Hentet[Ydelse]]:
        return self._hent("HentYdelser", Ydelse, cpr=cpr, indskrivning_id=indskrivning_id)

    def hent_opslag(self, operation: str, **criteria: Any) -> list[dict[str, Any]]:
        """Lookup lists: HentAlleTilbud, HentLandeliste, HentYdelsespakker, HentAsiForMyndighed/-Tilbud."""
        if operation not in (
            "HentAlleTilbud",
            "HentLandeliste",
            "HentYdelsespakker",
            "HentAsiForMyndighed",
            "HentAsiForTilbud",
        ):
            raise ValueError(f"{operation} er ikke en opslagsliste")
        soegning = mapping.soegning(**criteria)
        items = _items(self.call(operation, Soegning=soegning))
        _check_matches(operation, soegning, items)
        return items

    def hent_alle_tilbud(self, kommunekode: int | None = None) -> list[dict[str, Any]]:
        return self.hent_opslag("HentAlleTilbud", kommunekode=kommunekode)

    def hent_landeliste(self) -> list[dict[str, Any]]:
        return self.hent_opslag("HentLandeliste")

    def hent_forloeb(self, cpr: str, kommunekode: int | None = None) -> list[Kontaktforloeb]:
        """Every stored course of a citizen (in the municipality), assembled from the four Hent* calls."""
        anm = self.hent_anmodninger(cpr=cpr, kommunekode=kommunekode)
        if not anm:
            return []
        ivs = self.hent_ivaerksaettelser(cpr=cpr)
        tilb = self.hent_tilbudstilknytninger(cpr=cpr)
        kval = self.hent_kvalhep(cpr=cpr)
        return mapping.saml_forloeb(anm, ivs, tilb, kval, kommunekode)

    def _forloeb_med_anmodning(self, anmodning_id: int) -> tuple[Kontaktforloeb, list[Kontaktforloeb]]:
        found = self.hent_anmodninger(anmodning_id=anmodning_id)
        anm = found[0] if found else None
        if anm is None:
            raise SmdbFault("REFERENCE", f"AnmodningId {anmodning_id} findes ikke i SMDB")
        alle = self.hent_forloeb(anm.record.cpr, anm.record.kommunekode)
        for f in alle:
            if f.anmodning.smdb_id == anmodning_id:
                return f, alle
        raise SmdbFault("REFERENCE", f"AnmodningId {anmodning_id} findes ikke i SMDB")  # pragma: no cover

    def _forloeb_med_ivaerksaettelse(self, ivaerksaettelse_id: int) -> tuple[Kontaktforloeb, list[Kontaktforloeb]]:
        found = self.hent_ivaerksaettelser(ivaerksaettelse_id=ivaerksaettelse_id)
        iv = found[0] if found else None
        if iv is None or iv.anmodning_id is None:
            raise SmdbFault("REFERENCE", f"IvaerksaettelseId {ivaerksaettelse_id} findes ikke i SMDB")
        return self._forloeb_med_anmodning(iv.anmodning_id)

    # ------------------------------------------------------------------ validate before send
    def _kontroller(self, nyt: Kontaktforloeb, foer: Kontaktforloeb | None, andre: list[Kontaktforloeb]) -> None:
        """Raise ValidationFailed for every violation the change introduces (old data is not the caller's fault)."""
        stored_id = nyt.anmodning.smdb_id
        others = [f for f in andre if stored_id is None or f.anmodning.smdb_id != stored_id]
        nye = nye_brud(nyt, foer, others, self.today())
        if nye:
            raise ValidationFailed(nye)

    # ------------------------------------------------------------------ IndsaetData (myndighed)
    def indsaet_ivaerksaettelse(
        self,
        forloeb: Kontaktforloeb,
        *,
        state: list[Kontaktforloeb] | None = None,
        validate_first: bool = True,
    ) -> IndsaetResultat:
        """Send the ANM (new, or updated when it carries its AnmodningId) with the optional IVÆR.

        The anmodning travels with IndsaetIvaerksaettelse because §1.2 lists no separate action for it
        (docs/service-contract.md). ``state`` is the citizen's stored courses; fetched when not given.
        """
        anm = forloeb.anmodning.model_copy(update={"kommunekode": forloeb.kommunekode})
        if validate_first:
            andre = state if state is not None else self.hent_forloeb(anm.cpr, forloeb.kommunekode)
            foer = next((f for f in andre if anm.smdb_id and f.anmodning.smdb_id == anm.smdb_id), None)
            nyt = forloeb.model_copy(update={"anmodning": anm})
            if foer is not None:
                nyt = foer.model_copy(update={"anmodning": anm})
                if forloeb.ivaerksaettelse is not None:
                    nyt = nyt.med_skema(forloeb.ivaerksaettelse)
            self._kontroller(nyt, foer, andre)
        payload: dict[str, Any] = {"Anmodning": mapping.to_wire(anm)}
        if forloeb.ivaerksaettelse is not None:
            payload["Ivaerksaettelse"] = mapping.to_wire(
                forloeb.with_derived().ivaerksaettelse or forloeb.ivaerksaettelse
            )
        return mapping.indsaet_resultat(self.call("IndsaetIvaerksaettelse", **payload))

    def indsaet_tilbudstilknytning(
        self, tilknytning: Tilbudstilknytning, ivaerksaettelse_id: int, *, validate_first: bool = True
    ) -> IndsaetResultat:
        """Attach (or update, when it carries its TilbudstilknytningId) an offer to the iværksættelse."""
        if validate_first:
            foer, andre = self._forloeb_med_ivaerksaettelse(ivaerksaettelse_id)
            self._kontroller(foer.med_tilbud(tilknytning), foer, andre)
        payload = mapping.to_wire(tilknytning, IvaerksaettelseId=ivaerksaettelse_id)
        return mapping.indsaet_resultat(self.call("IndsaetTilbudstilknytning", Tilbudstilknytning=payload))

    def indsaet_kvalhep(
        self, kvalhep: KvalHep, ivaerksaettelse_id: int, *, validate_first: bool = True
    ) -> IndsaetResultat:
        if validate_first:
            foer, andre = self._forloeb_med_ivaerksaettelse(ivaerksaettelse_id)
            self._kontroller(foer.med_skema(kvalhep), foer, andre)
        payload = mapping.to_wire(kvalhep, IvaerksaettelseId=ivaerksaettelse_id)
        return mapping.indsaet_resultat(self.call("IndsaetKvalHep", KvalHep=payload))

    def afslut_behandling(
        self, afslutning: Afslutning, anmodning_id: int, *, validate_first: bool = True
    ) -> IndsaetResultat:
        if validate_first:
            foer, andre = self._forloeb_med_anmodning(anmodning_id)
            self._kontroller(foer.med_skema(afslutning), foer, andre)
        payload = mapping.to_wire(afslutning, AnmodningId=anmodning_id)
        return mapping.indsaet_resultat(self.call("AfslutBehandling", Afslutning=payload))

    # ------------------------------------------------------------------ IndsaetData (tilbud, legacy)
    def _kontroller_indskrivning(self, forloeb: Indskrivningsforloeb) -> None:
        violations = validate(forloeb, self.today())
        if violations:
            raise ValidationFailed(violations)

    def indsaet_indskrivning(self, indskrivning: Indskrivning, *, validate_first: bool = True) -> IndsaetResultat:
        if validate_first:
            self._kontroller_indskrivning(Indskrivningsforloeb(indskrivning=indskrivning))
        return mapping.indsaet_resultat(self.call("IndsaetIndskrivning", Indskrivning=mapping.to_wire(indskrivning)))

    def indsaet_ydelse(
        self, ydelse: Ydelse, indskrivning: Hentet[Indskrivning], *, validate_first: bool = True
    ) -> IndsaetResultat:
        if validate_first:
            self._kontroller_indskrivning(Indskrivningsforloeb(indskrivning=indskrivning.record, ydelser=[ydelse]))
        payload = mapping.to_wire(ydelse, IndskrivningId=indskrivning.record.smdb_id)
        return mapping.indsaet_resultat(self.call("IndsaetYdelse", Ydelse=payload))

    def afslut_indskrivning(
        self,
        udskrivning: Udskrivning,
        indskrivning: Hentet[Indskrivning],
        ydelser: list[Ydelse],
        *,
        validate_first: bool = True,
    ) -> IndsaetResultat:
        if validate_first:
            self._kontroller_indskrivning(
                Indskrivningsforloeb(indskrivning=indskrivning.record, ydelser=ydelser, udskrivning=udskrivning)
            )
        payload = mapping.to_wire(udskrivning, IndskrivningId=indskrivning.record.smdb_id)
        return mapping.indsaet_resultat(self.call("AfslutIndskrivning", Udskrivning=payload))

    def indsaet_asi(self, asi: dict[str, Any]) -> IndsaetResultat:
        """ASI for courses before 2019-07-01 (§6.2). The content is opaque to this library."""
        return mapping.indsaet_resultat(self.call("IndsaetAsi", Asi=asi))

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> SmdbClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _items(result: Any) -> list[dict[str, Any]]:
    """ArrayOfX results come back as {"X": [...]} (or None when empty)."""
    if not result:
        return []
    if isinstance(result, dict):
        (value,) = result.values() if len(result) == 1 else (list(result.values()),)
        return list(value) if isinstance(value, list) else [value]
    return list(result)


def _check_matches(operation: str, soegning: dict[str, Any], items: list[dict[str, Any]]) -> None:
    """An answer belongs to its request: every record that carries a searched-for field must carry the value searched
    for. A genuinely signed answer captured for one citizen (within its few minutes of validity) is thereby refused
    as the answer about another; records without such a field (IVÆR, TILB, KvalHep by CPR) are only ever joined to
    the anmodninger by their ids, so they cannot attach to the wrong citizen either."""
    for item in items:
        for name, wanted in soegning.items():
            got = item.get(name) if isinstance(item, dict) else None
            if got is not None and str(got) != str(wanted):
                raise AnswerNotVerified(f"{operation}: svaret hører ikke til forespørgslen ({name} passer ikke)")


def _warn_unverified() -> None:
    """Once per process: DST's answers cannot be checked without DST's certificate."""
    global _warned_unverified
    if not _warned_unverified:
        _warned_unverified = True
        warnings.warn(
            "Svar fra SMDB verificeres ikke: angiv DST's certifikat (server_certificates / --server-cert / "
            "SMDB_SERVER_CERT), så et forfalsket svar eller en forfalsket fejl opdages",
            UnverifiedAnswersWarning,
            stacklevel=3,
        )


def _fault(exc: zeep.exceptions.Fault, verified: bool = False) -> SmdbFault:
    code, message, rule = "UKENDT", str(exc.message or "SOAP-fejl"), None
    detail = exc.detail
    if detail is not None:
        fejl = detail.find(f"{{{NS}}}SmdbFejl")
        if fejl is not None:
            code = fejl.findtext(f"{{{NS}}}FejlKode") or code
            message = fejl.findtext(f"{{{NS}}}Besked") or message
            rule = fejl.findtext(f"{{{NS}}}Regel")
    from smdb.cpr import scrub

    message = scrub(message)
    if code == "FORRETNINGSREGEL":
        return SmdbRuleRejected(code, message, rule, verified)
    if code == "SIKKERHED":
        return SmdbSecurityFault(code, message, rule, verified)
    return SmdbFault(code, message, rule, verified)


def _certainly_not_sent(exc: BaseException) -> bool:
    """Only a refused or timed-out *connection* proves the request never reached the server."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(exc, requests.exceptions.ConnectionError):
        text = str(exc).lower()
        return "refused" in text or "name or service not known" in text or "failed to establish" in text
    return False


def _describe(exc: BaseException) -> str:
    if isinstance(exc, DeadlineExceeded):
        return f"intet fuldt svar inden for tidsfristen ({exc})"
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return "intet svar inden for tidsgrænsen"
    if isinstance(exc, ResponseTooLarge):
        return str(exc)
    if isinstance(exc, requests.exceptions.ConnectionError):
        return "forbindelsen blev afbrudt"
    if isinstance(exc, zeep.exceptions.TransportError):
        return f"HTTP {exc.status_code} uden SOAP-svar"
    if isinstance(exc, zeep.exceptions.DTDForbidden | zeep.exceptions.EntitiesForbidden):
        return "svaret indeholder DTD/entiteter og blev afvist"
    if isinstance(exc, etree.XMLSyntaxError | zeep.exceptions.XMLSyntaxError | zeep.exceptions.XMLParseError):
        return "svaret er ikke gyldig XML"
    return f"uventet svar ({type(exc).__name__})"
