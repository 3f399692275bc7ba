"""The SOAP layer's one entry point: session, bounded transport, WS-Security plugins, retries, and an explicit
translation of everything that can go wrong into :mod:`smdb.errors`.

zeep-style, the layer is named after the protocol: :class:`SoapCaller` calls an operation of the contract with
payload dicts and returns plain values. It knows when a request left the process (a failure before that is
:class:`~smdb.errors.RequestNotSent`, never "may be stored"), when an answer verified, and which operations write
(never retried; an unknown outcome is :class:`~smdb.errors.SmdbOutcomeUnknown`). :class:`smdb.client.SmdbClient`
is the typed façade over it.
"""

from __future__ import annotations

import collections
import logging
import os
import random
import threading
import time
import warnings
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import requests
import zeep
import zeep.exceptions
from lxml import etree

from smdb.auth.certificates import Credentials
from smdb.auth.sts import StsConfig, StsTokenProvider
from smdb.cpr import scrub
from smdb.errors import (
    AnswerNotVerified,
    RequestNotSent,
    SecurityError,
    SmdbError,
    SmdbFault,
    SmdbOutcomeUnknown,
    SmdbRuleRejected,
    SmdbSecurityFault,
    SmdbUnavailable,
    StsError,
)
from smdb.http import DeadlineExceeded, RedirectRefused, ResponseTooLarge, is_loopback, require_https
from smdb.logs import install_log_scrubbing
from smdb.soap import mapping
from smdb.soap.answers import AnswerBinder
from smdb.soap.contract import BINDINGS, NS, OPERATIONS, SERVICES, Operation, wsdl_filename
from smdb.soap.options import TransportOptions
from smdb.soap.transport import (
    SETTINGS,
    BoundedTransport,
    LoggingPlugin,
    SigningPlugin,
    SoapVersionMismatch,
    TokenSigningPlugin,
    VerifyPlugin,
    load_document,
    wsdl_source,
)

log = logging.getLogger("smdb.client")


class UnverifiedAnswersWarning(UserWarning):
    """Answers from DST's real service are accepted without checking DST's signature."""


_warned_unverified = False


