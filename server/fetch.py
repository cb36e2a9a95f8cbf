"""Fetching feeds and pages from the open web: politely, within limits, and never from the inside network.

``Fetcher.fetch(url)`` makes a GET and returns a frozen ``FetchResult``. What it guarantees:

* **Limits.** One total deadline bounds a fetch from its first connection to its last byte, every hop, retry
  and backoff included: each socket operation (connect, TLS handshake, every read and write, so also headers
  trickled a byte at a time) waits at most what is left of it. The body is capped both as sent and once
  decoded: only gzip and deflate are asked for and decoded, one layer at most (``gzip, gzip`` is refused),
  incrementally with bounded output per step, so a compression bomb is cut off with ``FetchError("... too
  large ...")`` having held at most ``max_bytes`` decoded bytes; a truncated compressed stream or a body
  shorter than its Content-Length is a ``FetchError``. At most ``max_redirects`` redirects, followed one by
  one here so that every hop is checked. Whatever a server answers ends in a result or a ``FetchError``.
* **Politeness.** A User-Agent naming the project; at most ``per_host_concurrency`` requests in flight per
  host and ``per_host_delay`` seconds between the starts of two requests to the same host, across threads;
  conditional GET (``etag`` / ``last_modified`` in, ``not_modified`` out). Addresses are resolved and vetted
  before a request queues for its host, so a refused address costs no wait and takes no slot. No cookies.
* **Retries.** On 5xx, 429 and timeouts / dropped connections, with exponential backoff and jitter; a
  ``Retry-After`` is honoured up to ``retry_after_max`` seconds (a longer one ends the fetch with
  ``HTTPStatusError`` rather than hammering or stalling). A retry pushes back the host's next slot, so other
  fetches to a struggling host wait too.
* **No SSRF.** Only http(s), and only to public addresses: loopback, private, link-local, CGNAT, multicast,
  reserved, unspecified, documentation and benchmarking ranges, and IPv6 forms that embed one of those
  (IPv4-mapped, NAT64, 6to4) are refused with ``BlockedAddressError`` unless listed in ``allow_addresses``.

How the address check cannot be bypassed by DNS rebinding: the check does not happen beside the connection,
it *is* the connection. The client's transport is an ``httpcore.ConnectionPool`` whose network backend
(``_GuardedBackend``) receives the host name of each new connection and opens the TCP socket itself, to one of
the addresses the fetch resolved once with ``getaddrinfo`` and vetted before queueing for the host (the policy
drops every address it refuses, refusing the request when none is left, and is applied again at connect).
There is no second lookup, so there is no window between check and use.
TLS still verifies the certificate against the host name (httpcore passes the name as SNI and for hostname
checking), and the pool is keyed by host name, so a connection is only ever reused for the origin it was
vetted and verified for. Every redirect hop is a new request through the same path. Proxy settings from the
environment are never read (the transport has no proxy support), and nothing but TCP to the vetted address is
ever opened.
"""
from __future__ import annotations

import contextlib
import email.utils
import functools
import ipaddress
import logging
import math
import random
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Literal
from urllib.parse import urljoin

import httpcore
import httpx

from . import __version__
from .content import binary_signature
from .errors import BlockedAddressError, FetchError, HTTPStatusError, InvalidURLError
from .urls import DEFAULT_PORTS, clean_url, split_url

LOGGER = logging.getLogger(__name__)

USER_AGENT = f"newstilt/{__version__} (+https://github.com/newstilt/newstilt; self-hosted news reader)"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]
Expect = Literal["html", "feed"] | None

#: Never contacted unless allow-listed. Most are also caught by ``ipaddress`` flags; the list says it plainly.
BLOCKED_NETWORKS = tuple(
    ipaddress.ip_network(net)
    for net in (
        "0.0.0.0/8",  # "this network", unspecified
        "10.0.0.0/8",  # private
        "100.64.0.0/10",  # carrier-grade NAT
        "127.0.0.0/8",  # loopback
        "169.254.0.0/16",  # link-local, cloud metadata services
        "172.16.0.0/12",  # private
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",  # documentation
        "192.88.99.0/24",  # 6to4 relay anycast
        "192.168.0.0/16",  # private
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",  # documentation
        "203.0.113.0/24",  # documentation
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, broadcast
        "::/128",  # unspecified
        "::1/128",  # loopback
        "::/96",  # IPv4-compatible (deprecated)
        "100::/64",  # discard
        "2001::/23",  # IETF protocol assignments, Teredo
        "2001:db8::/32",  # documentation
        "64:ff9b:1::/48",  # local-use NAT64
        "fc00::/7",  # unique local
        "fe80::/10",  # link-local
        "fec0::/10",  # site-local (deprecated)
        "ff00::/8",  # multicast
    )
)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")

