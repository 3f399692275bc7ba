"""HTTP with bounds: every answer is read within a deadline and a size cap, whatever the server does.

requests' read timeout applies to each socket read, so an answer that drips one byte every few seconds never
times out; and a size check on ``Content-Length`` misses a chunked answer that never ends. So answers are
streamed: reading stops at the cap (memory stays within a few times the cap), and a watchdog shuts the socket
down when the overall deadline passes, which ends a blocked read at once. Used by the SOAP transport and the STS
client alike, so both are bounded the same way.
"""

from __future__ import annotations

import contextlib
import heapq
import ipaddress
import itertools
import socket
import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import requests

from smdb.errors import ConfigurationError

CHUNK = 64 * 1024


class ResponseTooLarge(requests.exceptions.RequestException):
    """The answer is larger than the client accepts (announced, or counted while reading)."""


class DeadlineExceeded(requests.exceptions.ReadTimeout):
    """The whole call took longer than its deadline (a slow drip, or a server that stalls)."""


class RedirectRefused(requests.exceptions.RequestException):
    """The server answered with a redirect. Never followed: the signed request (with CPR numbers) would go to a
    host nobody configured, perhaps in clear text; the target is named so the configuration can be fixed."""


class _Watchdog:
    """One daemon thread for all calls: at each registered deadline it runs the registered action (shutting a
    socket down). A thread per call (``threading.Timer``) cost more than the rest of the HTTP layer together."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int]] = []
        self._active: dict[int, tuple[float, Callable[[], None]]] = {}
        self._next = itertools.count()
        self._thread: threading.Thread | None = None

    def schedule(self, deadline: float, action: Callable[[], None]) -> int:
        with self._cond:
            handle = next(self._next)
            self._active[handle] = (deadline, action)
            heapq.heappush(self._heap, (deadline, handle))
            if len(self._heap) > 2 * len(self._active) + 64:  # drop the entries of calls that ended in time
                self._heap = [(d, h) for h, (d, _) in self._active.items()]
                heapq.heapify(self._heap)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="smdb-watchdog", daemon=True)
                self._thread.start()
            self._cond.notify()
            return handle

    def cancel(self, handle: int) -> None:
        with self._cond:
            self._active.pop(handle, None)

    def _run(self) -> None:
        while True:
            with self._cond:
                while True:
                    while self._heap and self._heap[0][1] not in self._active:
                        heapq.heappop(self._heap)
                    now = time.monotonic()
                    if self._heap and self._heap[0][0] <= now:
                        _, handle = heapq.heappop(self._heap)
                        _, action = self._active.pop(handle)
                        break
                    self._cond.wait(timeout=(self._heap[0][0] - now) if self._heap else 60.0)
            with contextlib.suppress(Exception):
                action()


#: The one watchdog thread of the process (the simulator bounds its requests with it too).
WATCHDOG = _WATCHDOG = _Watchdog()


def _sock(response: requests.Response) -> socket.socket | None:
    """The socket under a streamed response, where urllib3 exposes it (not for test doubles)."""
    conn = getattr(response.raw, "_connection", None)
    sock = getattr(conn, "sock", None)
    return sock if isinstance(sock, socket.socket) else None


def bounded_post(
    session: requests.Session,
    url: str,
    *,
    data: bytes | str,
    headers: dict[str, str],
    timeout: tuple[float, float],
    deadline: float,
    max_bytes: int,
) -> requests.Response:
    """POST ``data``: :func:`bounded_request`."""
    return bounded_request(
        session, "POST", url, data=data, headers=headers, timeout=timeout, deadline=deadline, max_bytes=max_bytes
    )


def bounded_request(
    session: requests.Session,
    method: str,
    url: str,
    *,
    data: bytes | str | None = None,
    headers: dict[str, str] | None = None,
    timeout: tuple[float, float],
    deadline: float,
    max_bytes: int,
) -> requests.Response:
    """Send and read the whole answer, or raise: :class:`ResponseTooLarge` past ``max_bytes``,
    :class:`DeadlineExceeded` past ``deadline`` (a ``time.monotonic()`` instant), requests' own errors otherwise.

    The returned response has its body read (``response.content`` works as usual) and its connection released.
    """
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise DeadlineExceeded("tidsfristen for kaldet er overskredet")
    connect, read = timeout
    bounds = {"stream": True, "timeout": (min(connect, remaining), min(read, remaining)), "allow_redirects": False}
    if method == "POST":  # through session.post, which test doubles and recording benchmarks replace
        response = session.post(url, data=data, headers=headers, **bounds)  # type: ignore[arg-type]
    else:
        response = session.request(method, url, data=data, headers=headers, **bounds)  # type: ignore[arg-type]
    expired = threading.Event()

    def abort() -> None:
        expired.set()
        sock = _sock(response)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    watch: int | None = None
    try:
        if response.is_redirect:
            target = str(response.headers.get("Location", "?"))[:200]
            raise RedirectRefused(
                f"{url} svarede med en omdirigering (HTTP {response.status_code}) til {target}; omdirigeringer følges "
                "ikke: ret adressen i konfigurationen"
            )
        length = response.headers.get("Content-Length")
        if length is not None and length.strip().isdigit() and int(length) > max_bytes:
            raise ResponseTooLarge(f"svaret er {int(length)} bytes; grænsen er {max_bytes}")
        if not getattr(response, "_content_consumed", False):  # a body still to be read from the network
            watch = _WATCHDOG.schedule(deadline, abort)
        body = bytearray()
        try:
            for chunk in response.iter_content(CHUNK):
                body += chunk
                if len(body) > max_bytes:
                    raise ResponseTooLarge(f"svaret er over grænsen på {max_bytes} bytes")
                if expired.is_set() or time.monotonic() > deadline:
                    raise DeadlineExceeded("svaret kom ikke færdigt inden for tidsfristen")
        except Exception:
            if expired.is_set():  # the shut-down socket surfaces as whatever requests or urllib3 make of it
                raise DeadlineExceeded("svaret kom ikke færdigt inden for tidsfristen") from None
            raise
        response._content = bytes(body)
        response._content_consumed = True  # type: ignore[attr-defined]
    except BaseException:
        response.close()
        raise
    finally:
        if watch is not None:
            _WATCHDOG.cancel(watch)
    return response


def is_loopback(host: str) -> bool:
    """``localhost`` or a loopback address (127.0.0.0/8, ::1)."""
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def require_https(url: str, what: str, allow_insecure_http: bool = False) -> None:
    """Refuse a URL that would send CPR numbers and signed requests in clear text to another machine.

    Plain ``http://`` is accepted for this machine only (the simulator), or when explicitly allowed.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(f"{what} skal være en http(s)-adresse med værtsnavn (fik {url!r})")
    if parts.scheme == "http" and not allow_insecure_http and not is_loopback(parts.hostname):
        raise ConfigurationError(
            f"{what} bruger ukrypteret http:// til {parts.hostname}; brug https:// "
            "(eller tillad det udtrykkeligt med allow_insecure_http / --allow-insecure-http)"
        )
