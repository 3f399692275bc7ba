"""SmdbClient: a small typed façade over the contract, validating before anything is sent.

httpx-style: one object per organisation certificate and endpoint, thread-safe, explicit exceptions from
:mod:`smdb.errors`. The generic :meth:`SmdbClient.hent` and :meth:`SmdbClient.indsaet` work for every form of the
per-form table (:mod:`smdb.forms`); the typed methods a vendor uses daily are one-line aliases of them. Sessions,
retries, bounds and the translation of failures live in the SOAP layer (:class:`smdb.soap.caller.SoapCaller`,
configured by one :class:`smdb.soap.options.TransportOptions`); whole courses and the checks before a write, in
:mod:`smdb.courses`; the support check, in :mod:`smdb.check`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import requests

from smdb.auth.certificates import Credentials
from smdb.check import CheckResult, check
from smdb.client_aliases import TypedAliases
from smdb.courses import Courses
from smdb.errors import ConfigurationError, SmdbOutcomeUnknown
from smdb.forms import FORMS, Form, id_element, spec_of
from smdb.models import (
    Kontaktforloeb,
    SmdbModel,
)
from smdb.register import Hentet
from smdb.settings import SmdbSettings
from smdb.soap import mapping
from smdb.soap.caller import SoapCaller
from smdb.soap.contract import lookup_operations
from smdb.soap.mapping import IndsaetResultat
from smdb.soap.options import Environment, TransportOptions

__all__ = ["CheckResult", "Environment", "SmdbClient", "TransportOptions"]


class SmdbClient(TypedAliases):
    """A client for one organisation certificate against one SMDB endpoint.

    :param environment: ``Environment.PROD`` or ``Environment.PREPROD`` (ignored when ``base_url`` is set).
    :param credentials: the organisation's OCES3 certificate (:func:`smdb.auth.load`); requests are signed.
    :param base_url: explicit host, e.g. the simulator's ``http://127.0.0.1:8765``.
    :param options: how to talk to SMDB (:class:`~smdb.soap.options.TransportOptions`: versions, bounds, retries,
        TLS, DST's certificates, what an answer must prove); its fields may also be given one by one as keyword
        arguments (``deadline=30``, ``server_certificates=[…]``), over ``options``.
    :param today: "today" for local validation; injectable so rules are testable.
    :param clock: "now" for WS-Security timestamps.
    :raises ConfigurationError: a setting that cannot work (an unknown auth mode, plain http:// to another host,
        a non-positive deadline).
    :raises CertificateError: the organisation certificate is expired or not yet valid.
    """

    def __init__(
        self,
        environment: Environment = Environment.PREPROD,
        *,
        credentials: Credentials | None = None,
        base_url: str | None = None,
        options: TransportOptions | None = None,
        today: Callable[[], date] = date.today,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
        **transport: Any,
    ) -> None:
        self.today, self.clock, self.options = today, clock, TransportOptions.of(options, **transport)
        self._soap = SoapCaller(
            base_url or environment.value,
            prod=environment is Environment.PROD and base_url is None,
            credentials=credentials,
            options=self.options,
            clock=clock,
            sleep=sleep,
            session=session,
        )
        # the SOAP layer's settings, readable where callers and the support check expect them
        self.base_url, self.api_version, self.credentials = self._soap.base_url, self.options.api_version, credentials
        self.session, self.transport, self.sts_provider = (
            self._soap.session,
            self._soap.transport,
            self._soap.sts_provider,
        )
        self.auth, self.deadline, self.retries = self.options.auth, self.options.deadline, self.options.retries
        self._courses = Courses(self)

    @classmethod
    def from_settings(cls, settings: SmdbSettings, **overrides: Any) -> SmdbClient:
        """A client for :class:`smdb.settings.SmdbSettings` (``overrides`` go to the constructor as they are)."""
        return cls(**settings.client_arguments(**overrides))

    @classmethod
    def from_env(cls, config_file: str | Path | None = None, **overrides: Any) -> SmdbClient:
        """A client configured as the ``smdb`` command is: ``SMDB_*`` variables over the ``[smdb]`` table of
        ``config_file`` (default ``$SMDB_CONFIG``); a wrong or missing setting raises ConfigurationError."""
        return cls.from_settings(SmdbSettings.load(config_file), **overrides)

    @classmethod
    def per_kommune(cls, settings: SmdbSettings, **overrides: Any) -> dict[int, SmdbClient]:
        """One client per municipality of ``[smdb.kommuner.KODE]``, each signing with that municipality's own
        certificate (its password from ``SMDB_CERT_PASSWORD_KODE``); every other setting as :meth:`from_settings`."""
        return {kode: cls(**arguments) for kode, arguments in settings.kommune_arguments(**overrides).items()}

    @property
    def server_date(self) -> str | None:
        """The HTTP Date header of the last answer (the support check compares our clock with it)."""
        return self._soap.server_date

    def endpoint(self, service: str) -> str:
        """The URL of ``service`` (HentData, IndsaetData, TokenTest) for this client's environment and version."""
        return self._soap.endpoint(service)

    def call(self, operation: str, **kwargs: Any) -> Any:
        """Call any operation of the contract with payload dicts; returns plain dicts/lists/values.

        :raises SmdbUnavailable: SMDB could not be reached or answered with an error page (retried first).
        :raises AnswerNotVerified: the answer was not signed by DST's configured certificate, or is not the
            answer to this request (another request's, replayed).
        :raises SmdbFault: SMDB refused the request (its code and rule on the exception).
        :raises SmdbOutcomeUnknown: (a write) sent, but its outcome is unknown: reconcile before sending again.
        """
        return self._soap.call(operation, **kwargs)

    def unbound_answers(self) -> int:
        """Verified answers this thread accepted as fresh but not bound to their request (no RelatesTo or
        SignatureConfirmation): such answers must not decide to send a write of unknown outcome again."""
        return self._soap.unbound_answers()

    def call_counts(self) -> dict[str, int]:
        """SOAP calls this client has made, by operation (retries included)."""
        return self._soap.call_counts()

    # ------------------------------------------------------------------ generic, driven by the per-form table
    def hent(self, form: str, **criteria: Any) -> list[Hentet[Any]]:
        """Records of ``form`` matching ``criteria`` (cpr, kommunekode, anmodning_id, ivaerksaettelse_id,
        indskrivning_id), each with the ids it refers to; raises as :meth:`call` (a malformed CPR: nothing sent)."""
        spec = FORMS[form]
        if spec.hent is None:
            raise ConfigurationError(f"{form} hentes med sin overordnede ({spec.parent}), ikke for sig")
        return [mapping.hentet(spec.model, item) for item in self._soap.hent_items(spec.hent, **criteria)]

    def indsaet(
        self, record: SmdbModel, parent_id: int | None = None, *, validate_first: bool = False
    ) -> IndsaetResultat:
        """Store ``record`` (insert, or update when it carries its SMDB id) under the record ``parent_id`` names.

        Sent as given unless ``validate_first``: then the change is checked against the stored course (every rule,
        and the lookup lists) first. An iværksættelse travels with its anmodning (:meth:`indsaet_ivaerksaettelse`).

        :raises ValidationFailed: (with ``validate_first``) the change breaks a rule; nothing was sent.
        :raises SmdbOutcomeUnknown: the write was sent but its outcome is unknown (no answer, a cut-off or
            unverifiable answer, a security fault): reconcile with Hent* (``Reporter`` does) before sending again.
        :raises SmdbRuleRejected: SMDB refused the write by a business rule.
        :raises SmdbUnavailable: SMDB could not be reached; nothing was sent.
        """
        spec = spec_of(record)
        if spec.sent_with is not None:
            raise ConfigurationError(f"{spec.form} sendes med sin anmodning: brug indsaet_ivaerksaettelse")
        refs = {}
        if spec.parent_id_element is not None:
            if parent_id is None:
                raise ConfigurationError(f"{spec.form} kræver parent_id ({spec.parent_id_element})")
            refs[spec.parent_id_element] = parent_id
        if validate_first and spec.parent is not None and not spec.closed:
            self._courses.kontroller_skema(record, parent_id)
        result = mapping.indsaet_resultat(self.call(spec.indsaet, **{spec.wire_name: mapping.to_wire(record, **refs)}))
        return _named(spec.indsaet, result, mapping.names_the_write(result, getattr(record, "smdb_id", None), refs))

    # ------------------------------------------------------------------ TokenTest
    def echo(self, text: str) -> str:
        """TokenTest Echo: the text back, through the whole security chain."""
        return str(self.call("Echo", Tekst=text))

    def whoami(self) -> dict[str, Any]:
        """TokenTest WhoAmI: who SMDB takes the caller for (subject, organisation, CVR, certificate expiry)."""
        result: dict[str, Any] = self.call("WhoAmI")
        return result

    def throw(self) -> None:
        """Ask the service for a fault (to test fault handling end to end); always raises :class:`SmdbFault`."""
        self.call("Throw")

    def check(self) -> CheckResult:
        """Is the certificate valid, the endpoint reachable and our clock sane? (:func:`smdb.check.check`)"""
        return check(self)

    def hent_opslag(self, operation: str, **criteria: Any) -> list[dict[str, Any]]:
        """A lookup list of the contract (§1.2 "som bruges som opslag": HentAlleTilbud, HentLandeliste, …)."""
        if operation not in lookup_operations():
            raise ConfigurationError(f"{operation} er ikke en opslagsliste i kontrakten")
        return self._soap.hent_items(operation, **criteria)

    def hent_alle_tilbud(self, kommunekode: int | None = None) -> list[dict[str, Any]]:
        """HentAlleTilbud: SMDB's tilbud register (of one municipality when given)."""
        return self.hent_opslag("HentAlleTilbud", kommunekode=kommunekode)

    def hent_landeliste(self) -> list[dict[str, Any]]:
        """HentLandeliste: the country codes 10-IVÆR may take."""
        return self.hent_opslag("HentLandeliste")

    def opslag(self) -> tuple[frozenset[int], frozenset[str]]:
        """The TilbudIds of HentAlleTilbud and the LandeKoder of HentLandeliste, fetched once per client (a run)."""
        return self._courses.opslag()

    def kontroller_henvisninger(self, records: list[SmdbModel]) -> None:
        """Raise ValidationFailed for a TilbudId or landekode that SMDB's lookup lists do not hold (nothing sent)."""
        self._courses.kontroller_henvisninger(records)

    def hent_forloeb(self, cpr: str, kommunekode: int | None = None) -> list[Kontaktforloeb]:
        """Every stored course of a citizen (in the municipality), assembled from one Hent per form; raises as
        :meth:`hent`."""
        return self._courses.hent_forloeb(cpr, kommunekode)

    def hent_kommunens_forloeb(self, kommunekode: int) -> dict[str, list[Kontaktforloeb]]:
        """Every stored course of the municipality by CPR, from one Hent per form by KommuneKode (instead of one per
        form and citizen), assembled exactly as :meth:`hent_forloeb` assembles one citizen's (joined by ids only)."""
        return self._courses.hent_kommunens_forloeb(kommunekode)

    # ------------------------------------------------------------------ IndsaetData (myndighed)
    def indsaet_ivaerksaettelse(
        self, forloeb: Kontaktforloeb, *, state: list[Kontaktforloeb] | None = None, validate_first: bool = True
    ) -> IndsaetResultat:
        """Send the ANM (new, or updated when it carries its AnmodningId) with the optional IVÆR; raises as
        :meth:`indsaet`. The anmodning travels with IndsaetIvaerksaettelse because §1.2 lists no separate action for
        it (docs/service-contract.md). ``state`` is the citizen's stored courses; fetched when not given."""
        if validate_first:
            self._courses.kontroller_anmodning(forloeb, state)
        anm = forloeb.anmodning.model_copy(update={"kommunekode": forloeb.kommunekode})
        payload: dict[str, Any] = {FORMS[Form.ANM].wire_name: mapping.to_wire(anm)}
        if forloeb.ivaerksaettelse is not None:
            iv = forloeb.with_derived().ivaerksaettelse or forloeb.ivaerksaettelse
            payload[FORMS[Form.IVAER].wire_name] = mapping.to_wire(iv)
        result = mapping.indsaet_resultat(self.call(FORMS[Form.ANM].indsaet, **payload))
        iv_id = forloeb.ivaerksaettelse.smdb_id if forloeb.ivaerksaettelse is not None else None
        refs = {id_element(Form.ANM): anm.smdb_id, id_element(Form.IVAER): iv_id}
        return _named(FORMS[Form.ANM].indsaet, result, mapping.names_the_write(result, None, refs))

    def indsaet_asi(self, asi: dict[str, Any]) -> IndsaetResultat:
        """ASI for courses before 2019-07-01 (§6.2). The content is opaque to this library."""
        return mapping.indsaet_resultat(self.call("IndsaetAsi", Asi=asi))

    def close(self) -> None:
        """Close the HTTP connections."""
        self.session.close()

    def __enter__(self) -> SmdbClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _named(operation: str, result: IndsaetResultat, mismatch: str | None) -> IndsaetResultat:
    """The write's result, or an unknown outcome when the answer names another record (reconciled, never trusted)."""
    if mismatch is None:
        return result
    raise SmdbOutcomeUnknown(
        f"{operation}: svaret hører ikke til denne indberetning ({mismatch}); den kan være gemt eller ej: kør igen, "
        "så afstemmes den med SMDB"
    )