_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504, 507, 520, 521, 522, 523, 524})
_RETRY_ERRORS = (httpx.TimeoutException, httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError)

_ACCEPT = {
    "html": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5",
    "feed": "application/rss+xml,application/atom+xml,application/rdf+xml;q=0.9,"
    "application/xml;q=0.8,text/xml;q=0.8,*/*;q=0.5",
    None: "*/*",
}
#: Only what can be decoded with bounded output per step (zlib's ``max_length``); see ``_BodyDecoder``.
_ACCEPT_ENCODING = "gzip, deflate"
_BINARY_MEDIA_PREFIXES = ("image/", "audio/", "video/", "font/", "model/")
_BINARY_MEDIA_TYPES = frozenset(
    {
        "application/pdf", "application/zip", "application/gzip", "application/x-gzip",
        "application/x-tar", "application/x-7z-compressed", "application/x-rar-compressed",
        "application/vnd.rar", "application/wasm", "application/x-shockwave-flash", "application/msword",
        "application/vnd.ms-excel", "application/x-msdownload", "application/x-executable",
    }
)


@dataclass(frozen=True)
class FetchConfig:
    """Knobs of a ``Fetcher``. Times are in seconds, sizes in bytes."""

    connect_timeout: float = 5.0
    read_timeout: float = 15.0
    #: Bounds one ``fetch`` call from its first connection to its last byte: connecting, TLS, sending,
    #: headers, body, every hop, retry, backoff and Retry-After; only the wait for the first polite slot of
    #: the first host (queueing behind this process's own traffic) is not counted.
    total_timeout: float = 45.0
    #: The cap on the body, both as sent (compressed) and once decoded.
    max_bytes: int = 5 * 1024 * 1024
    max_redirects: int = 5
    #: Further attempts after the first, on 5xx, 429 and timeouts.
    retries: int = 2
    backoff_base: float = 0.5
    backoff_max: float = 8.0
    retry_after_max: float = 30.0
    #: Requests in flight at once to one host (the service setting ``NEWSTILT_FETCH_HOST_CONCURRENCY``).
    per_host_concurrency: int = 2
    #: Seconds between the starts of two requests to one host (``NEWSTILT_FETCH_HOST_DELAY``). A refused
    #: address costs neither a wait nor a slot: it is refused before the host's gate.
    per_host_delay: float = 1.0
    max_connections: int = 32
    #: IP addresses or CIDR networks that may be contacted although private/loopback (e.g. ``127.0.0.1``).
    allow_addresses: tuple[str, ...] = ()
    user_agent: str = USER_AGENT

    def __post_init__(self) -> None:
        allow = self.allow_addresses
        if isinstance(allow, str):
            allow = allow.replace(",", " ").split()
        object.__setattr__(self, "allow_addresses", tuple(str(a).strip() for a in allow if str(a).strip()))
        for item in self.allow_addresses:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"allow_addresses: not an IP address or CIDR network: {item!r}") from None
        for name in ("connect_timeout", "read_timeout", "total_timeout", "backoff_base", "backoff_max"):
            if not (getattr(self, name) > 0 and math.isfinite(getattr(self, name))):
                raise ValueError(f"{name} must be a positive number of seconds")
        for name in ("max_bytes", "per_host_concurrency", "max_connections"):
            if not getattr(self, name) >= 1:
                raise ValueError(f"{name} must be at least 1")
        for name in ("max_redirects", "retries", "retry_after_max", "per_host_delay"):
            if not (getattr(self, name) >= 0 and math.isfinite(getattr(self, name))):
                raise ValueError(f"{name} must not be negative")

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, object]) -> FetchConfig:
        """From a mapping of field names, each spelt exactly as the field (``per_host_delay``, not
        ``FETCH_PER_HOST_DELAY``). Numbers may be strings; a None value means the default. An unknown key is
        a ``ValueError`` naming it, so a misspelt setting is never silently ignored."""
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(str(key) for key in mapping if key not in known)
        if unknown:
            raise ValueError(f"unknown fetch setting(s): {', '.join(unknown)}; "
                             f"the settings are {', '.join(known)}")
        values: dict[str, object] = {}
        for name, value in mapping.items():
            if value is None:
                continue
            kind = known[name].type
            if kind in ("int", "float"):
                try:
                    value = (int if kind == "int" else float)(value)  # type: ignore[arg-type]
                except (TypeError, ValueError):
                    raise ValueError(f"{name} must be a number, not {value!r}") from None
            values[name] = value
        return cls(**values)  # type: ignore[arg-type]


