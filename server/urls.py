"""URL hygiene: the identity of an article, and the exact address a request goes to.

``normalize_url`` gives the *identity* of an article URL, so that the same story reached through a newsletter,
a social post or a feed compares equal:

* http and https only; scheme and host lowercased; an internationalised host becomes punycode (IDNA 2008
  with UTS #46 mapping); a trailing dot on the host is dropped;
* numeric hosts are read the way browsers read them (WHATWG URL standard), so ``http://2130706433/`` and
  ``http://0177.0.0.1/`` both become ``http://127.0.0.1/``; IPv6 literals are written in compressed form;
* the default port (80 for http, 443 for https), the userinfo (``user:pass@``) and the fragment are dropped;
* percent-escapes are normalised (unreserved characters decoded, hex digits uppercased, anything outside
  RFC 3986 encoded as UTF-8), dot segments are resolved and runs of ``/`` in the path collapse to one;
  otherwise the path is kept as it is (a trailing slash stays);
* tracking parameters are removed: every ``utm_*`` parameter and the documented list ``TRACKING_PARAMS``
  (compared case-insensitively); the remaining parameters are sorted by name, keeping the order of repeated
  names, and an empty query (a trailing ``?``) disappears;
* ``www.`` is kept: ``www.example.com`` and ``example.com`` may be different sites.

``clean_url`` does only the syntactic part (no tracking removal, no sorting, no ``//`` collapse): it is the
form the fetcher requests, so what goes on the wire is exactly what was validated.

Anything else raises ``InvalidURLError`` with a message saying what is wrong.
"""
from __future__ import annotations

import ipaddress
import logging
import re
from functools import lru_cache
from typing import NamedTuple
from urllib.parse import quote, unquote_plus, urlsplit

from .domains import MAX_URL_LENGTH, normalise_host
from .errors import InvalidURLError

LOGGER = logging.getLogger(__name__)

#: Query parameters that only say how a reader arrived, never which article it is. Besides these, every
#: parameter whose name starts with ``utm_`` goes. Names are compared lowercased.
TRACKING_PARAMS = frozenset(
    {
        # Click identifiers of ad and social platforms.
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "igshid",
        # Google Analytics cross-domain linker.
        "_ga", "_gl",
        # Mailchimp, HubSpot, Marketo newsletters.
        "mc_cid", "mc_eid", "_hsenc", "_hsmi", "mkt_tok",
        # Campaign codes used by news sites (MSN "ocid", NYT "smid", Guardian "CMP", WaPo "itid"/"tid"
        # are left alone when their meaning is unclear; these are the well-established ones).
        "ocid", "cmpid", "smid", "cmp", "icid", "taid",
        # Referral markers (Twitter "ref_src", generic "ref").
        "ref", "ref_src", "ref_url",
        # AT Internet (BBC, Le Monde).
        "at_medium", "at_campaign",
    }
)
TRACKING_PREFIXES = ("utm_",)

DEFAULT_PORTS = {"http": 80, "https": 443}

_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")
_LONE_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_PERCENT_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_MULTI_SLASH = re.compile(r"/{2,}")
_HEX_DIGITS = re.compile(r"^[0-9a-fA-F]*$")
_DEC_DIGITS = re.compile(r"^[0-9]+$")
_OCT_DIGITS = re.compile(r"^[0-7]*$")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
# RFC 3986 pchar minus the percent sign, which is handled separately.
_PATH_SAFE = "!$&'()*+,;=:@/"
_QUERY_SAFE = _PATH_SAFE + "?"

