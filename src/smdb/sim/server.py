"""Run the simulator on a loopback port in a background thread (tests, ``smdb demo``) or in the foreground."""

from __future__ import annotations

import collections
import contextlib
import io
import logging
import socket
import threading
import time
from socketserver import ThreadingMixIn
from types import TracebackType
from typing import Any
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer, make_server

from smdb.auth import testcert
from smdb.auth.certificates import Credentials
from smdb.http import WATCHDOG as _WATCHDOG
from smdb.sim.app import MAX_REQUEST, Simulator
from smdb.sim.faults import ConnectionAborted

log = logging.getLogger("smdb.sim")


class _Handler(WSGIRequestHandler):
    """wsgiref's handler with HTTP/1.1 keep-alive: one TCP connection serves many SOAP calls, as a client's
    pooled session expects (wsgiref closes after every request, which costs a connect and a thread per call)."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are written separately: without this, 40 ms stalls

    def handle(self) -> None:
        self._socket_rfile = self.rfile
        self.close_connection = True
        self._one()
        while not self.close_connection:
            self._one()

    #: The longest one request may take to arrive, request line to last body byte (seconds). The socket timeout
    #: (``timeout``) bounds each read only: a client dripping a byte every few seconds would hold a thread forever.
    request_deadline = 30.0

    def _abort(self) -> None:
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _read_request(self) -> bool:
        """Read the request line, headers and body within :attr:`request_deadline`; False: drop the connection."""
        self.raw_requestline = self.rfile.readline(65537)
        if not self.raw_requestline or len(self.raw_requestline) > 65536:
            self.close_connection = True
            return False
        if not self.parse_request():
            return False
        length = self.headers.get("Content-Length", "")
        if length.strip().isdigit() and 0 < int(length) <= MAX_REQUEST:
            body = self.rfile.read(int(length))
            if len(body) < int(length):
                self.close_connection = True
                return False
            self.rfile = io.BufferedReader(io.BytesIO(body))
        return True

    def _one(self) -> None:
        watch = _WATCHDOG.schedule(time.monotonic() + self.request_deadline, self._abort)
        try:
            complete = self._read_request()
        except OSError:
            complete, self.close_connection = False, True
        finally:
            _WATCHDOG.cancel(watch)
        if not complete:
            return
        app = self.server.get_app()  # type: ignore[attr-defined]
        plan = getattr(app, "fault_plan", None)
        if plan is not None:
            plan.local.socket = self.connection
        wfile: Any = self.wfile  # a BufferedIOBase; typeshed wants IO[bytes]
        handler = ServerHandler(self.rfile, wfile, _LogStream(), self.get_environ(), multithread=True)
        self.rfile = self._socket_rfile
        handler.http_version = "1.1"
        handler.request_handler = self  # type: ignore[attr-defined]
        try:
            handler.run(app)
        except (OSError, ConnectionAborted):
            # an injected reset, or the client went away: this connection is done
            self.close_connection = True

    def get_stderr(self) -> Any:
        return _LogStream()

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)


class _LogStream(io.StringIO):
    """wsgiref writes handler errors to stderr; send them to the debug log instead (an injected reset is not news)."""

    def write(self, text: str) -> int:
        if text.strip():
            log.debug("wsgi: %s", text.rstrip())
        return len(text)


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    """One thread per connection, at most ``max_connections`` at once: a connection beyond that is closed at once
    rather than given a thread (a flood of idle connections must not exhaust the process)."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64
    max_connections = 64
    #: Connections one client address may hold at once: one misbehaving client cannot take every slot.
    max_per_client = 32

    def server_activate(self) -> None:
        self._slots = threading.BoundedSemaphore(self.max_connections)
        self._per_client: collections.Counter[str] = collections.Counter()
        self._per_client_lock = threading.Lock()
        super().server_activate()

    def _take(self, host: str) -> bool:
        with self._per_client_lock:
            if self._per_client[host] >= self.max_per_client:
                return False
            if not self._slots.acquire(blocking=False):
                return False
            self._per_client[host] += 1
            return True

    def _give_back(self, host: str) -> None:
        with self._per_client_lock:
            self._per_client[host] -= 1
            if self._per_client[host] <= 0:
                del self._per_client[host]
        self._slots.release()

    def process_request(self, request: Any, client_address: Any) -> None:
        host = str(client_address[0]) if client_address else "?"
        if not self._take(host):
            log.info("for mange samtidige forbindelser; %s afvist", host)
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._give_back(host)
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._give_back(str(client_address[0]) if client_address else "?")

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("connection from %s ended with an error", client_address, exc_info=True)