@dataclass(frozen=True)
class FetchResult:
    """One fetched resource. ``body`` is decoded from any Content-Encoding; empty when ``not_modified``.

    ``url`` is the requested URL (syntactically cleaned, see ``urls.clean_url``), ``final_url`` where the last
    redirect led; ``headers`` are the final response's, names lowercased."""

    url: str
    final_url: str
    status: int
    headers: Mapping[str, str]
    body: bytes
    etag: str | None
    last_modified: str | None
    not_modified: bool
    #: Seconds the whole fetch took, retries and redirects included.
    elapsed: float

    @property
    def content_type(self) -> str:
        """The media type without parameters, lowercased (``""`` when absent)."""
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()

    @property
    def charset(self) -> str | None:
        """The ``charset`` parameter of Content-Type, if any."""
        for param in self.headers.get("content-type", "").split(";")[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "charset" and value.strip():
                return value.strip().strip("\"'").lower()
        return None


def is_public_address(address: IPAddress | str) -> bool:
    """Whether an IP address is on the public internet (see ``BLOCKED_NETWORKS``)."""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is None:
            embedded = ip.sixtofour
        if embedded is not None and not is_public_address(embedded):
            return False
        if ip.ipv4_mapped is not None:
            return True
    if any(ip in net for net in BLOCKED_NETWORKS if net.version == ip.version):
        return False
    return ip.is_global and not (
        ip.is_multicast or ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved
        or ip.is_unspecified
    )


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to, in the resolver's order, without duplicates."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(f"cannot resolve host {host!r}: {exc}") from None
    addresses: list[str] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        if sockaddr[0] not in addresses:
            addresses.append(sockaddr[0])
    return addresses


class AddressPolicy:
    """Which resolved addresses may be contacted: public ones, plus the allow-list."""

    def __init__(self, allow: Iterable[str] = ()) -> None:
        self.allow = tuple(ipaddress.ip_network(a, strict=False) for a in allow)

    def permits(self, address: str) -> bool:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        candidates = [ip]
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            candidates.append(ip.ipv4_mapped)
        if any(c in net for c in candidates for net in self.allow if net.version == c.version):
            return True
        return is_public_address(ip)

    def vet(self, host: str, addresses: Iterable[str]) -> list[str]:
        """The permitted addresses of ``host``; ``BlockedAddressError`` when there is none."""
        addresses = list(addresses)
        permitted = [a for a in addresses if self.permits(a)]
        if not permitted:
            if addresses == [host]:
                raise BlockedAddressError(f"refusing to connect to {host}: not a public address")
            shown = ", ".join(addresses[:4]) or "no address"
            raise BlockedAddressError(f"refusing to connect to {host}: it resolves to {shown}, "
                                      "which is not a public address")
        if len(permitted) < len(addresses):
            LOGGER.warning("ignoring non-public addresses of %s: %s", host,
                           ", ".join(a for a in addresses if a not in permitted))
        return permitted


class _Context(threading.local):
    """What the fetch running on this thread tells the network layer below httpx (httpcore calls the backend
    and reads the sockets on the calling thread): its total deadline, and the addresses it has vetted."""

    deadline: float | None = None
    vetted: tuple[str, int, list[str]] | None = None


_CONTEXT = _Context()


def _within_deadline(timeout: float | None, error: type[Exception]) -> float | None:
    """``timeout`` shortened to what is left of this thread's fetch deadline; ``error`` once it has passed."""
    deadline = _CONTEXT.deadline
    if deadline is None:
        return timeout
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise error("the total timeout was reached")
    return remaining if timeout is None else min(timeout, remaining)


class _DeadlineStream(httpcore.NetworkStream):
    """A socket stream each of whose reads and writes waits no longer than the fetch's total deadline, so a
    server trickling its headers (or anything else) a byte at a time cannot outlast it."""

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _within_deadline(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _within_deadline(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None):
        # The handshake as a whole is bounded by the socket timeout (CPython's do_handshake keeps a deadline).
        timeout = _within_deadline(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str):
        return self._stream.get_extra_info(info)


class _GuardedBackend(httpcore.NetworkBackend):
    """Opens TCP connections only to vetted addresses; the one place where sockets are made."""

    #: Seconds a host's vetted addresses are reused: a fetch resolves before it queues for the host, also when
    #: a pooled connection will serve it, and most fetches go to a host fetched moments before.
    ADDRESS_TTL = 30.0
    _MAX_CACHED_HOSTS = 4096

    def __init__(self, policy: AddressPolicy, resolver: Resolver) -> None:
        self._policy = policy
        self._resolver = resolver
        self._backend = httpcore.SyncBackend()
        self._vetted: dict[tuple[str, int], tuple[float, list[str]]] = {}
        self._vetted_lock = threading.Lock()

    def addresses(self, host: str, port: int) -> list[str]:
        """The permitted addresses of ``host``; ``BlockedAddressError`` when there is none. Names are resolved
        once per ``ADDRESS_TTL``; only permitted addresses are remembered, so nothing unvetted is ever used."""
        try:
            literal = ipaddress.ip_address(host)
        except ValueError:
            pass
        else:
            return self._policy.vet(host, [str(literal)])
        now = time.monotonic()
        cached = self._vetted.get((host, port))
        if cached is not None and cached[0] > now:
            return cached[1]
        permitted = self._policy.vet(host, self._resolver(host, port))
        with self._vetted_lock:
            if len(self._vetted) >= self._MAX_CACHED_HOSTS:
                self._vetted.clear()
            self._vetted[(host, port)] = (now + self.ADDRESS_TTL, permitted)
        return permitted

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        vetted = _CONTEXT.vetted
        if vetted is not None and vetted[:2] == (host, port):
            # The fetch resolved and vetted this host before queueing for it; the same answer is used here,
            # so there is no second lookup, and it is vetted again all the same.
            permitted = self._policy.vet(host, vetted[2])
        else:
            permitted = self.addresses(host, port)
        error: Exception | None = None
        for address in permitted:
            try:
                stream = self._backend.connect_tcp(
                    address, port, timeout=_within_deadline(timeout, httpcore.ConnectTimeout),
                    local_address=local_address, socket_options=socket_options,
                )
                return _DeadlineStream(stream)
            except httpcore.ConnectError as exc:
                error = exc
        assert error is not None
        raise error

    def connect_unix_socket(self, path, timeout=None, socket_options=None):
        raise BlockedAddressError("unix sockets are never connected to")

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


_HTTPCORE_TO_HTTPX: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
)


@contextlib.contextmanager
def _httpx_errors() -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        for core_error, httpx_error in _HTTPCORE_TO_HTTPX:
            if isinstance(exc, core_error):
                raise httpx_error(str(exc) or type(exc).__name__) from exc
        raise


class _ResponseStream(httpx.SyncByteStream):
    def __init__(self, stream: Iterable[bytes]) -> None:
        self._stream = stream

    def __iter__(self) -> Iterator[bytes]:
        with _httpx_errors():
            yield from self._stream

    def close(self) -> None:
        close = getattr(self._stream, "close", None)
        if close is not None:
            close()


class GuardedTransport(httpx.BaseTransport):
    """An httpx transport over an httpcore pool whose every connection goes through ``_GuardedBackend``."""

    def __init__(self, policy: AddressPolicy, resolver: Resolver, *, max_connections: int,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        self.backend = _GuardedBackend(policy, resolver)
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context or _default_ssl_context(),
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            keepalive_expiry=5.0,
            http1=True,
            http2=False,
            network_backend=self.backend,
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _httpx_errors():
            response = self._pool.handle_request(core_request)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_ResponseStream(response.stream),
            extensions=response.extensions,
            request=request,
        )

    def close(self) -> None:
        self._pool.close()


@functools.cache
def _default_ssl_context() -> ssl.SSLContext:
    """Certificate verification against certifi's CA bundle; built once (loading it takes tens of ms)."""
    return httpx.create_ssl_context(verify=True, trust_env=False)


class _HostGate:
    """Per-host politeness: a concurrency limit and a minimum spacing between request starts."""

    def __init__(self, concurrency: int, delay: float) -> None:
        self._slots = threading.BoundedSemaphore(concurrency)
        self._lock = threading.Lock()
        self._delay = delay
        self._next_start = 0.0

    def acquire(self, deadline: float | None = None) -> float:
        """Wait for a slot and this host's next start time; returns the seconds waited. With a ``deadline``,
        ``httpx.TimeoutException`` (and no slot taken) when the start would come after it."""
        began = time.monotonic()
        timeout = None if deadline is None else max(0.0, deadline - began)
        if not self._slots.acquire(timeout=timeout):
            raise httpx.TimeoutException("the total timeout was reached waiting for the host's polite slot")
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next_start)
            if deadline is not None and start >= deadline:
                self._slots.release()
                raise httpx.TimeoutException("the total timeout was reached waiting for the host's polite slot")
            self._next_start = start + self._delay
        if start > now:
            time.sleep(start - now)
        return time.monotonic() - began

    def release(self) -> None:
        self._slots.release()

    def defer(self, seconds: float) -> None:
        """Start nothing on this host for ``seconds`` (a backoff or a Retry-After)."""
        with self._lock:
            self._next_start = max(self._next_start, time.monotonic() + seconds)


