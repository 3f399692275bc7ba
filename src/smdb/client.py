"""SmdbClient: a small typed façade over the contract, validating before anything is sent.

httpx-style: one object per organisation certificate and endpoint, thread-safe, explicit exceptions from
:mod:`smdb.errors`. The generic :meth:`SmdbClient.hent` and :meth:`SmdbClient.indsaet` work for every form of the
per-form table (:mod:`smdb.forms`); the typed methods a vendor uses daily are one-line aliases of them. Sessions,
retries, bounds and the translation of failures live in the SOAP layer (:class:`smdb.soap.caller.SoapCaller`);
what SMDB holds and whether a change may be made, in :mod:`smdb.register`; the support check, in
:mod:`smdb.check`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import requests
from cryptography import x509

from smdb.auth.certificates import Credentials
from smdb.auth.sts import StsConfig
from smdb.auth.wsse import MAX_MESSAGE_LIFETIME
from smdb.check import CheckResult as CheckResult  # re-exported: smdb.client.CheckResult stays public
from smdb.errors import ConfigurationError, SmdbFault, SmdbOutcomeUnknown, ValidationFailed
from smdb.forms import FORMS, Form, id_element, spec_of
from smdb.models import (
    Afslutning,
    Anmodning,
    Indskrivning,
    Indskrivningsforloeb,
    Ivaerksaettelse,
    Kontaktforloeb,
    KvalHep,
    SmdbModel,
    Tilbudstilknytning,
    Udskrivning,
    Ydelse,
)
from smdb.register import Hentet, aendringens_brud, saml_forloeb, ukendte_henvisninger
from smdb.rules import validate
from smdb.soap import mapping
from smdb.soap.answers import ANSWER_SKEW
from smdb.soap.caller import DEFAULT_DEADLINE, MAX_RESPONSE_BYTES, SoapCaller
from smdb.soap.caller import UnverifiedAnswersWarning as UnverifiedAnswersWarning  # re-exported
from smdb.soap.mapping import IndsaetResultat

#: The lookup lists of §1.2 ("som bruges som opslag").
OPSLAG = ("HentAlleTilbud", "HentLandeliste", "HentYdelsespakker", "HentAsiForMyndighed", "HentAsiForTilbud")


class Environment(Enum):
    """DST's two environments (§1.2). ``LOCAL`` is not one of them: pass ``base_url`` for the simulator."""

    PROD = "https://smdbws.dst.dk"
    PREPROD = "https://smdbpreprodws.dst.dk"


