"""An answer counts only when it is bound to its request: a verified signature says DST wrote it, not that DST
wrote it *for this request*.

A man in the middle who cannot sign as DST can still drop, replay and rearrange messages DST did sign: hand back
the answer about another citizen, an answer from before a write, or DST's fault to a replayed copy of a write. What
ties an answer to the request it claims to answer, strongest first (docs/security.md, "What binds an answer"):

- **RelatesTo** (WS-Addressing, signed; OIO-IDWS service calls in STS mode): it must name this request's MessageID.
- **SignatureConfirmation** (WS-Security 1.1, signed): it must echo this request's SignatureValue; required when
  ``require_signature_confirmation`` is set, checked whenever it is present.
- **Freshness**, in every mode: the answer's signed ``wsu:Created`` may not predate the request by more than
  ``answer_skew``, and each signed answer is accepted once.

:class:`RequestRecord` is what the outgoing request looked like (noted after signing); :class:`AnswerBinder` checks
an incoming, already verified envelope against it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from lxml import etree

from smdb.auth.replay import ReplayCache
from smdb.auth.wsse import (
    CLOCK_SKEW,
    WSA_NS,
    WSSE11_NS,
    message_times,
    security_header,
    signature_value,
    soap_ns,
)
from smdb.errors import AnswerNotVerified, SecurityError

#: How far an answer's signed Created may lie before the moment its request was signed (the two clocks' difference
#: and DST's rounding). Small by design: within it, a genuine answer from just before the request could be replayed
#: as this request's answer where nothing else binds it (certificate mode without SignatureConfirmation).
ANSWER_SKEW = timedelta(seconds=10)


@dataclass(frozen=True)
class RequestRecord:
    """The request an answer must belong to: its MessageID (STS mode), SignatureValue and signing time."""

    message_id: str | None
    signature_value: str | None
    signed_at: datetime

    @classmethod
    def of(cls, envelope: etree._Element, now: datetime) -> RequestRecord:
        message_id = envelope.findtext(f"{{{soap_ns(envelope)}}}Header/{{{WSA_NS}}}MessageID")
        return cls(message_id.strip() if message_id else None, signature_value(envelope), now)


class AnswerBinder:
    """Checks that a verified answer (or fault) belongs to the request it answers; thread-safe."""

    def __init__(
        self,
        *,
        require_relates_to: bool,
        require_signature_confirmation: bool = False,
        skew: timedelta = ANSWER_SKEW,
    ) -> None:
        self.require_relates_to = require_relates_to
        self.require_signature_confirmation = require_signature_confirmation
        self.skew = skew
        self._accepted = ReplayCache()

    def check(
        self, envelope: etree._Element, covered: list[etree._Element], request: RequestRecord | None, now: datetime
    ) -> bool:
        """Raise :class:`AnswerNotVerified` unless ``envelope`` answers ``request``. Returns whether it is *bound*
        (RelatesTo or SignatureConfirmation matched) rather than only fresh."""
        fault = _is_fault(envelope)
        what = "fejlen" if fault else "svaret"

        def refuse(why: str) -> AnswerNotVerified:
            return AnswerNotVerified(f"{what} fra SMDB hører ikke til denne forespørgsel: {why}", fault)

        if request is None:  # pragma: no cover - the egress hook always notes the request
            raise refuse("forespørgslen er ukendt")
        bound = False
        relates_to = _header(envelope, f"{{{WSA_NS}}}RelatesTo")
        if relates_to is not None or (self.require_relates_to and request.message_id):
            if relates_to is None:
                raise refuse("wsa:RelatesTo mangler")
            if not any(el is relates_to for el in covered):
                raise refuse("wsa:RelatesTo er ikke signeret")
            if request.message_id is None or (relates_to.text or "").strip() != request.message_id:
                raise refuse("wsa:RelatesTo nævner en anden forespørgsel")
            bound = True
        sec = security_header(envelope)
        confirmations = [] if sec is None else sec.findall(f"{{{WSSE11_NS}}}SignatureConfirmation")
        if confirmations or self.require_signature_confirmation:
            if len(confirmations) != 1:
                raise refuse(f"der skal være én SignatureConfirmation (fik {len(confirmations)})")
            confirmation = confirmations[0]
            if not any(el is confirmation for el in covered):
                raise refuse("SignatureConfirmation er ikke signeret")
            echoed = "".join((confirmation.get("Value") or "").split())
            if not request.signature_value or echoed != request.signature_value:
                raise refuse("SignatureConfirmation bekræfter en anden forespørgsels signatur")
            bound = True
        try:
            created, expires = message_times(envelope)
        except SecurityError as exc:  # pragma: no cover - verification checked the Timestamp already
            raise refuse(str(exc)) from None
        if created < request.signed_at - self.skew:
            raise refuse(
                f"det er dannet {(request.signed_at - created).total_seconds():.0f} s før forespørgslen "
                f"(højst {self.skew.total_seconds():.0f} s tilladt: answer_skew); et gammelt svar er genafspillet, "
                "eller urene går forkert (NTP)"
            )
        value = signature_value(envelope)
        if value is None or not self._accepted.check_and_add(value, expires + CLOCK_SKEW, now):
            raise refuse("det samme signerede svar er modtaget før (genafspillet)")
        return bound


def _header(envelope: etree._Element, tag: str) -> etree._Element | None:
    found = envelope.findall(f"{{{soap_ns(envelope)}}}Header/{tag}")
    if len(found) > 1:
        raise AnswerNotVerified(f"svaret har {len(found)} {etree.QName(tag).localname}-headere", _is_fault(envelope))
    return found[0] if found else None


def _is_fault(envelope: etree._Element) -> bool:
    soap = soap_ns(envelope)
    return envelope.find(f"{{{soap}}}Body/{{{soap}}}Fault") is not None