class _BodyDecoder:
    """Undoes one gzip or deflate Content-Encoding incrementally, with bounded output per step: each call to
    zlib may produce at most what is left of the ``cap``, so a body that decodes to more is refused having
    held at most ``cap`` decoded bytes, however small it was compressed. Concatenated gzip members are read
    (they are one gzip stream); bytes after the end of the stream are ignored."""

    def __init__(self, coding: str, cap: int, url: str) -> None:
        self._gzip = coding == "gzip"
        self._coding, self._cap, self._url = coding, cap, url
        self._obj = None
        self._size = 0
        self._done = False

    def _start(self, data: bytes):
        if self._gzip:
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        # "deflate" is meant to be zlib-wrapped (RFC 9110); some servers send raw deflate, as browsers accept.
        wrapped = len(data) >= 2 and data[0] & 0x0F == 8 and ((data[0] << 8) | data[1]) % 31 == 0
        return zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)

    def feed(self, data: bytes) -> list[bytes]:
        out: list[bytes] = []
        try:
            while data and not self._done:
                if self._obj is None or self._obj.eof:
                    if self._obj is not None and not (self._gzip and data[:2] == b"\x1f\x8b"):
                        self._done = True  # junk after the end of the stream
                        break
                    self._obj = self._start(data)
                piece = self._obj.decompress(data, self._cap - self._size + 1)
                self._size += len(piece)
                if self._size > self._cap:
                    raise FetchError(f"response from {self._url} is too large: over the limit of {self._cap} "
                                     f"bytes once {self._coding}-decoded")
                if piece:
                    out.append(piece)
                data = self._obj.unused_data if self._obj.eof else self._obj.unconsumed_tail
        except zlib.error as exc:
            raise FetchError(f"cannot decode the {self._coding} body from {self._url}: {exc}") from None
        return out

    def finish(self) -> None:
        if self._obj is not None and not self._obj.eof:
            raise FetchError(f"the {self._coding} body from {self._url} is truncated: the stream does not end")


