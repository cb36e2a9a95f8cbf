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

Bytes are decoded as browsers decode them (``content.decode_html``: BOM, HTTP charset, ``<meta>`` prescan,
detection, windows-1252; an invalid byte becomes U+FFFD and never switches the codec). A page that is cut off
raises ``TruncatedContentError``, one that is not clean text ``DamagedContentError`` (both ``ExtractionError``):
a later fetch may do better. Every article carries a ``TextQuality`` saying how clean its text is.

Bounded cost. Whatever the page, ``extract_article`` returns an ``ExtractedArticle`` or raises
``ExtractionError`` (``InvalidURLError`` only for a bad ``url`` argument), and its cost is bounded by these
caps: at most ``MAX_HTML_BYTES`` of HTML (parsing is linear), at most ``MAX_NODES`` elements and
``MAX_TEXT_CHARS`` characters of text once scripts, styles, SVG and templates are dropped (trafilatura's fast
path is linear in elements, 20-40 µs each, and near-linear in text up to a few megabytes), and
trafilatura's fallback extractors, which are quadratic in the number of blocks, only on pages of at most
``MAX_FALLBACK_NODES`` elements. Measured with ``bench/extract_worst_case.py`` (19 hostile shapes, each at
the largest size accepted) on a 2-core development VM: at most 1.2 s of CPU and 51 MB of memory growth for a
page that is extracted (30,000 elements of ``<div><p>word</p></div>``), at most 0.6 s and 140 MB for a 5 MB
page refused as too complex (parsing it is most of that cost).
"""
from __future__ import annotations

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

from .content import (
    MAX_DAMAGE_SHARE,
    TextQuality,
    binary_signature,
    decode_html,
    remove_control_characters,
    truncation,
)
from .domains import registrable_domain
from .errors import DamagedContentError, ExtractionError, InvalidURLError, TruncatedContentError
from .urls import host_of, normalize_url

LOGGER = logging.getLogger(__name__)

#: The largest page extracted, in bytes (or characters, for text): the fetcher's default cap.
MAX_HTML_BYTES = 5 * 1024 * 1024
#: The most elements a page may have once scripts, styles, SVG and templates are dropped. News pages have a
#: few thousand; a page with more is refused rather than extracted at length.
MAX_NODES = 30_000
#: The most text (characters) a page may hold once scripts, styles, SVG and templates are dropped: a long
#: read has 50,000. Trafilatura's cost grows faster than linearly in the text beyond a few megabytes.
MAX_TEXT_CHARS = 1_000_000
#: Below this many characters the fast extraction is retried with trafilatura's fallback extractors...
MIN_FAST_TEXT_CHARS = 250
#: ...but only on pages of at most this many elements: the fallback's cost grows with the square of the
#: number of blocks (640 KB of <div><p>word</p></div> took 37 s).
MAX_FALLBACK_NODES = 5_000
MAX_AUTHORS = 10
MAX_JSON_LD_SCRIPTS = 20
#: Dates before this year are not publication dates of news on the web.
MIN_YEAR = 1990

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
_COUNT_ELEMENTS = etree.XPath("count(//*)")
_COUNT_CHARACTERS = etree.XPath("string-length(/*)")
#: Never article text; dropped (after the metadata is read) from a page with too many elements.
_NEVER_TEXT = ("script", "style", "svg", "template", "math")
#: In order of preference, each on its own: a union of these is sorted into document order, which libxml2
#: does in quadratic time (3 s on a 5 MB page of 1,000 articles).
_TIME_DATETIMES = tuple(etree.XPath(path) for path in (
    "(//*[@itemprop='datePublished'][@datetime])[1]/@datetime",
    "(//time[@pubdate][@datetime])[1]/@datetime",
    "(//time[@datetime][ancestor::article])[1]/@datetime",
))
_META_KEYS = ("property", "name", "itemprop", "http-equiv")
_PUBLISHED_META = (
    "article:published_time", "og:article:published_time", "datepublished", "og:published_time",
    "parsely-pub-date", "sailthru.date", "pubdate", "publishdate", "publish-date", "dc.date.issued",
    "dcterms.issued", "dc.date", "dcterms.date", "date",
)
_AUTHOR_META = ("author", "article:author", "parsely-author", "sailthru.author", "dc.creator", "byl")

_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*>")
_LANGUAGE = re.compile(r"^([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]{1,8})*$")
_BYLINE_PREFIX = re.compile(r"^\s*(?:by|von|par|por|di|door)\s+", re.IGNORECASE)
_AUTHOR_SEPARATORS = re.compile(r"\s*(?:;|\||,|\band\b|&)\s*")
_TITLE_SEPARATORS = (" | ", " - ", " – ", " — ", " :: ", " · ")


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
    #: How clean the text is: store it when nothing better is stored, prefer a later fetch that is better.
    quality: TextQuality | None = None


@dataclass(frozen=True)
class _Page:
    text: str
    encoding: str
    source: str
    controls: int


def extract_article(html: bytes | str, url: str, *, feed_outlet_domain: str | None = None,
                    encoding: str | None = None, outlet_aliases: tuple[str, ...] | list[str] = ()) -> ExtractedArticle:
    """Extract the article of the page at ``url``.

    ``feed_outlet_domain`` is the domain of the outlet whose feed listed this page (its canonical URL may
    point there), ``outlet_aliases`` that outlet's other domains (``huffingtonpost.com`` for ``huffpost.com``:
    a canonical there is the outlet's own); ``encoding`` is the charset from the HTTP Content-Type, if any.
    Raises ``ExtractionError`` for binary data, oversized or overcomplex pages and pages without article text
    (``TruncatedContentError`` for a page cut off at its end, ``DamagedContentError`` for one that is not clean
    text), and ``InvalidURLError`` for a bad ``url``; never anything else, whatever the page.
    """
    page_url = normalize_url(url)
    page = _decode(html, encoding, page_url)
    try:
        tree = lxml.html.document_fromstring(page.text, parser=_HTML_PARSER)
    except (etree.LxmlError, ValueError) as exc:
        raise ExtractionError(f"cannot parse the page at {page_url}: {exc}") from None
    if tree is None or not isinstance(tree.tag, str):
        raise ExtractionError(f"the page at {page_url} has no HTML document")

    meta = _meta_tags(tree)
    ld = _json_ld_article(tree)
    site_name = _clean(meta.get("og:site_name")) or _clean(_name_of(ld.get("publisher"))) or _clean(
        meta.get("application-name")) or None
    title = _title(tree, meta, ld, site_name)
    published = _first_date(ld.get("datePublished"), ld.get("dateCreated"),
                            *(meta.get(key) for key in _PUBLISHED_META))
    if published is None:  # the <time> elements only when the page gives no date for machines
        published = _first_date(*(value for path in _TIME_DATETIMES for value in path(tree)))
    authors = _authors(ld.get("author"), *(meta.get(key) for key in _AUTHOR_META))
    language = _language(_HTML_LANG(tree), meta.get("content-language"), meta.get("og:locale"),
                         ld.get("inLanguage"))
    canonical = _trusted_canonical(page_url, (feed_outlet_domain, *outlet_aliases), _CANONICAL_HREFS(tree),
                                   meta.get("og:url"), _url_of(ld.get("url")), _url_of(ld.get("mainEntityOfPage")))

    nodes = _within_limits(tree, page_url)

    need_metadata = not title or published is None
    document = _run_trafilatura(tree, page_url, fast=True, with_metadata=need_metadata)
    if need_metadata and document is not None:
        # Not its site name: without og:site_name or a JSON-LD publisher, trafilatura offers the host name.
        title = title or _clean(document.title)
        published = published or _first_date(document.date)
        authors = authors or _authors(document.author)
    body = _text_of(document)
    if len(body) < MIN_FAST_TEXT_CHARS and nodes <= MAX_FALLBACK_NODES:
        slower = _text_of(_run_trafilatura(tree, page_url, fast=False, with_metadata=False))
        if len(slower) > len(body):
            body = slower
    headline, _, rest = body.partition("\n")
    if title and rest and _clean(headline).casefold() == title.casefold():
        body = rest.strip()  # the <h1> inside the article is the title, not the text
    if not body:
        raise ExtractionError(f"no article text found in the page at {page_url}")
    replaced = body.count("\ufffd")
    if replaced > MAX_DAMAGE_SHARE * len(body):
        raise DamagedContentError(f"the text of the page at {page_url} is damaged: {replaced} of its "
                                  f"{len(body)} characters could not be decoded as {page.encoding}")
    return ExtractedArticle(
        url=page_url,
        canonical_url=canonical,
        title=title,
        text=body,
        published=published,
        authors=authors,
        language=language,
        site_name=site_name,
        quality=TextQuality(encoding=page.encoding, encoding_source=page.source, replaced=replaced,
                            controls=page.controls, length=len(body)),
    )


def _decode(html: bytes | str, encoding: str | None, page_url: str) -> _Page:
    """The page as text that an XML tree can hold; refuses binary, damaged and cut-off pages."""
    if isinstance(html, str):
        if len(html) > MAX_HTML_BYTES:
            raise ExtractionError(f"page too large: {len(html)} characters, the limit is {MAX_HTML_BYTES}")
        text, codec, source = html, "text", "text"
    elif isinstance(html, bytes | bytearray | memoryview):
        data = bytes(html)
        if len(data) > MAX_HTML_BYTES:
            raise ExtractionError(f"page too large: {len(data)} bytes, the limit is {MAX_HTML_BYTES}")
        binary = binary_signature(data)
        if binary:
            raise ExtractionError(f"not an HTML page: it looks like {binary}")
        try:
            decoded = decode_html(data, encoding)
        except LookupError as exc:
            raise ExtractionError(f"cannot decode the page at {page_url}: {exc}") from None
        text, codec, source = decoded.text, decoded.encoding, decoded.source
    else:
        raise TypeError(f"html must be bytes or str, not {type(html).__name__}")
    if "<" not in text[:65536]:
        raise ExtractionError("not an HTML page: no markup found")
    cut = truncation(text)
    if cut:
        raise TruncatedContentError(f"the page at {page_url} is cut off ({cut}, and it has no </body> or "
                                    "</html>); fetch it again later")
    if "\x00" in text:
        raise DamagedContentError(f"the page at {page_url} contains NUL bytes: it is binary data, or was "
                                  "damaged on its way")
    text = _XML_DECLARATION.sub("", text, count=1)
    text, controls = remove_control_characters(text)
    if controls > MAX_DAMAGE_SHARE * len(text):
        raise DamagedContentError(f"the page at {page_url} is damaged: {controls} control characters")
    return _Page(text, codec, source, controls)


def _within_limits(tree: lxml.html.HtmlElement, page_url: str) -> int:
    """The number of elements of the page; ``ExtractionError`` past ``MAX_NODES`` or ``MAX_TEXT_CHARS``,
    counted without scripts, styles, SVG and templates (which are dropped only from such a large page)."""
    nodes, chars = int(_COUNT_ELEMENTS(tree)), int(_COUNT_CHARACTERS(tree))
    if nodes > MAX_NODES or chars > MAX_TEXT_CHARS:
        etree.strip_elements(tree, *_NEVER_TEXT, with_tail=False)
        nodes, chars = int(_COUNT_ELEMENTS(tree)), int(_COUNT_CHARACTERS(tree))
    if nodes > MAX_NODES:
        raise ExtractionError(f"the page at {page_url} is too complex to extract: {nodes} elements, "
                              f"the limit is {MAX_NODES}")
    if chars > MAX_TEXT_CHARS:
        raise ExtractionError(f"the page at {page_url} has too much text to extract: {chars} characters, "
                              f"the limit is {MAX_TEXT_CHARS}")
    return nodes


def _text_of(document) -> str:
    text = getattr(document, "text", None) if document is not None else None
    return text.strip() if isinstance(text, str) else ""


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
    except Exception as exc:  # noqa: BLE001 - a third-party extractor failing on one hostile page
        LOGGER.warning("trafilatura failed on %s: %s: %s", url, type(exc).__name__, exc)
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
            types = {types} if isinstance(types, str) else {t for t in types if isinstance(t, str)} \
                if isinstance(types, list) else set()
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
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    if not MIN_YEAR <= when.year <= datetime.now(UTC).year + 1:
        return None  # also keeps year 1 and 9999 away from a time-zone shift that would overflow
    when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    if when > datetime.now(UTC) + timedelta(days=2):
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
