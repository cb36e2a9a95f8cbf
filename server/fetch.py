"""Fetching feeds and pages from the open web: politely, within limits, and never from the inside network.

``Fetcher.fetch(url)`` makes a GET and returns a frozen ``FetchResult``. What it guarantees:

* **Limits.** Connect, read and total timeouts; a cap on the (decoded) body, enforced while streaming, so a
  huge or endlessly compressed answer is cut off with ``FetchError("... too large ...")``; at most
  ``max_redirects`` redirects, followed one by one here so that every hop is checked.
* **Politeness.** A User-Agent naming the project; at most ``per_host_concurrency`` requests in flight per
  host and ``per_host_delay`` seconds between the starts of two requests to the same host, across threads;
  conditional GET (``etag`` / ``last_modified`` in, ``not_modified`` out).
* **Retries.** On 5xx, 429 and timeouts / dropped connections, with exponential backoff and jitter; a
  ``Retry-After`` is honoured up to ``retry_after_max`` seconds (a longer one ends the fetch with
  ``HTTPStatusError`` rather than hammering or stalling). A retry pushes back the host's next slot, so other
  fetches to a struggling host wait too.
* **No SSRF.** Only http(s), and only to public addresses: loopback, private, link-local, CGNAT, multicast,
  reserved, unspecified, documentation and benchmarking ranges, and IPv6 forms that embed one of those
  (IPv4-mapped, NAT64, 6to4) are refused with ``BlockedAddressError`` unless listed in ``allow_addresses``.

How the address check cannot be bypassed by DNS rebinding: the check does not happen beside the connection,
it *is* the connection. The client's transport is an ``httpcore.ConnectionPool`` whose network backend
(``_GuardedBackend``) receives the host name of each new connection, resolves it once with ``getaddrinfo``,
drops every address the policy refuses (refusing the request when none is left) and opens the TCP socket to
one of the vetted IP addresses itself. There is no second lookup, so there is no window between check and use.
TLS still verifies the certificate against the host name (httpcore passes the name as SNI and for hostname
checking), and the pool is keyed by host name, so a connection is only ever reused for the origin it was
vetted and verified for. Every redirect hop is a new request through the same path. Proxies from the
environment are ignored (``trust_env=False``), and nothing but TCP to the vetted address is ever opened.
"""
from __future__ import annotations

import contextlib
import email.utils
import functools
import ipaddress
import logging
import random
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Literal
from urllib.parse import urljoin

import httpcore
import httpx

from . import __version__
from .errors import BlockedAddressError, FetchError, HTTPStatusError, InvalidURLError
from .urls import clean_url, split_url

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
_BINARY_MEDIA_PREFIXES = ("image/", "audio/", "video/", "font/", "model/")
_BINARY_MEDIA_TYPES = frozenset(
    {
        "application/pdf", "application/zip", "application/gzip", "application/x-gzip",
        "application/x-tar", "application/x-7z-compressed", "application/x-rar-compressed",
        "application/vnd.rar", "application/wasm", "application/x-shockwave-flash", "application/msword",
        "application/vnd.ms-excel", "application/x-msdownload", "application/x-executable",
    }
)
_MAGIC_NUMBERS = (
    (b"%PDF-", "a PDF document"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"RIFF", "a RIFF (WebP/WAV/AVI) file"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"\x1f\x8b", "gzip-compressed data"),
    (b"BZh", "bzip2-compressed data"),
    (b"\xfd7zXZ\x00", "xz-compressed data"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"\x7fELF", "an executable"),
    (b"MZ", "an executable"),
    (b"\x00\x00\x00\x18ftyp", "an MP4 video"),
    (b"\x00\x00\x00\x20ftyp", "an MP4 video"),
    (b"ID3", "an MP3 file"),
    (b"OggS", "an Ogg file"),
    (b"wOFF", "a web font"),
    (b"wOF2", "a web font"),
)
_UTF16_32_STARTS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff", b"<\x00", b"\x00<")


