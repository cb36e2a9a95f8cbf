"""Fixtures for the ingestion tests: canned documents, a real HTTP server on 127.0.0.1, and a guard that fails
any attempt to open a connection anywhere else."""
from __future__ import annotations

import socket
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from newstilt.fetch import FetchConfig, Fetcher

RESOURCES = Path(__file__).parent.parent / "resources" / "ingest"


def resource(name: str) -> bytes:
    return (RESOURCES / name).read_bytes()


class Reply:
    """What a route answers: a status, headers and a body (or a callable that writes to the handler)."""

    def __init__(self, status: int = 200, body: bytes = b"", headers: dict[str, str] | None = None,
                 delay: float = 0.0) -> None:
        self.status, self.body, self.headers, self.delay = status, body, dict(headers or {}), delay


Route = Callable[[BaseHTTPRequestHandler, int], "Reply | None"]


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a client that hangs up or speaks TLS to plain HTTP is part of the tests, not a failure


class LocalServer:
    """A threaded HTTP/1.1 server on 127.0.0.1 whose routes the test sets; it counts and records requests."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: dict[str, int] = defaultdict(int)
        self.requests: list[tuple[float, str, dict[str, str]]] = []
        self.in_flight = self.max_in_flight = 0
        self._lock = threading.Lock()
        self.httpd = _QuietServer(("127.0.0.1", 0), self._handler_class())
        self.port = self.httpd.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.01},
                                        daemon=True)
        self._thread.start()

    def url(self, path: str) -> str:
        return self.base + path

    def route(self, path: str, reply: Reply | Route) -> None:
        self.routes[path] = reply if callable(reply) else (lambda handler, hit, reply=reply: reply)

    def close(self) -> None:
        if not self._thread.is_alive():
            return
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=5)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stall

            def log_message(self, format, *args):  # noqa: A002 - the base class's name
                pass

            def do_GET(self):
                path = self.path
                with server._lock:
                    server.hits[path] += 1
                    hit = server.hits[path]
                    headers = {name.lower(): value for name, value in self.headers.items()}
                    server.requests.append((time.monotonic(), path, headers))
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    route = server.routes.get(path)
                    reply = route(self, hit) if route else Reply(404, b"not found\n")
                    if reply is None:  # the route wrote its own answer
                        return
                    if reply.delay:
                        time.sleep(reply.delay)
                    self.send_response(reply.status)
                    headers = {"Content-Type": "text/plain; charset=utf-8", **reply.headers}
                    headers.setdefault("Content-Length", str(len(reply.body)))
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up, as the timeout tests intend
                finally:
                    with server._lock:
                        server.in_flight -= 1

        return Handler


@pytest.fixture
def http_server():
    server = LocalServer()
    yield server
    server.close()


@pytest.fixture
def connections(monkeypatch):
    """Every address a socket was opened to. Anything but 127.0.0.1 fails the test before a packet is sent."""
    opened: list[tuple[str, int]] = []
    real_create_connection = socket.create_connection

    def guarded_create_connection(address, *args, **kwargs):
        host, port = address[0], address[1]
        opened.append((host, port))
        if host != "127.0.0.1":
            raise AssertionError(f"the test tried to connect to {host}:{port}; only 127.0.0.1 is allowed")
        return real_create_connection(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", guarded_create_connection)
    return opened


@pytest.fixture
def make_fetcher(connections):
    """Build Fetchers with fast test settings (closed afterwards); 127.0.0.1 allowed unless overridden."""
    fetchers: list[Fetcher] = []

    def make(resolver=None, **overrides) -> Fetcher:
        settings = dict(allow_addresses=("127.0.0.1",), per_host_delay=0.0, backoff_base=0.01,
                        backoff_max=0.05, connect_timeout=2.0, read_timeout=2.0, total_timeout=10.0)
        settings.update(overrides)
        fetcher = Fetcher(FetchConfig(**settings), resolver=resolver)
        fetchers.append(fetcher)
        return fetcher

    yield make
    for fetcher in fetchers:
        fetcher.close()