class URLParts(NamedTuple):
    """A validated http(s) URL, host already in its canonical ASCII form (IPv6 without brackets)."""

    scheme: str
    host: str
    port: int | None
    path: str
    query: str

    @property
    def netloc(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        if self.port is None or self.port == DEFAULT_PORTS[self.scheme]:
            return host
        return f"{host}:{self.port}"

    def geturl(self) -> str:
        query = f"?{self.query}" if self.query else ""
        return f"{self.scheme}://{self.netloc}{self.path}{query}"


def normalize_url(url: str) -> str:
    """The identity form of an article URL (see the module docstring); raises ``InvalidURLError``."""
    parts = split_url(url)
    path = _remove_dot_segments(_MULTI_SLASH.sub("/", parts.path))
    result = parts._replace(path=path, query=_identity_query(parts.query)).geturl()
    if len(result) > MAX_URL_LENGTH:
        raise InvalidURLError(f"URL is longer than {MAX_URL_LENGTH} characters once normalised")
    return result


def clean_url(url: str) -> str:
    """The syntactically normalised URL, with its query and path kept as they are; for requests."""
    result = split_url(url).geturl()
    if len(result) > MAX_URL_LENGTH:
        raise InvalidURLError(f"URL is longer than {MAX_URL_LENGTH} characters once normalised")
    return result


def host_of(url: str) -> str:
    """The canonical host of an http(s) URL: lowercase, punycode, IPv6 without brackets, no port."""
    return split_url(url).host


def split_url(url: str) -> URLParts:
    """Validate an http(s) URL and return its normalised parts (userinfo and fragment dropped).

    Memoised: ingestion asks about the same few addresses (the entry, the page, its canonical, its outlet)
    several times per article. Only results are cached; a bad URL raises every time.
    """
    if not isinstance(url, str):
        raise InvalidURLError(f"URL must be a string, not {type(url).__name__}")
    return _split_url(url)


@lru_cache(maxsize=16384)
def _split_url(url: str) -> URLParts:
    url = url.strip()
    if not url:
        raise InvalidURLError("URL is empty")
    if len(url) > MAX_URL_LENGTH:
        raise InvalidURLError(f"URL is longer than {MAX_URL_LENGTH} characters ({len(url)})")
    if _CONTROL_CHARS.search(url):
        raise InvalidURLError("URL contains control characters")
    match = _SCHEME.match(url)
    if not match:
        raise InvalidURLError(f"URL has no scheme (expected http:// or https://): {url[:100]!r}")
    scheme = match.group(1).lower()
    if scheme not in DEFAULT_PORTS:
        raise InvalidURLError(f"only http and https URLs are supported, not {scheme}:")
    # Browsers treat a backslash before the query as a slash in http(s) URLs; do the same, so that
    # "http://evil.example\@good.example/" means evil.example here as it does in a browser.
    head, sep, tail = url.partition("?")
    head, hsep, fragment = head.partition("#")
    url = head.replace("\\", "/") + hsep + fragment + sep + tail
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidURLError(f"malformed URL: {exc}") from None
    hostname = parts.hostname
    if not hostname:
        raise InvalidURLError(f"URL has no host: {url[:100]!r}")
    if port == 0:
        raise InvalidURLError("port 0 is not a valid port")
    host = _normalize_host(hostname)
    path = _remove_dot_segments(_normalize_escapes(parts.path, _PATH_SAFE) or "/")
    if not path.startswith("/"):
        path = "/" + path
    query = _normalize_escapes(parts.query, _QUERY_SAFE)
    return URLParts(scheme, host, port, path, query)


def _normalize_host(host: str) -> str:
    host = host.lower()
    if ":" in host:
        try:
            address = ipaddress.IPv6Address(host)
        except ValueError:
            raise InvalidURLError(f"invalid IPv6 address in URL: {host!r}") from None
        if address.scope_id:
            raise InvalidURLError("IPv6 zone identifiers are not allowed in URLs")
        return address.compressed
    host = host.removesuffix(".")
    if not host or "%" in host:
        raise InvalidURLError(f"invalid host: {host!r}")
    ipv4 = _parse_ipv4(host)
    if ipv4 is not None:
        return ipv4
    host = normalise_host(host)
    if len(host) > 253:
        raise InvalidURLError(f"host name is longer than 253 characters: {host[:100]!r}...")
    return host


def _parse_ipv4(host: str) -> str | None:
    """Read a host as the WHATWG URL standard does: ``None`` unless its last label is a number."""
    labels = host.split(".")
    if labels[-1] == "" and len(labels) > 1:
        labels.pop()
    last = labels[-1]
    if not (_DEC_DIGITS.match(last) or (last[:2] in ("0x", "0X") and _HEX_DIGITS.match(last[2:]))):
        return None
    if len(labels) > 4:
        raise InvalidURLError(f"invalid IPv4 address in URL: {host!r}")
    numbers = []
    for label in labels:
        if label[:2] in ("0x", "0X") and _HEX_DIGITS.match(label[2:]):
            numbers.append(int(label[2:] or "0", 16))
        elif len(label) > 1 and label[0] == "0":
            if not _OCT_DIGITS.match(label[1:]):
                raise InvalidURLError(f"invalid IPv4 address in URL: {host!r}")
            numbers.append(int(label[1:], 8))
        elif _DEC_DIGITS.match(label):
            numbers.append(int(label))
        else:
            raise InvalidURLError(f"invalid IPv4 address in URL: {host!r}")
    if any(n > 255 for n in numbers[:-1]) or numbers[-1] >= 256 ** (5 - len(numbers)):
        raise InvalidURLError(f"invalid IPv4 address in URL: {host!r}")
    value = numbers[-1]
    for i, n in enumerate(numbers[:-1]):
        value += n * 256 ** (3 - i)
    return str(ipaddress.IPv4Address(value))


def _normalize_escapes(component: str, safe: str) -> str:
    component = _LONE_PERCENT.sub("%25", component)
    component = quote(component, safe=safe + "%")
    return _PERCENT_ESCAPE.sub(_normalize_escape, component)


def _normalize_escape(match: re.Match[str]) -> str:
    char = chr(int(match.group(1), 16))
    return char if char in _UNRESERVED else "%" + match.group(1).upper()


def _remove_dot_segments(path: str) -> str:
    if "." not in path:
        return path
    segments = path.split("/")[1:]
    output: list[str] = []
    for i, segment in enumerate(segments):
        last = i == len(segments) - 1
        if segment == "..":
            if output:
                output.pop()
        elif segment != ".":
            output.append(segment)
            continue
        if last:
            output.append("")
    return "/" + "/".join(output)


def _identity_query(query: str) -> str:
    kept = []
    for pair in query.split("&"):
        if not pair:
            continue
        name = pair.split("=", 1)[0]
        lowered = unquote_plus(name).lower()
        if lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES):
            continue
        kept.append((name, pair))
    kept.sort(key=lambda item: item[0])
    return "&".join(pair for _, pair in kept)