if TYPE_CHECKING:
    from smdb.settings import SmdbSettings


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
    :param require_signature_confirmation: refuse a signed answer without a WS-Security 1.1 SignatureConfirmation
        of its request's signature (set it when DST's service sends them: then no answer can stand in for another,
        in either mode; docs/security.md, "What binds an answer").
    :param answer_skew: how far a signed answer's Created may lie before its request was signed (clock difference);
        an older one is a replay.
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
        require_signature_confirmation: bool = False,
        answer_skew: timedelta = ANSWER_SKEW,
    ) -> None:
        self.today = today
        self.soap = SoapCaller(
            base_url or environment.value,
            prod=environment is Environment.PROD and base_url is None,
            credentials=credentials,
            api_version=api_version,
            wsdl_dir=wsdl_dir,
            wsdl_url=wsdl_url,
            server_certificates=server_certificates,
            strict=strict,
            allow_unsigned_answers=allow_unsigned_answers,
            timeout=timeout,
            deadline=deadline,
            max_message_lifetime=max_message_lifetime,
            allow_insecure_http=allow_insecure_http,
            retries=retries,
            backoff=backoff,
            verify=verify,
            tls_client_cert=tls_client_cert,
            clock=clock,
            sleep=sleep,
            session=session,
            max_response_bytes=max_response_bytes,
            auth=auth,
            sts=sts,
            require_signature_confirmation=require_signature_confirmation,
            answer_skew=answer_skew,
        )
        # the SOAP layer's settings, readable where callers and the support check expect them
        self.base_url, self.api_version, self.credentials = self.soap.base_url, self.soap.api_version, credentials
        self.session, self.transport, self.sts_provider = self.soap.session, self.soap.transport, self.soap.sts_provider
        self.auth, self.deadline, self.retries = self.soap.auth, self.soap.deadline, self.soap.retries
        self._opslag: tuple[frozenset[int], frozenset[str]] | None = None
        self._opslag_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: SmdbSettings, **overrides: Any) -> SmdbClient:
        """A client for :class:`smdb.settings.SmdbSettings` (``overrides`` go to the constructor as they are)."""
        return settings.client(**overrides)

    @classmethod
    def from_env(cls, config_file: str | Path | None = None, **overrides: Any) -> SmdbClient:
        """A client configured as the ``smdb`` command is: ``SMDB_*`` variables over the ``[smdb]`` table of
        ``config_file`` (default ``$SMDB_CONFIG``); a wrong or missing setting raises ConfigurationError."""
        from smdb.settings import SmdbSettings

        return SmdbSettings.load(config_file).client(**overrides)

    def endpoint(self, service: str) -> str:
        """The URL of ``service`` (HentData, IndsaetData, TokenTest) for this client's environment and version."""
        return self.soap.endpoint(service)

    def call(self, operation: str, **kwargs: Any) -> Any:
        """Call any operation of the contract with payload dicts; returns plain dicts/lists/values.

        :raises SmdbUnavailable: SMDB could not be reached or answered with an error page (retried first).
        :raises AnswerNotVerified: the answer was not signed by DST's configured certificate, or is not the
            answer to this request (another request's, replayed).
        :raises SmdbFault: SMDB refused the request (its code and rule on the exception).
        :raises SmdbOutcomeUnknown: (a write) sent, but its outcome is unknown: reconcile before sending again.
        """
        return self.soap.call(operation, **kwargs)

    def unbound_answers(self) -> int:
        """Verified answers this thread accepted as fresh but not bound to their request (no RelatesTo or
        SignatureConfirmation): such answers must not decide to send a write of unknown outcome again."""
        return self.soap.unbound_answers()

    def call_counts(self) -> dict[str, int]:
        """SOAP calls this client has made, by operation (retries included)."""
        return self.soap.call_counts()

    # ------------------------------------------------------------------ generic, driven by the per-form table
    def hent(self, form: Form, **criteria: Any) -> list[Hentet[Any]]:
        """Records of ``form`` matching ``criteria`` (cpr, kommunekode, anmodning_id, ivaerksaettelse_id,
        indskrivning_id), each with the ids it refers to; a malformed CPR is refused before anything is sent.

        :raises SmdbUnavailable: SMDB could not be reached or answered with an error page (retried first).
        :raises AnswerNotVerified: the answer was not signed by DST's configured certificate, or is not the
            answer to this request (another request's, replayed).
        :raises SmdbFault: SMDB refused the request (its code and rule on the exception).
        """
        spec = FORMS[form]
        if spec.hent is None:
            raise ConfigurationError(f"{form} hentes med sin overordnede ({spec.parent}), ikke for sig")
        return [mapping.hentet(spec.model, item) for item in self.soap.hent_items(spec.hent, **criteria)]

    def indsaet(self, record: SmdbModel, parent_id: int | None = None) -> IndsaetResultat:
        """Store ``record`` (insert, or update when it carries its SMDB id) under the record ``parent_id`` names.

        Sent as given: the typed methods below validate against what SMDB holds first. An iværksættelse travels
        with its anmodning (:meth:`indsaet_ivaerksaettelse`), since §1.2 lists no separate action for it.

        :raises ValidationFailed: (with ``validate_first``) the change breaks a rule; nothing was sent.
        :raises SmdbOutcomeUnknown: the write was sent but its outcome is unknown (no answer, a cut-off or
            unverifiable answer, a security fault): reconcile with Hent* (``Reporter`` does) before sending again.
        :raises SmdbRuleRejected: SMDB refused the write by a business rule.
        :raises SmdbUnavailable: SMDB could not be reached; nothing was sent.
        """
        spec = spec_of(record)
        if spec.form is Form.IVAER:
            raise ConfigurationError("en iværksættelse sendes med sin anmodning: brug indsaet_ivaerksaettelse")
        refs = {}
        if spec.parent_id_element is not None:
            if parent_id is None:
                raise ConfigurationError(f"{spec.form} kræver parent_id ({spec.parent_id_element})")
            refs[spec.parent_id_element] = parent_id
        payload = {spec.wire_name: mapping.to_wire(record, **refs)}
        result = mapping.indsaet_resultat(self.call(spec.indsaet, **payload))
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
        from smdb.check import check

        return check(self)

    # ------------------------------------------------------------------ HentData (typed aliases)
    def hent_anmodninger(
        self, cpr: str | None = None, kommunekode: int | None = None, anmodning_id: int | None = None
    ) -> list[Hentet[Anmodning]]:
        """HentAnmodninger (with their afslutning) by CPR, municipality or AnmodningId."""
        return self.hent(Form.ANM, cpr=cpr, kommunekode=kommunekode, anmodning_id=anmodning_id)

    def hent_ivaerksaettelser(
        self, cpr: str | None = None, anmodning_id: int | None = None, ivaerksaettelse_id: int | None = None
    ) -> list[Hentet[Ivaerksaettelse]]:
        """HentIvaerksaettelser by CPR, AnmodningId or IvaerksaettelseId."""
        return self.hent(Form.IVAER, cpr=cpr, anmodning_id=anmodning_id, ivaerksaettelse_id=ivaerksaettelse_id)

    def hent_tilbudstilknytninger(
        self, cpr: str | None = None, ivaerksaettelse_id: int | None = None
    ) -> list[Hentet[Tilbudstilknytning]]:
        """HentTilbudstilknytninger by CPR or IvaerksaettelseId."""
        return self.hent(Form.TILB, cpr=cpr, ivaerksaettelse_id=ivaerksaettelse_id)

    def hent_kvalhep(self, cpr: str | None = None, ivaerksaettelse_id: int | None = None) -> list[Hentet[KvalHep]]:
        """HentKvalHep by CPR or IvaerksaettelseId."""
        return self.hent(Form.KVALHEP, cpr=cpr, ivaerksaettelse_id=ivaerksaettelse_id)

    def hent_indskrivninger(
        self, cpr: str | None = None, kommunekode: int | None = None, indskrivning_id: int | None = None
    ) -> list[Hentet[Indskrivning]]:
        """Indskrivninger (with their udskrivning, if any); ``kommunekode`` is the paying municipality (19-INDS)."""
        return self.hent(Form.INDS, cpr=cpr, kommunekode=kommunekode, indskrivning_id=indskrivning_id)

    def hent_ydelser(self, cpr: str | None = None, indskrivning_id: int | None = None) -> list[Hentet[Ydelse]]:
        """HentYdelser by CPR or IndskrivningId."""
        return self.hent(Form.YDEL, cpr=cpr, indskrivning_id=indskrivning_id)

    def hent_opslag(self, operation: str, **criteria: Any) -> list[dict[str, Any]]:
        """Lookup lists: HentAlleTilbud, HentLandeliste, HentYdelsespakker, HentAsiForMyndighed/-Tilbud."""
        if operation not in OPSLAG:
            raise ValueError(f"{operation} er ikke en opslagsliste")
        return self.soap.hent_items(operation, **criteria)

    def hent_alle_tilbud(self, kommunekode: int | None = None) -> list[dict[str, Any]]:
        """HentAlleTilbud: SMDB's tilbud register (of one municipality when given)."""
        return self.hent_opslag("HentAlleTilbud", kommunekode=kommunekode)

    def hent_landeliste(self) -> list[dict[str, Any]]:
        """HentLandeliste: the country codes 10-IVÆR may take."""
        return self.hent_opslag("HentLandeliste")

    def opslag(self) -> tuple[frozenset[int], frozenset[str]]:
        """The TilbudIds of HentAlleTilbud and the LandeKoder of HentLandeliste, fetched once per client (a run)."""
        with self._opslag_lock:
            if self._opslag is None:
                tilbud = frozenset(int(t["TilbudId"]) for t in self.hent_alle_tilbud())
                lande = frozenset(str(land["LandeKode"]) for land in self.hent_landeliste())
                self._opslag = (tilbud, lande)
            return self._opslag

    def kontroller_henvisninger(self, records: list[SmdbModel]) -> None:
        """Raise ValidationFailed for a TilbudId or landekode that SMDB's lookup lists do not hold (nothing sent)."""
        nye = ukendte_henvisninger(records, *self.opslag()) if records else []
        if nye:
            raise ValidationFailed(nye)

    def hent_forloeb(self, cpr: str, kommunekode: int | None = None) -> list[Kontaktforloeb]:
        """Every stored course of a citizen (in the municipality), assembled from the four Hent* calls.

        :raises SmdbUnavailable: SMDB could not be reached or answered with an error page (retried first).
        :raises AnswerNotVerified: the answer was not signed by DST's configured certificate, or is not the
            answer to this request (another request's, replayed).
        :raises SmdbFault: SMDB refused the request (its code and rule on the exception).
        """
        anm = self.hent_anmodninger(cpr=cpr, kommunekode=kommunekode)
        if not anm:
            return []
        ivs, tilb = self.hent_ivaerksaettelser(cpr=cpr), self.hent_tilbudstilknytninger(cpr=cpr)
        return saml_forloeb(anm, ivs, tilb, self.hent_kvalhep(cpr=cpr), kommunekode)

    def hent_kommunens_forloeb(self, kommunekode: int) -> dict[str, list[Kontaktforloeb]]:
        """Every stored course of the municipality by CPR, from four Hent* calls by KommuneKode (instead of four per
        citizen), assembled exactly as :meth:`hent_forloeb` assembles one citizen's (joined by ids only)."""
        ivs, tilb, kval = (self.hent(form, kommunekode=kommunekode) for form in (Form.IVAER, Form.TILB, Form.KVALHEP))
        anm = self.hent(Form.ANM, kommunekode=kommunekode)
        by_cpr: dict[str, list[Kontaktforloeb]] = {}
        for course in saml_forloeb(anm, ivs, tilb, kval, kommunekode):
            by_cpr.setdefault(str(course.cpr), []).append(course)
        return by_cpr

    def _forloeb_med(self, form: Form, record_id: int) -> tuple[Kontaktforloeb, list[Kontaktforloeb]]:
        """The stored course a record id belongs to, and all of the citizen's courses."""
        anmodning_id: int | None = record_id
        if form is Form.IVAER:
            found_iv = self.hent_ivaerksaettelser(ivaerksaettelse_id=record_id)
            anmodning_id = found_iv[0].anmodning_id if found_iv else None
        found = self.hent_anmodninger(anmodning_id=anmodning_id) if anmodning_id is not None else []
        if found:
            alle = self.hent_forloeb(found[0].record.cpr, found[0].record.kommunekode)
            for f in alle:
                if f.anmodning.smdb_id == anmodning_id:
                    return f, alle
        raise SmdbFault("REFERENCE", f"{FORMS[form].id_element} {record_id} findes ikke i SMDB")

    def _kontroller(self, nyt: Kontaktforloeb, foer: Kontaktforloeb | None, alle: list[Kontaktforloeb]) -> None:
        """Raise ValidationFailed for every violation the change introduces (old data is not the caller's fault)."""
        nye = aendringens_brud(nyt, foer, alle, self.today())
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

        :raises ValidationFailed: (with ``validate_first``) the change breaks a rule; nothing was sent.
        :raises SmdbOutcomeUnknown: the write was sent but its outcome is unknown (no answer, a cut-off or
            unverifiable answer, a security fault): reconcile with Hent* (``Reporter`` does) before sending again.
        :raises SmdbRuleRejected: SMDB refused the write by a business rule.
        :raises SmdbUnavailable: SMDB could not be reached; nothing was sent.
        """
        anm = forloeb.anmodning.model_copy(update={"kommunekode": forloeb.kommunekode})
        if validate_first:
            alle = state if state is not None else self.hent_forloeb(anm.cpr, forloeb.kommunekode)
            foer = next((f for f in alle if anm.smdb_id and f.anmodning.smdb_id == anm.smdb_id), None)
            nyt = forloeb.model_copy(update={"anmodning": anm})
            if foer is not None:
                nyt = foer.model_copy(update={"anmodning": anm})
                if forloeb.ivaerksaettelse is not None:
                    nyt = nyt.med_skema(forloeb.ivaerksaettelse)
            self._kontroller(nyt, foer, alle)
            self.kontroller_henvisninger([forloeb.ivaerksaettelse] if forloeb.ivaerksaettelse else [])
        payload: dict[str, Any] = {FORMS[Form.ANM].wire_name: mapping.to_wire(anm)}
        if forloeb.ivaerksaettelse is not None:
            iv = forloeb.with_derived().ivaerksaettelse or forloeb.ivaerksaettelse
            payload[FORMS[Form.IVAER].wire_name] = mapping.to_wire(iv)
        result = mapping.indsaet_resultat(self.call(FORMS[Form.ANM].indsaet, **payload))
        iv_id = forloeb.ivaerksaettelse.smdb_id if forloeb.ivaerksaettelse is not None else None
        refs = {id_element(Form.ANM): anm.smdb_id, id_element(Form.IVAER): iv_id}
        return _named(FORMS[Form.ANM].indsaet, result, mapping.names_the_write(result, None, refs))

    def _indsaet_i_forloeb(
        self,
        record: SmdbModel,
        parent: Form,
        parent_id: int,
        merged: Callable[[Kontaktforloeb], Kontaktforloeb],
        validate_first: bool,
    ) -> IndsaetResultat:
        if validate_first:
            foer, alle = self._forloeb_med(parent, parent_id)
            self._kontroller(merged(foer), foer, alle)
            self.kontroller_henvisninger([record])
        return self.indsaet(record, parent_id)

    def indsaet_tilbudstilknytning(
        self, tilknytning: Tilbudstilknytning, ivaerksaettelse_id: int, *, validate_first: bool = True
    ) -> IndsaetResultat:
        """Attach (or update, when it carries its TilbudstilknytningId) an offer to the iværksættelse."""
        merged = lambda f: f.med_tilbud(tilknytning)  # noqa: E731 - the change, applied to the stored course
        return self._indsaet_i_forloeb(tilknytning, Form.IVAER, ivaerksaettelse_id, merged, validate_first)

    def indsaet_kvalhep(
        self, kvalhep: KvalHep, ivaerksaettelse_id: int, *, validate_first: bool = True
    ) -> IndsaetResultat:
        """IndsaetKvalHep under the iværksættelse ``ivaerksaettelse_id`` (insert, or update with its id)."""
        merged = lambda f: f.med_skema(kvalhep)  # noqa: E731
        return self._indsaet_i_forloeb(kvalhep, Form.IVAER, ivaerksaettelse_id, merged, validate_first)

    def afslut_behandling(
        self, afslutning: Afslutning, anmodning_id: int, *, validate_first: bool = True
    ) -> IndsaetResultat:
        """AfslutBehandling: the course's afslutning under ``anmodning_id``."""
        merged = lambda f: f.med_skema(afslutning)  # noqa: E731
        return self._indsaet_i_forloeb(afslutning, Form.ANM, anmodning_id, merged, validate_first)

    # ------------------------------------------------------------------ IndsaetData (tilbud, legacy)
    def _kontroller_indskrivning(self, forloeb: Indskrivningsforloeb, validate_first: bool) -> None:
        violations = validate(forloeb, self.today()) if validate_first else []
        if violations:
            raise ValidationFailed(violations)

    def indsaet_indskrivning(self, indskrivning: Indskrivning, *, validate_first: bool = True) -> IndsaetResultat:
        """IndsaetIndskrivning (INDS; refused by SMDB for dates from 2025-01-01, §3.2)."""
        self._kontroller_indskrivning(Indskrivningsforloeb(indskrivning=indskrivning), validate_first)
        return self.indsaet(indskrivning)

    def indsaet_ydelse(
        self, ydelse: Ydelse, indskrivning: Hentet[Indskrivning], *, validate_first: bool = True
    ) -> IndsaetResultat:
        """IndsaetYdelse under a fetched indskrivning (YDEL; closed from 2025, §3.2)."""
        forloeb = Indskrivningsforloeb(indskrivning=indskrivning.record, ydelser=[ydelse])
        self._kontroller_indskrivning(forloeb, validate_first)
        return self.indsaet(ydelse, indskrivning.record.smdb_id)

    def afslut_indskrivning(
        self,
        udskrivning: Udskrivning,
        indskrivning: Hentet[Indskrivning],
        ydelser: list[Ydelse],
        *,
        validate_first: bool = True,
    ) -> IndsaetResultat:
        """AfslutIndskrivning: the udskrivning of a fetched indskrivning (UDSK; closed from 2025, §3.2)."""
        forloeb = Indskrivningsforloeb(indskrivning=indskrivning.record, ydelser=ydelser, udskrivning=udskrivning)
        self._kontroller_indskrivning(forloeb, validate_first)
        return self.indsaet(udskrivning, indskrivning.record.smdb_id)

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
