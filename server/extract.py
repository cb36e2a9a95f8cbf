"""Article extraction: the main text from trafilatura, the metadata read straight from the page.

The page is decoded and parsed once with lxml. Metadata comes from what publishers put there for machines,
in this order: schema.org JSON-LD (``NewsArticle`` and kin), Open Graph / ``article:*`` / Dublin Core meta
tags, then the document itself (``<title>``, ``<h1>``, ``<time>``, ``<html lang>``). Only when the title or
the date is still missing does trafilatura's own metadata extraction run (htmldate, no extensive search).
The text comes from trafilatura tuned for speed and precision: its fast path, no comments, no tables, no
fallback extractors unless the fast path finds almost nothing.

The canonical URL is trusted only when it stays on the page's own site (same registrable domain) or on the
site of the outlet whose feed listed the page, that outlet's domain or one of its aliases: a page cannot claim
to be another outlet's article.
"""
from __future__ import annotations

import codecs
import email.utils
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urljoin

import lxml.html
import trafilatura
from lxml import etree

from .domains import registrable_domain
from .errors import ExtractionError, InvalidURLError
from .fetch import binary_signature
from .urls import host_of, normalize_url

LOGGER = logging.getLogger(__name__)

MAX_HTML_BYTES = 10 * 1024 * 1024
#: Below this many characters the fast extraction is retried with trafilatura's fallback extractors.
MIN_FAST_TEXT_CHARS = 250
MAX_AUTHORS = 10
MAX_JSON_LD_SCRIPTS = 20

ARTICLE_TYPES = frozenset(
    {
        "Article", "NewsArticle", "ReportageNewsArticle", "AnalysisNewsArticle", "OpinionNewsArticle",
        "BackgroundNewsArticle", "ReviewNewsArticle", "AskPublicNewsArticle", "SatiricalArticle",
        "BlogPosting", "LiveBlogPosting", "SocialMediaPosting", "Report", "TechArticle", "ScholarlyArticle",
    }
)

_HTML_PARSER = lxml.html.HTMLParser(
    remove_comments=True, remove_pis=True, no_network=True, default_doctype=False, collect_ids=False
)
_LOWER = "translate(%s, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')"
_CANONICAL_HREFS = etree.XPath(
    "//link[@href][contains(concat(' ', normalize-space(%s), ' '), ' canonical ')]/@href" % (_LOWER % "@rel")
)
_META_TAGS = etree.XPath("//meta[@content]")
_JSON_LD_SCRIPTS = etree.XPath("//script[contains(%s, 'ld+json')]" % (_LOWER % "@type"))
_TITLE_TEXT = etree.XPath("string((//title)[1])")
_H1_TEXT = etree.XPath("string((//h1)[1])")
_HTML_LANG = etree.XPath("string(/html/@lang)")
_TIME_DATETIME = etree.XPath(
    "(//*[@itemprop='datePublished']/@datetime | //time[@pubdate]/@datetime"
    " | //article//time[@datetime]/@datetime)[1]"
)
_META_KEYS = ("property", "name", "itemprop", "http-equiv")
_PUBLISHED_META = (
    "article:published_time", "og:article:published_time", "datepublished", "og:published_time",
    "parsely-pub-date", "sailthru.date", "pubdate", "publishdate", "publish-date", "dc.date.issued",
    "dcterms.issued", "dc.date", "dcterms.date", "date",
)
_AUTHOR_META = ("author", "article:author", "parsely-author", "sailthru.author", "dc.creator", "byl")