@dataclass(frozen=True)
class FetchConfig:
    """Knobs of a ``Fetcher``. Times are in seconds, sizes in bytes."""

    connect_timeout: float = 5.0
    read_timeout: float = 15.0
    #: Bounds one ``fetch`` call: every hop, retry and backoff, but not the wait for the host's polite slot.
    total_timeout: float = 45.0
    max_bytes: int = 5 * 1024 * 1024
    max_redirects: int = 5
    #: Further attempts after the first, on 5xx, 429 and timeouts.
    retries: int = 2
    backoff_base: float = 0.5
    backoff_max: float = 8.0
    retry_after_max: float = 30.0
    per_host_concurrency: int = 2
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
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive")
        for name in ("max_bytes", "per_host_concurrency", "max_connections"):
            if not getattr(self, name) >= 1:
                raise ValueError(f"{name} must be at least 1")
        for name in ("max_redirects", "retries", "retry_after_max", "per_host_delay"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must not be negative")

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, object]) -> FetchConfig:
        """From a plain mapping of field names, or a Flask config: ``FETCH_<FIELD>`` keys, and ``FETCH_ALLOW``
        (the service setting ``NEWSTILT_FETCH_ALLOW``) for ``allow_addresses``. Other keys are ignored."""
        values: dict[str, object] = {}
        for f in fields(cls):
            for key in (f.name, f"FETCH_{f.name.upper()}"):
                if key in mapping and mapping[key] is not None:
                    values[f.name] = mapping[key]
        if "allow_addresses" not in values and mapping.get("FETCH_ALLOW") is not None:
            values["allow_addresses"] = mapping["FETCH_ALLOW"]
        for f in fields(cls):
            if f.name in values and f.type in ("int", "float"):
                values[f.name] = (int if f.type == "int" else float)(values[f.name])  # type: ignore[arg-type]
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


def binary_signature(data: bytes) -> str | None:
    """What binary format ``data`` looks like (``"a PDF document"``), or None if it may be text."""
    head = data[:1024]
    for magic, what in _MAGIC_NUMBERS:
        if head.startswith(magic):
            return what
    if b"\x00" in head and not head.startswith(_UTF16_32_STARTS):
        return "binary data"
    return None


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