class SimServer:
    """A running simulator. ``with SimServer() as sim:`` gives ``sim.url`` and ``sim.client(...)``.

    A test certificate for the client is generated and trusted unless ``trust`` is given; the server
    signs its answers with its own generated certificate (``sim.server_certificate``).

    ``request_timeout``: seconds a connection may sit idle, and the longest one request may take to arrive in all
    (a half-open or dripping request must not hold a thread forever); ``max_connections``: connections served at
    once, ``max_connections_per_client`` of them from one address (default half); ``latency_ms`` (plus up to
    ``jitter_ms``): added to every SOAP and STS call, as DST's network and processing would.
    """

    def __init__(
        self,
        app: Simulator | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        client_credentials: Credentials | None = None,
        auth: str = "certificate",
        request_timeout: float = 30.0,
        max_connections: int = 64,
        max_connections_per_client: int | None = None,
        latency_ms: float = 0.0,
        jitter_ms: float = 0.0,
    ) -> None:
        self.client_credentials = client_credentials or testcert.generate("Testkommune", "29189900")
        self.app = app or Simulator(
            trusted=[self.client_credentials.certificate],
            server_credentials=testcert.generate("Danmarks Statistik SMDB-simulator", "10103940"),
            auth=auth,
        )
        if self.app.server_credentials is None:
            self.app.server_credentials = testcert.generate("Danmarks Statistik SMDB-simulator", "10103940")
        if latency_ms or jitter_ms:
            self.app.latency, self.app.jitter = latency_ms / 1000, jitter_ms / 1000
        handler = type(
            "_BoundedHandler", (_Handler,), {"timeout": request_timeout, "request_deadline": request_timeout}
        )
        per_client = max_connections_per_client or max(1, max_connections // 2)
        server = type(
            "_BoundedServer", (_ThreadingServer,), {"max_connections": max_connections, "max_per_client": per_client}
        )
        self._server: WSGIServer = make_server(host, port, self.app, server_class=server, handler_class=handler)
        address: Any = self._server.server_address
        self.host = address[0].decode() if isinstance(address[0], bytes) else str(address[0])
        self.port = int(address[1])
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def server_certificate(self) -> Any:
        assert self.app.server_credentials is not None
        return self.app.server_credentials.certificate

    def client(self, **kwargs: Any) -> Any:
        from smdb.client import SmdbClient

        kwargs.setdefault("credentials", self.client_credentials)
        signs = self.app.server_credentials is not None
        if "server_certificates" not in kwargs:
            kwargs["server_certificates"] = [self.server_certificate] if signs else []
        kwargs.setdefault("strict", signs)
        kwargs.setdefault("today", self.app.today)
        kwargs.setdefault("timeout", (2.0, 10.0))
        if self.app.auth == "sts":
            from smdb.auth.sts import StsConfig

            kwargs.setdefault("auth", "sts")
            assert self.app.sts is not None
            kwargs.setdefault(
                "sts",
                StsConfig(endpoint=self.sts_url, audience=self.app.audience, certificates=(self.app.sts.certificate,)),
            )
        kwargs.setdefault("base_url", self.url)
        return SmdbClient(**kwargs)

    @property
    def sts_url(self) -> str:
        from smdb.sim.sts import STS_PATH

        return f"{self.url}{STS_PATH}"

    def start(self) -> SimServer:
        # a short poll interval: stopping (every test's teardown) waits at most this long, not socketserver's 0.5 s
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="smdb-sim", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