_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""", re.IGNORECASE)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*>")
_NOT_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_LANGUAGE = re.compile(r"^([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]{1,8})*$")
_BYLINE_PREFIX = re.compile(r"^\s*(?:by|von|par|por|di|door)\s+", re.IGNORECASE)
_AUTHOR_SEPARATORS = re.compile(r"\s*(?:;|\||,|\band\b|&)\s*")
_TITLE_SEPARATORS = (" | ", " - ", " – ", " — ", " :: ", " · ")
# Per WHATWG, these labels mean windows-1252 in HTML.
_WINDOWS_1252_ALIASES = frozenset({"iso-8859-1", "iso8859-1", "latin1", "latin-1", "us-ascii", "ascii"})


@dataclass(frozen=True)
class ExtractedArticle:
    """The article on a page. ``url`` is the page's identity; ``canonical_url`` the trusted canonical (or
    ``url``); ``language`` an ISO 639 code; ``published`` in UTC."""

    url: str
    canonical_url: str
    title: str
    text: str
    published: datetime | None
    authors: tuple[str, ...]
    language: str | None
    site_name: str | None


def extract_article(html: bytes | str, url: str, *, feed_outlet_domain: str | None = None,
                    encoding: str | None = None, outlet_aliases: tuple[str, ...] | list[str] = ()) -> ExtractedArticle:
    """Extract the article of the page at ``url``.

    ``feed_outlet_domain`` is the domain of the outlet whose feed listed this page (its canonical URL may
    point there), ``outlet_aliases`` that outlet's other domains (``huffingtonpost.com`` for ``huffpost.com``:
    a canonical there is the outlet's own); ``encoding`` is the charset from the HTTP Content-Type, if any.
    Raises ``ExtractionError`` for binary data, oversized pages and pages without article text,
    ``InvalidURLError`` for a bad ``url``.
    """
    page_url = normalize_url(url)
    text = _decode(html, encoding)
    try:
        tree = lxml.html.document_fromstring(text, parser=_HTML_PARSER)
    except (etree.ParserError, ValueError) as exc:
        raise ExtractionError(f"cannot parse the page at {page_url}: {exc}") from None
    if tree is None or not isinstance(tree.tag, str):
        raise ExtractionError(f"the page at {page_url} has no HTML document")

    meta = _meta_tags(tree)
    ld = _json_ld_article(tree)
    site_name = _clean(meta.get("og:site_name")) or _clean(_name_of(ld.get("publisher"))) or _clean(
        meta.get("application-name")) or None
    title = _title(tree, meta, ld, site_name)
    published = _first_date(
        ld.get("datePublished"), ld.get("dateCreated"), *(meta.get(key) for key in _PUBLISHED_META),
        *_TIME_DATETIME(tree),
    )
    authors = _authors(ld.get("author"), *(meta.get(key) for key in _AUTHOR_META))
    language = _language(_HTML_LANG(tree), meta.get("content-language"), meta.get("og:locale"),
                         ld.get("inLanguage"))
    canonical = _trusted_canonical(page_url, (feed_outlet_domain, *outlet_aliases), _CANONICAL_HREFS(tree),
                                   meta.get("og:url"), _url_of(ld.get("url")), _url_of(ld.get("mainEntityOfPage")))

    need_metadata = not title or published is None
    document = _run_trafilatura(tree, page_url, fast=True, with_metadata=need_metadata)
    if need_metadata and document is not None:
        # Not its site name: without og:site_name or a JSON-LD publisher, trafilatura offers the host name.
        title = title or _clean(document.title)
        published = published or _first_date(document.date)
        authors = authors or _authors(document.author)
    body = (document.text or "").strip() if document is not None else ""
    if len(body) < MIN_FAST_TEXT_CHARS:
        slower = _run_trafilatura(tree, page_url, fast=False, with_metadata=False)
        if slower is not None and len((slower.text or "").strip()) > len(body):
            body = slower.text.strip()
    headline, _, rest = body.partition("\n")
    if title and rest and _clean(headline).casefold() == title.casefold():
        body = rest.strip()  # the <h1> inside the article is the title, not the text
    if not body:
        raise ExtractionError(f"no article text found in the page at {page_url}")
    return ExtractedArticle(
        url=page_url,
        canonical_url=canonical,
        title=title,
        text=body,
        published=published,
        authors=authors,
        language=language,
        site_name=site_name,
    )


def _decode(html: bytes | str, encoding: str | None) -> str:
    """The page as text, from a BOM, the HTTP charset, a ``<meta charset>``, UTF-8 or windows-1252."""
    if isinstance(html, str):
        if len(html) > MAX_HTML_BYTES:
            raise ExtractionError(f"page too large: {len(html)} characters, the limit is {MAX_HTML_BYTES}")
        if "\x00" in html[:1024]:
            raise ExtractionError("not an HTML page: it looks like binary data")
        text = html
    elif isinstance(html, bytes | bytearray | memoryview):
        data = bytes(html)
        if len(data) > MAX_HTML_BYTES:
            raise ExtractionError(f"page too large: {len(data)} bytes, the limit is {MAX_HTML_BYTES}")
        binary = binary_signature(data) if not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) \
            else None
        if binary:
            raise ExtractionError(f"not an HTML page: it looks like {binary}")
        text = _decode_bytes(data, encoding)
    else:
        raise TypeError(f"html must be bytes or str, not {type(html).__name__}")
    if "<" not in text[:65536]:
        raise ExtractionError("not an HTML page: no markup found")
    text = _XML_DECLARATION.sub("", text, count=1)
    return _NOT_XML_CHARS.sub("", text)


def _decode_bytes(data: bytes, encoding: str | None) -> str:
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return data.decode(codec, errors="replace").lstrip("\ufeff")
    declared = [encoding] if encoding else []
    match = _META_CHARSET.search(data, 0, 4096)
    if match:
        declared.append(match.group(1).decode("ascii", "replace"))
    for label in declared:
        codec = _codec(label)
        if codec is None:
            continue
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            if codec != "utf-8":
                return data.decode(codec, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _codec(label: str) -> str | None:
    label = label.strip().strip("\"'").lower()
    if label in _WINDOWS_1252_ALIASES:
        return "cp1252"
    try:
        info = codecs.lookup(label)
    except LookupError:
        return None
    # A UTF-16/32 label on a page without a BOM is a mistake; WHATWG reads such pages as UTF-8 too.
    if info.name.startswith(("utf-16", "utf-32")):
        return "utf-8"
    return info.name


def _run_trafilatura(tree: lxml.html.HtmlElement, url: str, *, fast: bool, with_metadata: bool):
    try:
        return trafilatura.bare_extraction(
            tree,
            url=url,
            fast=fast,
            favor_precision=True,
            include_comments=False,
            include_tables=False,
            include_images=False,
            include_links=False,
            include_formatting=False,
            deduplicate=False,
            with_metadata=with_metadata,
            date_extraction_params={"extensive_search": False, "original_date": True},
        )
    except (ValueError, TypeError, RecursionError, etree.LxmlError) as exc:
        LOGGER.warning("trafilatura failed on %s: %s", url, exc)
        return None


def _meta_tags(tree: lxml.html.HtmlElement) -> dict[str, str]:
    """``<meta>`` contents by lowercased property / name / itemprop / http-equiv; the first one wins."""
    found: dict[str, str] = {}
    for element in _META_TAGS(tree):
        content = element.get("content")
        for attribute in _META_KEYS:
            key = element.get(attribute)
            if key:
                found.setdefault(key.strip().lower(), content)
    return found


def _json_ld_article(tree: lxml.html.HtmlElement) -> dict:
    """The first schema.org article object in the page's JSON-LD (or any object with a datePublished)."""
    fallback: dict = {}
    for script in _JSON_LD_SCRIPTS(tree)[:MAX_JSON_LD_SCRIPTS]:
        try:
            data = json.loads(script.text or "", strict=False)
        except (ValueError, RecursionError):
            continue
        for node in _json_ld_nodes(data, 0):
            types = node.get("@type")
            types = {types} if isinstance(types, str) else set(types) if isinstance(types, list) else set()
            if types & ARTICLE_TYPES:
                return node
            if not fallback and "datePublished" in node:
                fallback = node
    return fallback