class _GuardedBackend(httpcore.NetworkBackend):
    """Opens TCP connections only to vetted addresses; the one place where sockets are made."""

    def __init__(self, policy: AddressPolicy, resolver: Resolver) -> None:
        self._policy = policy
        self._resolver = resolver
        self._backend = httpcore.SyncBackend()

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        try:
            literal = ipaddress.ip_address(host)
        except ValueError:
            addresses = self._resolver(host, port)
        else:
            addresses = [str(literal)]
        permitted = self._policy.vet(host, addresses)
        error: Exception | None = None
        for address in permitted:
            try:
                return self._backend.connect_tcp(
                    address, port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
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
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context or _default_ssl_context(),
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            keepalive_expiry=5.0,
            http1=True,
            http2=False,
            network_backend=_GuardedBackend(policy, resolver),
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

    def acquire(self) -> float:
        """Wait for a slot and this host's next start time; returns the seconds waited."""
        began = time.monotonic()
        self._slots.acquire()
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next_start)
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
        self._client = httpx.Client(
            transport=GuardedTransport(self.policy, self._resolver, max_connections=config.max_connections),
            headers={"User-Agent": config.user_agent},
            follow_redirects=False,
            trust_env=False,
            timeout=httpx.Timeout(config.read_timeout, connect=config.connect_timeout),
        )

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def fetch(self, url: str, *, etag: str | None = None, last_modified: str | None = None,
              expect: Expect = None) -> FetchResult:
        """GET ``url``, following redirects. ``expect="html"`` or ``"feed"`` refuses binary answers.

        Raises ``InvalidURLError`` for a URL that is not http(s), ``BlockedAddressError`` for a non-public
        address (at any hop), ``HTTPStatusError`` for an error status after retries, ``FetchError`` otherwise.
        """
        started = time.monotonic()
        if expect not in _ACCEPT:
            raise ValueError(f"expect must be 'html', 'feed' or None, not {expect!r}")
        requested = current = clean_url(url)
        headers = {"Accept": _ACCEPT[expect]}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        deadline = [started + self.config.total_timeout]
        redirects = attempt = 0
        while True:
            gate = self._gate(split_url(current).host)
            try:
                hop = self._send(current, headers, gate, deadline, expect)
            except _RETRY_ERRORS as exc:
                delay = self._backoff(attempt)
                if attempt < self.config.retries and time.monotonic() + delay < deadline[0]:
                    LOGGER.info("retrying %s in %.2fs after %s", current, delay, type(exc).__name__)
                    gate.defer(delay)
                    attempt += 1
                    continue
                what = "timed out" if isinstance(exc, httpx.TimeoutException) else "failed"
                raise FetchError(f"fetching {current} {what} after {attempt + 1} attempt(s): {exc}") from None
            except httpx.HTTPError as exc:
                raise FetchError(f"cannot fetch {current}: {exc}") from None

            status = hop.status
            location = hop.headers.get("location")
            if status in _REDIRECT_STATUSES and location:
                redirects += 1
                if redirects > self.config.max_redirects:
                    raise FetchError(f"too many redirects (more than {self.config.max_redirects}) from {url}")
                try:
                    target = clean_url(urljoin(current, location.strip()))
                except InvalidURLError as exc:
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
                if attempt < self.config.retries and time.monotonic() + delay < deadline[0]:
                    LOGGER.info("HTTP %s from %s, retrying in %.2fs", status, current, delay)
                    gate.defer(delay)
                    attempt += 1
                    continue
                raise HTTPStatusError(f"HTTP {status} from {current} after {attempt + 1} attempt(s)",
                                      status, current)
            raise HTTPStatusError(f"HTTP {status} from {current}", status, current)

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

    def _send(self, url: str, headers: dict[str, str], gate: _HostGate, deadline: list[float],
              expect: Expect) -> _Hop:
        # Waiting for the host's polite slot does not count against the total timeout.
        deadline[0] += gate.acquire()
        try:
            remaining = deadline[0] - time.monotonic()
            if remaining <= 0:
                raise httpx.TimeoutException(f"total timeout of {self.config.total_timeout}s reached")
            timeout = httpx.Timeout(
                min(self.config.read_timeout, remaining), connect=min(self.config.connect_timeout, remaining)
            )
            request = self._client.build_request("GET", url, headers=headers, timeout=timeout)
            response = self._client.send(request, stream=True)
            try:
                LOGGER.debug("GET %s -> %s", url, response.status_code)
                body = b""
                if 200 <= response.status_code < 300:
                    body = self._read_body(response, url, deadline[0], expect)
                return _Hop(response.status_code, response.headers, body)
            finally:
                response.close()
        finally:
            gate.release()

    def _read_body(self, response: httpx.Response, url: str, deadline: float, expect: Expect) -> bytes:
        cap = self.config.max_bytes
        media_type = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if expect and (media_type.startswith(_BINARY_MEDIA_PREFIXES) or media_type in _BINARY_MEDIA_TYPES):
            raise FetchError(f"{url} is {media_type}, not {'HTML' if expect == 'html' else 'a feed'}")
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap:
            raise FetchError(f"response from {url} is too large: {declared} bytes, the limit is {cap}")
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > cap:
                raise FetchError(f"response from {url} is too large: over the limit of {cap} bytes")
            if time.monotonic() > deadline:
                raise httpx.TimeoutException(f"total timeout of {self.config.total_timeout}s reached")
            chunks.append(chunk)
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
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
