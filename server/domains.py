"""Which outlet a URL belongs to: host normalisation and the matching rules.

A URL is matched on its real host (lower case, IDNA in punycode, no port, no userinfo, no trailing dot). The
candidates, most specific first, are the host itself, the host without a mobile/``www`` prefix, and each parent
domain up to the registrable domain of the Public Suffix List (a snapshot bundled with tldextract: no network
at run time). At each candidate, path-scoped keys (``al.com/birmingham``) win over the bare host when the URL's
path starts with the key's whole segments. Walking up stops below a shared platform (``substack.com``), so a
blog on a platform never inherits a rating meant for the platform or for another blog.
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import unquote, urlsplit

import idna
import tldextract

from .errors import InvalidURLError

MAX_URL_LENGTH = 2048

#: Leading labels that name a variant of the same site, not a different one.
_VARIANT_PREFIX = re.compile(r"^(?:www\d{0,3}|m|amp|mobile)\.")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\s]")

_EXTRACT = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True)


@dataclass(frozen=True)
class ParsedURL:
    host: str
    path_segments: tuple[str, ...]
    is_ip: bool


@lru_cache(maxsize=65536)
def normalise_host(host: str) -> str:
    """Lower case, trailing dot removed, internationalised names in punycode (``xn--``). Memoised: lookups
    ask about the same few hundred outlets' hosts over and over (only results are cached; a bad host raises
    every time)."""
    host = host.strip().rstrip(".").lower()
    if not host:
        raise InvalidURLError("the URL has no host")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    if host.isascii():
        labels = host.split(".")
        if any(not label or len(label) > 63 or not re.fullmatch(r"[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?", label)
               for label in labels):
            raise InvalidURLError(f"not a valid host name: {host!r}")
        return host
    try:
        return idna.encode(host, uts46=True).decode("ascii")
    except idna.IDNAError as exc:
        raise InvalidURLError(f"not a valid internationalised host name: {host!r} ({exc})") from None


def parse_url(url: object) -> ParsedURL:
    """Validate an http(s) URL and return its normalised host and path segments, or raise InvalidURLError."""
    if not isinstance(url, str) or not url.strip():
        raise InvalidURLError("a URL is required")
    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        raise InvalidURLError(f"the URL is longer than {MAX_URL_LENGTH} characters")
    if _CONTROL.search(url):
        raise InvalidURLError("the URL contains whitespace or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port  # noqa: F841 - validates the port, raising ValueError when it is junk
        hostname = parts.hostname
    except ValueError as exc:
        raise InvalidURLError(f"not a valid URL: {exc}") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise InvalidURLError("only http and https URLs can be looked up")
    if not hostname:
        raise InvalidURLError("the URL has no host")
    host = normalise_host(hostname)
    is_ip = _is_ip(host)
    segments = tuple(seg.lower() for seg in unquote(parts.path).split("/") if seg)
    return ParsedURL(host=host, path_segments=segments, is_ip=is_ip)


@lru_cache(maxsize=65536)
def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def strip_variant_prefix(host: str) -> str:
    """``www.``, ``www2.``, ``m.``, ``amp.``, ``mobile.`` removed once, if something registrable remains."""
    stripped = _VARIANT_PREFIX.sub("", host, count=1)
    return stripped if stripped != host and "." in stripped else host


@lru_cache(maxsize=65536)
def registrable_domain(host: str) -> str | None:
    """The registrable domain of ``host`` by the Public Suffix List, or None for suffixes and IPs."""
    if _is_ip(host):
        return None
    result = _EXTRACT(host)
    return result.top_domain_under_public_suffix or None


def is_public_suffix(host: str) -> bool:
    return not _is_ip(host) and registrable_domain(host) is None


def candidate_hosts(host: str, platforms: frozenset[str] | set[str] = frozenset()) -> list[str]:
    """Hosts to try for ``host``, most specific first, per the rules in the module docstring."""
    if _is_ip(host):
        return [host]
    out = [host]
    base = strip_variant_prefix(host)
    if base != host:
        out.append(base)
    floor = registrable_domain(base)
    if floor is None:
        return out
    labels = base.split(".")
    for i in range(1, len(labels)):
        parent = ".".join(labels[i:])
        if len(parent) < len(floor):
            break
        if parent in platforms:
            break
        out.append(parent)
    return out


def split_key(key: str) -> tuple[str, tuple[str, ...]]:
    """``al.com/birmingham`` -> (``al.com``, (``birmingham``,)); a bare host has no segments."""
    host, _, path = key.partition("/")
    return host, tuple(seg for seg in path.lower().split("/") if seg)


def normalise_key(value: str) -> str:
    """A ratings key from a domain, ``domain/path`` or a full URL, in the form matching uses.

    ``https://www.USAToday.com/`` -> ``usatoday.com``; ``abcnews.go.com/538/`` -> ``abcnews.go.com/538``.
    """
    value = value.strip()
    if not value:
        raise InvalidURLError("empty domain")
    if "://" not in value:
        value = "http://" + value
    parsed = parse_url(value)
    host = strip_variant_prefix(parsed.host)
    return "/".join((host, *parsed.path_segments))