def _json_ld_nodes(data: object, depth: int) -> Iterator[dict]:
    if depth > 4:
        return
    if isinstance(data, list):
        for item in data[:50]:
            yield from _json_ld_nodes(item, depth + 1)
    elif isinstance(data, dict):
        yield data
        if "@graph" in data:
            yield from _json_ld_nodes(data["@graph"], depth + 1)


def _title(tree: lxml.html.HtmlElement, meta: dict[str, str], ld: dict, site_name: str | None) -> str:
    for candidate in (meta.get("og:title"), ld.get("headline"), meta.get("twitter:title")):
        title = _clean(candidate)
        if title:
            return title
    title = _clean(_TITLE_TEXT(tree))
    if title and site_name:
        for separator in _TITLE_SEPARATORS:
            head, found, tail = title.rpartition(separator)
            if found and head and tail.casefold() == site_name.casefold():
                return head.strip()
    return title or _clean(_H1_TEXT(tree))


def _trusted_canonical(page_url: str, outlet_domains: tuple[str | None, ...], *candidates: object) -> str:
    trusted_sites = {_site(host_of(page_url))}
    for outlet_domain in outlet_domains:
        if not outlet_domain:
            continue
        try:
            trusted_sites.add(_site(host_of("http://" + outlet_domain.strip().removeprefix("//"))))
        except InvalidURLError:
            LOGGER.warning("ignoring feed outlet domain %r: not a domain", outlet_domain)
    seen: set[str] = set()
    for candidate in candidates:
        for href in candidate if isinstance(candidate, list) else [candidate]:
            if not isinstance(href, str) or not href.strip() or href in seen:
                continue
            seen.add(href)
            try:
                canonical = normalize_url(urljoin(page_url, href.strip()))
            except (InvalidURLError, ValueError):
                continue
            if _site(host_of(canonical)) in trusted_sites:
                return canonical
            LOGGER.info("ignoring canonical URL %s of %s: it is on another site", canonical, page_url)
    return page_url