class SoapCaller:
    """Calls operations of the contract against one endpoint with one identity; thread-safe.

    ``options`` as :class:`smdb.soap.options.TransportOptions` documents them; ``prod`` picks the production STS.
    """

    def __init__(
        self,
        base_url: str,
        *,
        prod: bool = False,
        credentials: Credentials | None = None,
        options: TransportOptions | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
    ) -> None:
        o = self.options = options or TransportOptions()
        api_version, deadline, auth, sts, verify = o.api_version, o.deadline, o.auth, o.sts, o.verify
        allow_insecure_http, allow_unsigned_answers = o.allow_insecure_http, o.allow_unsigned_answers
        retries, backoff, max_response_bytes = o.retries, o.backoff, o.max_response_bytes
        install_log_scrubbing()
        self.base_url = base_url.rstrip("/")
        require_https(self.base_url, "SMDB-adressen", allow_insecure_http)
        self.deadline = deadline
        self.api_version = api_version
        self.credentials = credentials
        self.clock = clock
        self.retries = retries
        self._backoff = backoff
        self._sleep = sleep
        self._wsdl_dir = o.wsdl_dir
        self._wsdl_url = o.wsdl_url
        if session is None:
            session = requests.Session()
            # one pooled connection per concurrent worker (requests keeps 10; more workers would reconnect per call)
            adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=64)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
        self.session = session
        # requests re-reads proxy variables from the environment on every request (a measurable share of a
        # call); read them once here instead, honouring NO_PROXY for this host and a CA bundle from the env.
        self.session.trust_env = False
        self.session.proxies.update(requests.utils.get_environ_proxies(self.base_url))
        env_ca = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        self.session.verify = env_ca if (verify is True and env_ca) else verify
        if o.tls_client_cert:
            self.session.cert = o.tls_client_cert
        self.session.headers["User-Agent"] = "smdb-client/0.1"
        self.session.hooks["response"].append(self._note_server_date)
        self.server_date: str | None = None
        if credentials is not None:
            credentials.check_validity()  # expired or not yet valid: refuse now; expiring soon: warn
        self.transport = BoundedTransport(self.session, o.timeout, max_response_bytes, deadline)
        plugins: list[zeep.Plugin] = [LoggingPlugin()]
        self.auth = auth
        self.sts_provider: StsTokenProvider | None = None
        if auth == "sts":
            if credentials is None:
                raise ValueError("auth='sts' kræver organisationscertifikatet (credentials)")
            config = sts or StsConfig.for_environment(prod=prod)
            require_https(config.endpoint, "STS-adressen", allow_insecure_http)
            if not config.certificates and not is_loopback(urlsplit(config.endpoint).hostname or ""):
                warnings.warn(
                    "STS'ens svar verificeres ikke: angiv STS'ens certifikat (StsConfig.certificates / --sts-cert / "
                    "SMDB_STS_CERT), så et forfalsket token opdages, før det bruges",
                    UnverifiedAnswersWarning,
                    stacklevel=3,
                )
            self.sts_provider = StsTokenProvider(credentials, config, self.session, clock, max_response_bytes)
            plugins.insert(0, TokenSigningPlugin(credentials, self.sts_provider, clock))
        elif credentials is not None:
            plugins.insert(0, SigningPlugin(credentials, clock))
        trusted = list(o.server_certificates)
        if trusted and allow_unsigned_answers:
            log.warning(
                "allow_unsigned_answers: usignerede svar fra SMDB accepteres, selv om DST's certifikat er "
                "konfigureret; et forfalsket svar kan ikke opdages"
            )
        elif not trusted and not is_loopback(urlsplit(self.base_url).hostname or ""):
            _warn_unverified()
        self._verify = VerifyPlugin(
            trusted,
            (bool(trusted) and not allow_unsigned_answers) or o.strict,
            clock,
            self.transport.state,
            o.max_message_lifetime,
            AnswerBinder(
                # OIO-IDWS: WS-Addressing is part of the signed call, so the answer's RelatesTo must name it
                require_relates_to=auth == "sts",
                require_signature_confirmation=o.require_signature_confirmation,
                skew=o.answer_skew,
            ),
        )
        plugins.append(self._verify)
        self._plugins = plugins
        self._services: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._calls: collections.Counter[str] = collections.Counter()
        self._calls_lock = threading.Lock()

    # ------------------------------------------------------------------ plumbing
    def endpoint(self, service: str) -> str:
        return f"{self.base_url}/smdbwebservice/api/external/{self.api_version}/{SERVICES[service].path}"

    def _service(self, service: str) -> Any:
        with self._lock:
            proxy = self._services.get(service)
            if proxy is None:
                doc = load_document(wsdl_source(wsdl_filename(service), self._wsdl_dir, self._wsdl_url))
                client = zeep.Client(doc, transport=self.transport, plugins=self._plugins, settings=SETTINGS)
                binding = f"{{{NS}}}{BINDINGS[self.auth].prefix}_{SERVICES[service].port_type}"
                proxy = client.create_service(binding, self.endpoint(service))
                self._services[service] = proxy
            return proxy

    def call(self, operation: str, **kwargs: Any) -> Any:
        """Call any operation of the contract with payload dicts; returns plain dicts/lists/values.

        In STS mode a security refusal is answered with a fresh token, since a token the service no longer accepts
        (its clock, a key rollover at the STS) should not need a restart. A read is then simply repeated. A write
        never is: even DST's own, genuinely signed and bound security fault may be its answer to a *replayed copy* of
        a write it has already stored (the copy carries the same MessageID and signature), so a security fault to a
        write is an unknown outcome in either mode, reconciled with Hent* (with the fresh token) before anything is
        sent again.
        """
        end = time.monotonic() + self.deadline
        try:
            return self._call(operation, kwargs, end)
        except SmdbSecurityFault as exc:
            if self.sts_provider is not None:
                self.sts_provider.invalidate()
            if OPERATIONS[operation].writes:
                raise SmdbOutcomeUnknown(
                    f"{operation}: SMDB afviste forespørgslen med en sikkerhedsfejl ({exc.code}: {exc.message}). "
                    "Den kan være svaret på en genafspillet kopi, så indberetningen kan være gemt; "
                    "kør igen, så afstemmes den med SMDB, før noget sendes igen"
                ) from None
            if self.sts_provider is None:
                raise
            log.info("%s: sikkerhedsfejl i STS-tilstand; henter nyt token og prøver én gang til", operation)
            return self._call(operation, kwargs, end)

    def unbound_answers(self) -> int:
        """Verified answers this thread accepted as fresh but not bound to their request (neither RelatesTo nor
        SignatureConfirmation): such an answer must not decide to send a write of unknown outcome again."""
        return self.transport.state.unbound

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
        self.server_date = response.headers.get("Date")
        return response

    def hent_items(self, operation: str, **criteria: Any) -> list[dict[str, Any]]:
        """A Hent* call with search criteria (:func:`smdb.soap.mapping.soegning`): the result records as dicts,
        each checked to belong to the request (a signed answer about another citizen is refused)."""
        soegning = mapping.soegning(**criteria)
        result = items(self.call(operation, Soegning=soegning))
        check_matches(operation, soegning, result)
        return result

    def _log(self, op: Operation, started: float, outcome: str) -> None:
        log.info("%s %.1f ms %s", op.name, (time.perf_counter() - started) * 1000, outcome)

    def call_counts(self) -> dict[str, int]:
        """SOAP calls made so far by operation, every attempt counted (a retry is a call): what a batch cost."""
        with self._calls_lock:
            return dict(self._calls)

    def _invoke(self, op: Operation, kwargs: dict[str, Any], end: float) -> Any:
        proxy = self._service(op.service)
        with self._calls_lock:
            self._calls[op.name] += 1
        state = self.transport.state
        state.deadline, state.sent, state.verified = end, False, False
        try:
            raw = getattr(proxy, op.name)(**kwargs)
        except zeep.exceptions.Fault as exc:
            if exc.code is None and exc.message == "Unknown fault occured":
                # zeep's name for a non-200 answer without a SOAP Fault (an HTML page from a proxy, say)
                if op.writes:
                    raise SmdbOutcomeUnknown(
                        f"{op.name}: fejlside uden SOAP-svar. Indberetningen kan være gemt i SMDB; kør igen, så "
                        "afstemmes den med SMDB, før noget sendes igen"
                    ) from None
                raise SmdbUnavailable(f"{op.name}: fejlside uden SOAP-svar") from None
            raise _fault(exc, state.verified) from None
        except AnswerNotVerified as exc:
            if op.writes:
                raise SmdbOutcomeUnknown(
                    f"{op.name}: {exc}. Indberetningen kan være gemt i SMDB; kør igen, så afstemmes den med SMDB"
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
                    f"{op.name}: forespørgslen kunne ikke dannes ({type(exc).__name__}); den er ikke sendt"
                ) from None
            if _certainly_not_sent(exc):
                raise SmdbUnavailable(
                    f"{op.name}: kunne ikke forbinde til {self.base_url} (afvist eller ukendt adresse); "
                    "kaldet er ikke sendt"
                ) from None
            what = _describe(exc)
            if op.writes:
                raise SmdbOutcomeUnknown(
                    f"{op.name}: {what}. Indberetningen kan være gemt i SMDB; kør igen, så afstemmes den med SMDB"
                ) from None
            raise SmdbUnavailable(f"{op.name}: {what}") from None
        return mapping.plain(raw)


def items(result: Any) -> list[dict[str, Any]]:
    """ArrayOfX results come back as {"X": [...]} (or None when empty)."""
    if not result:
        return []
    if isinstance(result, dict):
        (value,) = result.values() if len(result) == 1 else (list(result.values()),)
        return list(value) if isinstance(value, list) else [value]
    return list(result)


def check_matches(operation: str, soegning: dict[str, Any], items: list[dict[str, Any]]) -> None:
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
            stacklevel=4,  # the caller of SmdbClient(...)
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
    if isinstance(exc, SoapVersionMismatch):
        return str(exc)
    if isinstance(exc, DeadlineExceeded):
        return f"intet fuldt svar inden for tidsfristen ({exc})"
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return "intet svar inden for tidsgrænsen"
    if isinstance(exc, ResponseTooLarge | RedirectRefused):
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