def _body_decoder(header: str, cap: int, url: str) -> _BodyDecoder | None:
    """The decoder for a Content-Encoding header; ``FetchError`` for stacked or unsupported encodings."""
    codings = [c.strip().lower() for c in header.split(",")]
    codings = [c for c in codings if c and c != "identity"]
    if not codings:
        return None
    if len(codings) > 1:
        raise FetchError(f"{url} is sent with stacked content encodings ({', '.join(codings)}); refused, as "
                         "each layer multiplies what a small body can decode to")
    coding = {"x-gzip": "gzip"}.get(codings[0], codings[0])
    if coding not in ("gzip", "deflate"):
        raise FetchError(f"{url} is sent with Content-Encoding {coding!r}, which was not asked for "
                         f"(Accept-Encoding: {_ACCEPT_ENCODING})")
    return _BodyDecoder(coding, cap, url)


@dataclass(frozen=True)
class _Hop:
    status: int
    headers: httpx.Headers
    body: bytes


class Fetcher:
    """A thread-safe, polite and SSRF-safe HTTP GETter. Use as a context manager or call ``close()``."""

    def __init__(self, config: FetchConfig | Mapping[str, object] | None = None, *,
                 resolver: Resolver | None = None) -> None:
        if config is None:
            config = FetchConfig()
        elif not isinstance(config, FetchConfig):
            config = FetchConfig.from_mapping(config)
        self.config = config
        self.policy = AddressPolicy(config.allow_addresses)
        self._resolver = resolver or system_resolver
        self._gates: dict[str, _HostGate] = {}
        self._gates_lock = threading.Lock()
        self._random = random.Random()
        # Requests go straight to the transport: no cookie jar shared between sites, no redirect machinery
        # (every hop is followed and checked here), no response decoding but the bounded one of _read_body.
        self._transport = GuardedTransport(self.policy, self._resolver, max_connections=config.max_connections)

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._transport.close()

    def fetch(self, url: str, *, etag: str | None = None, last_modified: str | None = None,
              expect: Expect = None) -> FetchResult:
        """GET ``url``, following redirects. ``expect="html"`` or ``"feed"`` refuses binary answers.

        Raises ``InvalidURLError`` for a URL that is not http(s), ``BlockedAddressError`` for a non-public
        address (at any hop), ``HTTPStatusError`` for an error status after retries, ``FetchError`` otherwise;
        never another exception, whatever the server answers.
        """
        started = time.monotonic()
        if expect not in _ACCEPT:
            raise ValueError(f"expect must be 'html', 'feed' or None, not {expect!r}")
        requested = current = clean_url(url)
        headers = {"Accept": _ACCEPT[expect], "Accept-Encoding": _ACCEPT_ENCODING,
                   "User-Agent": self.config.user_agent}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        deadline: float | None = None  # starts with the first slot: see FetchConfig.total_timeout
        redirects = attempt = 0
        try:
            while True:
                parts = split_url(current)
                port = parts.port or DEFAULT_PORTS[parts.scheme]
                # Resolved and vetted before queueing: a refused address costs no polite wait and no slot.
                addresses = self._transport.backend.addresses(parts.host, port)
                gate = self._gate(parts.host)
                try:
                    gate.acquire(deadline)
                    if deadline is None:
                        deadline = time.monotonic() + self.config.total_timeout
                    try:
                        _CONTEXT.deadline, _CONTEXT.vetted = deadline, (parts.host, port, addresses)
                        hop = self._send(current, headers, deadline, expect)
                    finally:
                        gate.release()
                except _RETRY_ERRORS as exc:
                    delay = self._backoff(attempt)
                    if attempt < self.config.retries and deadline and time.monotonic() + delay < deadline:
                        LOGGER.info("retrying %s in %.2fs after %s", current, delay, type(exc).__name__)
                        gate.defer(delay)
                        attempt += 1
                        continue
                    what = "timed out" if isinstance(exc, httpx.TimeoutException) else "failed"
                    raise FetchError(f"fetching {current} {what} after {attempt + 1} attempt(s): {exc}") from None
                except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError) as exc:
                    raise FetchError(f"cannot fetch {current}: {exc}") from None

                status = hop.status
                location = hop.headers.get("location")
                if status in _REDIRECT_STATUSES and location:
                    redirects += 1
                    if redirects > self.config.max_redirects:
                        raise FetchError(f"too many redirects (more than {self.config.max_redirects}) from {url}")
                    try:
                        target = clean_url(urljoin(current, location.strip()))
                    except (InvalidURLError, ValueError) as exc:
                        raise FetchError(f"{current} redirects to an unusable URL: {exc}") from None
                    LOGGER.debug("%s redirects (%s) to %s", current, status, target)
                    current, attempt = target, 0
                    continue
                if status == 304:
                    return self._result(requested, current, hop, started, etag, last_modified, not_modified=True)
                if 200 <= status < 300:
                    return self._result(requested, current, hop, started, etag, last_modified, not_modified=False)
                if status in _RETRY_STATUSES:
                    retry_after = _retry_after(hop.headers.get("retry-after"))
                    if retry_after is not None and retry_after > self.config.retry_after_max:
                        raise HTTPStatusError(
                            f"HTTP {status} from {current}: asked to retry after {retry_after:.0f}s, more than "
                            f"the {self.config.retry_after_max:.0f}s this fetcher waits", status, current)
                    delay = retry_after if retry_after else self._backoff(attempt)
                    if attempt < self.config.retries and time.monotonic() + delay < deadline:
                        LOGGER.info("HTTP %s from %s, retrying in %.2fs", status, current, delay)
                        gate.defer(delay)
                        attempt += 1
                        continue
                    raise HTTPStatusError(f"HTTP {status} from {current} after {attempt + 1} attempt(s)",
                                          status, current)
                raise HTTPStatusError(f"HTTP {status} from {current}", status, current)
        finally:
            _CONTEXT.deadline = _CONTEXT.vetted = None

    def _gate(self, host: str) -> _HostGate:
        with self._gates_lock:
            gate = self._gates.get(host)
            if gate is None:
                gate = _HostGate(self.config.per_host_concurrency, self.config.per_host_delay)
                self._gates[host] = gate
            return gate

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self.config.backoff_max, self.config.backoff_base * 2**attempt)
        return ceiling / 2 + self._random.uniform(0, ceiling / 2)

    def _send(self, url: str, headers: dict[str, str], deadline: float, expect: Expect) -> _Hop:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise httpx.TimeoutException(f"total timeout of {self.config.total_timeout}s reached")
        connect = min(self.config.connect_timeout, remaining)
        read = min(self.config.read_timeout, remaining)
        request = httpx.Request("GET", url, headers=headers, extensions={
            "timeout": {"connect": connect, "read": read, "write": read, "pool": connect}})
        response = self._transport.handle_request(request)
        try:
            LOGGER.debug("GET %s -> %s", url, response.status_code)
            body = b""
            if 200 <= response.status_code < 300:
                body = self._read_body(response, url, deadline, expect)
            return _Hop(response.status_code, response.headers, body)
        finally:
            response.close()

    def _read_body(self, response: httpx.Response, url: str, deadline: float, expect: Expect) -> bytes:
        cap = self.config.max_bytes
        media_type = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if expect and (media_type.startswith(_BINARY_MEDIA_PREFIXES) or media_type in _BINARY_MEDIA_TYPES):
            raise FetchError(f"{url} is {media_type}, not {'HTML' if expect == 'html' else 'a feed'}")
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap:
            raise FetchError(f"response from {url} is too large: {declared} bytes, the limit is {cap}")
        decoder = _body_decoder(response.headers.get("content-encoding", ""), cap, url)
        chunks: list[bytes] = []
        size = 0
        # A body shorter than its Content-Length ends in h11's RemoteProtocolError: retried, then FetchError.
        for chunk in response.iter_raw():
            size += len(chunk)
            if size > cap:
                raise FetchError(f"response from {url} is too large: over the limit of {cap} bytes")
            if time.monotonic() > deadline:
                raise httpx.TimeoutException(f"total timeout of {self.config.total_timeout}s reached")
            if decoder is None:
                chunks.append(chunk)
            else:
                chunks.extend(decoder.feed(chunk))
        if decoder is not None:
            decoder.finish()
        body = b"".join(chunks)
        if expect:
            what = binary_signature(body)
            if what:
                raise FetchError(f"{url} returned {what}, not {'HTML' if expect == 'html' else 'a feed'}")
        return body

    def _result(self, url: str, final_url: str, hop: _Hop, started: float, etag: str | None,
                last_modified: str | None, *, not_modified: bool) -> FetchResult:
        headers = MappingProxyType({name.lower(): value for name, value in hop.headers.items()})
        return FetchResult(
            url=url,
            final_url=final_url,
            status=hop.status,
            headers=headers,
            body=hop.body,
            etag=headers.get("etag") or (etag if not_modified else None),
            last_modified=headers.get("last-modified") or (last_modified if not_modified else None),
            not_modified=not_modified,
            elapsed=time.monotonic() - started,
        )


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
