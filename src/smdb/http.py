"""HTTP with bounds: every answer is read within a deadline and a size cap, whatever the server does.

requests' read timeout applies to each socket read, so an answer that drips one byte every few seconds never
times out; and a size check on ``Content-Length`` misses a chunked answer that never ends. So answers are
streamed: reading stops at the cap (memory stays within a few times the cap), and a watchdog shuts the socket
down when the overall deadline passes, which ends a blocked read at once. Used by the SOAP transport and the STS
client alike, so both are bounded the same way.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
import time
from urllib.parse import urlsplit

import requests

from smdb.errors import ConfigurationError

CHUNK = 64 * 1024


class ResponseTooLarge(requests.exceptions.RequestException):
    """The answer is larger than the client accepts (announced, or counted while reading)."""


class DeadlineExceeded(requests.exceptions.ReadTimeout):
    """The whole call took longer than its deadline (a slow drip, or a server that stalls)."""


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
    bounds = {"stream": True, "timeout": (min(connect, remaining), min(read, remaining))}
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

    watchdog = threading.Timer(max(0.0, deadline - time.monotonic()), abort)
    watchdog.daemon = True
    try:
        length = response.headers.get("Content-Length")
        if length is not None and length.strip().isdigit() and int(length) > max_bytes:
            raise ResponseTooLarge(f"svaret er {int(length)} bytes; grænsen er {max_bytes}")
        watchdog.start()
        body = bytearray()
        try:
            for chunk in response.iter_content(CHUNK):
                body += chunk
                if len(body) > max_bytes:
                    raise ResponseTooLarge(f"svaret er over grænsen på {max_bytes} bytes")
                if expired.is_set() or time.monotonic() > deadline:
                    raise DeadlineExceeded("svaret kom ikke færdigt inden for tidsfristen")
        except requests.exceptions.RequestException:
            if expired.is_set():
                raise DeadlineExceeded("svaret kom ikke færdigt inden for tidsfristen") from None
            raise
        except Exception:
            if expired.is_set():  # the shut-down socket surfaces as whatever urllib3 makes of it
                raise DeadlineExceeded("svaret kom ikke færdigt inden for tidsfristen") from None
            raise
        response._content = bytes(body)
        response._content_consumed = True  # type: ignore[attr-defined]
    except BaseException:
        response.close()
        raise
    finally:
        watchdog.cancel()
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