def _site(host: str) -> str:
    """The registrable domain; for a TLD the Public Suffix List does not know, its implicit ``*`` rule."""
    if ":" in host or host.replace(".", "").isdigit():
        return host
    return registrable_domain(host) or ".".join(host.split(".")[-2:])


def _first_date(*values: object) -> datetime | None:
    for value in values:
        when = _parse_date(value)
        if when is not None:
            return when
    return None


def _parse_date(value: object) -> datetime | None:
    """An ISO 8601 or RFC 2822 date as an aware UTC datetime; naive times are taken as UTC."""
    if isinstance(value, list) and value:
        value = value[0]
    if not isinstance(value, str) or not value.strip():
        return None
    value = value.strip()[:64]
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
    when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    if when.year < 1990 or when > datetime.now(UTC) + timedelta(days=2):
        return None
    return when


def _authors(*values: object) -> tuple[str, ...]:
    names: list[str] = []
    for value in values:
        for name in _author_names(value):
            if name.casefold() not in {n.casefold() for n in names}:
                names.append(name)
        if names:
            break
    return tuple(names[:MAX_AUTHORS])


def _author_names(value: object) -> Iterator[str]:
    if isinstance(value, list):
        for item in value[:MAX_AUTHORS * 2]:
            yield from _author_names(item)
        return
    if isinstance(value, dict):
        value = value.get("name")
    if not isinstance(value, str):
        return
    for part in _AUTHOR_SEPARATORS.split(_BYLINE_PREFIX.sub("", value)):
        name = _clean(part)
        if name and len(name) <= 100 and not name.startswith(("http://", "https://", "@")):
            yield name


def _name_of(value: object) -> object:
    if isinstance(value, list) and value:
        value = value[0]
    return value.get("name") if isinstance(value, dict) else value


def _url_of(value: object) -> object:
    if isinstance(value, dict):
        return value.get("@id") or value.get("url")
    return value


def _language(*values: object) -> str | None:
    for value in values:
        if isinstance(value, dict):
            value = value.get("name") or value.get("alternateName")
        if isinstance(value, str):
            match = _LANGUAGE.match(value.strip())
            if match:
                return match.group(1).lower()
    return None


def _clean(value: object) -> str:
    return " ".join(value.split()) if isinstance(value, str) else ""
