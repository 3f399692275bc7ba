"""Deterministic, seedable fault injection for the simulator: the network and the server misbehaving.

A :class:`FaultPlan` decides per SOAP call (in call order, from its own seeded RNG) whether to inject a fault
and which. Faults *before* processing leave the register untouched; faults *after* processing happen once the
write is committed, which is the hard case for a client: the report is stored but no answer arrives.

    app.fault_plan = FaultPlan(rate=0.1, seed=42)
"""

from __future__ import annotations

import random
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from smdb.soap.contract import Operation

Responder = Callable[[Callable[..., Any]], Iterable[bytes]]

#: Faults before the request is processed (nothing is stored).
BEFORE = ("reset_before", "http_503_html", "http_500_empty", "http_503_soap_fault", "non_xml", "proxy_html")
#: Faults after a write is committed (the report is stored, the answer is lost or late).
AFTER = ("reset_after", "truncated_after", "slow_after")
ALL = BEFORE + AFTER

SOAP_FAULT_503 = (
    b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault>'
    b"<faultcode>s:Server</faultcode><faultstring>Service Unavailable</faultstring>"
    b'<detail><SmdbFejl xmlns="http://smdb.dst.dk/api/external/v1"><FejlKode>INTERN</FejlKode>'
    b"<Besked>Tjenesten er midlertidigt utilg&#230;ngelig</Besked></SmdbFejl></detail></s:Fault></s:Body></s:Envelope>"
)
PROXY_PAGE = b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>"


class ConnectionAborted(Exception):
    """Raised by a responder after it has reset the client's connection; the server handler drops it."""


def _reset(environ_socket: socket.socket | None) -> Iterable[bytes]:
    """Close with SO_LINGER 0: the client sees a TCP reset, not a clean end of stream."""
    if environ_socket is not None:
        try:
            environ_socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            environ_socket.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    raise ConnectionAborted


class FaultPlan:
    """Inject faults at ``rate`` (0..1) into calls, chosen from ``kinds``; ``writes_only`` spares Hent*/TokenTest."""

    def __init__(
        self,
        rate: float = 0.1,
        seed: int = 0,
        kinds: Sequence[str] = ALL,
        writes_only: bool = False,
        slow_seconds: float = 0.5,
    ) -> None:
        unknown = set(kinds) - set(ALL)
        if unknown:
            raise ValueError(f"unknown fault kinds: {sorted(unknown)}")
        self.rate = rate
        self.kinds = tuple(kinds)
        self.writes_only = writes_only
        self.slow_seconds = slow_seconds
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self.injected: Counter[str] = Counter()
        #: The socket of the request being handled, set by the server per request (for resets).
        self.local = threading.local()

    def _pick(self, op: Operation, candidates: Sequence[str]) -> str | None:
        if self.writes_only and not op.writes:
            return None
        with self._lock:
            if self._rng.random() >= self.rate:
                return None
            kind = self._rng.choice(self.kinds)
        if kind not in candidates:
            return None
        if kind in AFTER and not op.writes:
            return None
        self.injected[kind] += 1
        return kind

    def decide(self, op: Operation) -> str | None:
        """One decision per call; faults of the 'after' kind are remembered for :meth:`after`."""
        kind = self._pick(op, ALL)
        self.local.pending_after = kind if kind in AFTER else None
        return kind if kind in BEFORE else None

    def _resetter(self, start_response: Callable[..., Any]) -> Iterable[bytes]:
        return _reset(getattr(self.local, "socket", None))

    def before(self, op: Operation) -> Responder | None:
        kind = self.decide(op)
        if kind is None:
            return None
        if kind == "reset_before":
            return self._resetter
        status, ctype, body = {
            "http_503_html": ("503 Service Unavailable", "text/html", b"<html><body>Service Unavailable</body></html>"),
            "http_500_empty": ("500 Internal Server Error", "text/xml", b""),
            "http_503_soap_fault": ("503 Service Unavailable", "text/xml; charset=utf-8", SOAP_FAULT_503),
            "non_xml": ("200 OK", "text/xml", b"\x00\x01 not xml at all"),
            "proxy_html": ("502 Bad Gateway", "text/html", PROXY_PAGE),
        }[kind]
        return _fixed(status, ctype, body)

    def after(self, op: Operation, payload: bytes) -> Responder | None:
        kind = getattr(self.local, "pending_after", None)
        self.local.pending_after = None
        if kind is None:
            return None
        if kind == "reset_after":
            return self._resetter
        if kind == "truncated_after":
            return _fixed("200 OK", "text/xml; charset=utf-8", payload[: len(payload) // 2])
        seconds = self.slow_seconds

        def slow(start_response: Callable[..., Any]) -> Iterable[bytes]:
            time.sleep(seconds)
            return _fixed("200 OK", "text/xml; charset=utf-8", payload)(start_response)

        return slow


def _fixed(status: str, ctype: str, body: bytes) -> Responder:
    def respond(start_response: Callable[..., Any]) -> Iterable[bytes]:
        start_response(status, [("Content-Type", ctype), ("Content-Length", str(len(body)))])
        return [body]

    return respond
