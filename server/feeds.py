"""RSS (0.9x, 1.0, 2.0), Atom and OPML parsing, hardened against hostile XML.

Feeds come from the open web, so before any XML parser sees a document, ``_harden`` decodes it itself, in
the encoding an XML parser would use (a byte order mark, then the HTTP charset, then the XML declaration, read
in whatever byte pattern the document starts with: ASCII-compatible, UTF-16/32 without a mark, EBCDIC), and
reads the prolog (the part before the root element) of that *text*: a DOCTYPE that declares entities
(``<!ENTITY``, the billion-laughs and external-entity attacks) is refused at once with ``FeedError``, and any
other DOCTYPE is cut out. The parsers then get the checked text as UTF-8, its declaration saying so, so no
parser can read the bytes another way (EBCDIC, UTF-7, UTF-16 and UTF-32 feeds used to carry their entities
past a check that read the bytes as latin-1), load a DTD, expand a declared entity or reach the network. On
top of that, feedparser disables external entities and OPML goes through an lxml parser with
``resolve_entities=False, no_network=True, load_dtd=False``.

A broken entry (no link, a link that is not http(s), junk) is skipped with a logged warning; it never sinks
the feed. A document that is not a feed at all raises ``FeedError``.
"""
from __future__ import annotations

import codecs
import io
import logging
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import feedparser
import lxml.html
from lxml import etree

from .content import binary_signature
from .domains import normalise_key
from .errors import FeedError, InvalidURLError
from .urls import clean_url, normalize_url

LOGGER = logging.getLogger(__name__)

MAX_FEED_BYTES = 16 * 1024 * 1024
MAX_TITLE_CHARS = 1_000
MAX_SUMMARY_CHARS = 5_000
MAX_AUTHORS = 20

#: Namespace of newstilt's own OPML attributes: ``<outline newstilt:outlet="foxnews.com" .../>``.
OPML_NS = "https://newstilt.org/ns/opml"
_OUTLET_ATTR = f"{{{OPML_NS}}}outlet"

_XML_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False,
    remove_comments=True, remove_pis=True,
)
_XML_RECOVER_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False,
    remove_comments=True, remove_pis=True, recover=True,
)
_HTML_PARSER = lxml.html.HTMLParser(
    no_network=True, remove_comments=True, remove_pis=True, default_doctype=False
)

_BENIGN_PROBLEMS = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)
_ENTITY_DECLARATION = re.compile(r"<!\s*ENTITY", re.IGNORECASE)
_DOCTYPE_START = re.compile(r"<!DOCTYPE", re.IGNORECASE)
_BARE_AMPERSAND = re.compile(rb"&(?!(?:[A-Za-z_][A-Za-z0-9._-]*|#[0-9]+|#x[0-9A-Fa-f]+);)")
_ELEMENT_START = re.compile(r"<[A-Za-z_:]")
_XML_DECLARATION_ENCODING = re.compile(r"""^(\s*<\?xml[^>]*?encoding\s*=\s*)(["'])[^"']*\2""")
_DECLARED_ENCODING = re.compile(r"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:\-]{1,40})["']""")
_HTML_MEDIA_TYPES = ("text/html", "application/xhtml+xml", "html", "xhtml")
#: Byte order marks (authoritative), longest first.
_BOMS = (
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xfe\xff", "utf-16-be"),
    (b"\xff\xfe", "utf-16-le"),
)
#: How the first characters look in each family of encodings (XML 1.0, appendix F), when there is no mark:
#: the codec to read the XML declaration with (the declaration may then name a more specific one).
_XML_STARTS = (
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00<\x00?", "utf-16-be"),
    (b"<\x00?\x00", "utf-16-le"),
    (b"\x4c\x6f\xa7\x94", "cp037"),  # "<?xm" in EBCDIC
)


@dataclass(frozen=True)
class FeedEntry:
    """One item of a feed: ``url`` is the article's identity (``normalize_url``), text fields plain text."""

    url: str
    title: str
    summary: str
    content_html: str | None
    published: datetime | None
    authors: tuple[str, ...]
    guid: str | None


@dataclass(frozen=True)
class ParsedFeed:
    """A parsed feed. ``skipped`` counts the broken entries left out."""

    url: str
    title: str
    link: str | None
    description: str
    language: str | None
    updated: datetime | None
    version: str
    entries: tuple[FeedEntry, ...]
    skipped: int = 0
    #: False when the document was not well-formed and only what could be read was kept (a transfer cut off
    #: midway, a broken generator): the entries are usable, but the feed may hold more.
    well_formed: bool = True


@dataclass(frozen=True)
class OPMLFeed:
    """A feed listed in an OPML file; ``outlet`` is the ``newstilt:outlet`` key, own or inherited."""

    xml_url: str
    title: str
    html_url: str | None
    outlet: str | None


class _SkipEntry(Exception):
    """Raised inside entry conversion: this entry is broken, the feed is not."""


def parse_feed(body: bytes, url: str, *, content_type: str | None = None) -> ParsedFeed:
    """Parse an RSS or Atom document fetched from ``url`` (the base for relative links).

    ``content_type`` is the HTTP Content-Type, if known (its charset helps decoding). Raises ``FeedError``
    for a document that is unsafe or not a feed.
    """
    base = clean_url(url)
    media_type, charset = _media_type_and_charset(content_type)
    data = _harden(body, "feed", charset)
    # The document is UTF-8 now, whatever it was: say so, so that feedparser does not read it another way.
    headers = {"content-location": base, "content-type": f"{media_type}; charset=utf-8"}
    # A stream, never bytes: given bytes, feedparser first tries to open them as a local file name.
    parsed = feedparser.parse(io.BytesIO(data), response_headers=headers, resolve_relative_uris=True,
                              sanitize_html=True)
    version = _get(parsed, "version") or ""
    raw_entries = _get(parsed, "entries") or []
    problem = _get(parsed, "bozo_exception")
    well_formed = True
    if not version and not raw_entries:
        raise FeedError(f"{base} is not an RSS or Atom feed" + (f": {problem}" if problem else ""))
    if isinstance(problem, _BENIGN_PROBLEMS):
        LOGGER.debug("feed %s: %s", base, problem)
    elif _get(parsed, "bozo"):
        LOGGER.info("feed %s is not well-formed (%s); keeping what could be read", base, problem)
        well_formed = False

    entries: list[FeedEntry] = []
    seen: set[str] = set()
    skipped = 0
    for index, raw in enumerate(raw_entries):
        try:
            entry = _entry(raw)
        except (_SkipEntry, InvalidURLError, ValueError, TypeError, KeyError, AttributeError) as exc:
            skipped += 1
            LOGGER.warning("skipping entry %d of feed %s: %s", index, base, exc)
            continue
        if entry.url in seen:
            continue
        seen.add(entry.url)
        entries.append(entry)

    feed = _get(parsed, "feed") or {}
    language = _get(feed, "language")
    return ParsedFeed(
        url=base,
        title=_plain_text(_get(feed, "title"), MAX_TITLE_CHARS),
        link=_optional_url(_get(feed, "link")),
        description=_plain_text(_get(feed, "subtitle"), MAX_SUMMARY_CHARS),
        language=language.strip()[:35] or None if isinstance(language, str) else None,
        updated=_utc(_get(feed, "updated_parsed") or _get(feed, "published_parsed")),
        version=version,
        entries=tuple(entries),
        skipped=skipped,
        well_formed=well_formed,
    )


def parse_opml(body: bytes) -> list[OPMLFeed]:
    """The feeds of an OPML subscription list, in document order, each once.

    Nested outlines are walked; an outline's ``newstilt:outlet`` applies to every feed below it unless one of
    them names its own. Raises ``FeedError`` for a document that is unsafe or not OPML.
    """
    data = _harden(body, "OPML")
    try:
        root = etree.fromstring(data, _XML_PARSER)
    except etree.XMLSyntaxError as exc:
        LOGGER.warning("OPML is not well-formed (%s); reading what can be recovered", exc)
        # The usual fault is a bare & in a URL; escape those rather than let recovery drop what follows.
        data = _BARE_AMPERSAND.sub(b"&amp;", data)
        try:
            root = etree.fromstring(data, _XML_RECOVER_PARSER)
        except etree.XMLSyntaxError:
            root = None
    if root is None or not isinstance(root.tag, str) or etree.QName(root).localname.lower() != "opml":
        raise FeedError("not an OPML document (no <opml> root element)")

    feeds: list[OPMLFeed] = []
    seen: set[str] = set()
    stack: list[tuple[etree._Element, str | None]] = [(child, None) for child in reversed(root)]
    while stack:
        element, inherited = stack.pop()
        if not isinstance(element.tag, str):
            continue
        outlet = inherited
        if etree.QName(element).localname.lower() == "outline":
            outlet = _outlet(element, inherited)
            feed = _opml_feed(element, outlet)
            if feed is not None and feed.xml_url not in seen:
                seen.add(feed.xml_url)
                feeds.append(feed)
        stack.extend((child, outlet) for child in reversed(element))
    return feeds


def _harden(body: bytes, what: str, http_charset: str | None = None) -> bytes:
    """The document as UTF-8 saying so, once entity declarations are refused and any DOCTYPE is cut out."""
    if isinstance(body, str):
        text = body.lstrip("\ufeff")
    elif isinstance(body, bytes | bytearray | memoryview):
        body = bytes(body)
        if len(body) > MAX_FEED_BYTES:
            raise FeedError(f"the {what} is too large: {len(body)} bytes, the limit is {MAX_FEED_BYTES}")
        binary = binary_signature(body)
        if binary:
            raise FeedError(f"the {what} is not XML: it looks like {binary}")
        text = _decode_xml(body, what, http_charset)
    else:
        raise TypeError(f"the {what} must be bytes, not {type(body).__name__}")
    if not text.strip():
        raise FeedError(f"the {what} is empty")
    if "\x00" in text:
        raise FeedError(f"the {what} is not XML: it contains NUL characters")

    start, end = _doctype_span(text, what)
    if start is not None:
        if _ENTITY_DECLARATION.search(text, start, end):
            raise FeedError(f"the {what} declares XML entities (<!ENTITY>); refused, as entity declarations "
                            "are how entity-expansion ('billion laughs') and external-entity attacks work")
        LOGGER.debug("removing the DOCTYPE of a %s", what)
        text = text[:start] + text[end:]
    return _XML_DECLARATION_ENCODING.sub(r"\1\2utf-8\2", text, count=1).encode("utf-8", "replace")


def _decode_xml(body: bytes, what: str, http_charset: str | None) -> str:
    """The text of an XML document, in the encoding an XML parser would read it with: a byte order mark, the
    HTTP charset, the encoding its declaration names (read in the byte pattern the document starts with),
    UTF-8. A byte invalid in that encoding becomes U+FFFD; it never makes the reading switch encodings."""
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return body[len(bom):].decode(codec, "replace")
    family = next((codec for start, codec in _XML_STARTS if body.startswith(start)), None)
    if family is not None and family.startswith("utf-"):
        return body.decode(family, "replace")  # "<" as UTF-16/32 without a mark: no label can say otherwise
    head = body[:1024].decode(family or "latin-1", "replace")
    declared = _DECLARED_ENCODING.match(head)
    for label in (http_charset, declared.group(1) if declared else None):
        codec = _text_codec(label)
        if codec is not None:
            return body.decode(codec, "replace").lstrip("\ufeff")
        if label:
            LOGGER.info("the %s names an encoding Python cannot decode text with: %r", what, label[:40])
    return body.decode(family or "utf-8", "replace").lstrip("\ufeff")


def _text_codec(label: str | None) -> str | None:
    """The Python codec of a text encoding label (``cp037``, ``utf-7``, ``iso-8859-1``), or None; never one of
    Python's bytes-to-bytes codecs (base64, zlib, ...)."""
    if not label or not label.strip() or len(label) > 40:
        return None
    try:
        info = codecs.lookup(label.strip().strip("\"'"))
    except (LookupError, ValueError):
        return None
    return info.name if getattr(info, "_is_text_encoding", True) else None


def _doctype_span(text: str, what: str) -> tuple[int | None, int]:
    """Where the DOCTYPE is: in the prolog (declaration, comments, PIs) as an XML parser reads it, or, in a
    malformed document, anywhere before the first element, where lenient parsers still look for one."""
    pos, length = 0, len(text)
    while pos < length:
        if text[pos] in " \t\r\n\ufeff":
            pos += 1
        elif text.startswith("<?", pos):
            end = text.find("?>", pos + 2)
            if end < 0:
                break
            pos = end + 2
        elif text.startswith("<!--", pos):
            end = text.find("-->", pos + 4)
            if end < 0:
                break
            pos = end + 3
        elif _DOCTYPE_START.match(text, pos):
            return pos, _doctype_end(text, pos, what)
        else:
            break
    first_element = _ELEMENT_START.search(text)
    head_end = first_element.start() if first_element else length
    doctype = _DOCTYPE_START.search(text, 0, head_end)
    if doctype is not None:
        return doctype.start(), _doctype_end(text, doctype.start(), what)
    if _ENTITY_DECLARATION.search(text, 0, head_end):
        raise FeedError(f"the {what} has entity declarations outside a DOCTYPE; refused")
    return None, 0


def _doctype_end(text: str, pos: int, what: str) -> int:
    """The index just past the ``>`` closing the DOCTYPE at ``pos`` (internal subset, quotes, comments)."""
    i, depth, quote = pos + len("<!DOCTYPE"), 0, ""
    while i < len(text):
        char = text[i]
        if quote:
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif depth and text.startswith("<!--", i):
            end = text.find("-->", i + 4)
            if end < 0:
                break
            i = end + 3
            continue
        elif char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
        elif char == ">" and depth <= 0:
            return i + 1
        i += 1
    raise FeedError(f"the {what} has an unterminated DOCTYPE")


def _media_type_and_charset(content_type: str | None) -> tuple[str, str | None]:
    """``("application/rss+xml", "iso-8859-1")`` from a Content-Type; ``application/xml`` when absent."""
    media_type, *params = (content_type or "").split(";")
    charset = None
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip("\"'")
    media_type = media_type.strip().lower()
    return (media_type if "/" in media_type else "application/xml"), charset


def _entry(raw: dict) -> FeedEntry:
    link = _get(raw, "link")
    if not isinstance(link, str) or not link.strip():
        raise _SkipEntry("it has no link")
    content_html = None
    for content in _get(raw, "content") or ():
        if (content.get("type") or "").lower() in _HTML_MEDIA_TYPES and content.get("value"):
            content_html = content["value"]
            break
    guid = _get(raw, "id")
    guid = guid.strip()[:2048] or None if isinstance(guid, str) else None
    return FeedEntry(
        url=normalize_url(link),
        title=_plain_text(_get(raw, "title"), MAX_TITLE_CHARS),
        summary=_plain_text(_get(raw, "summary"), MAX_SUMMARY_CHARS),
        content_html=content_html,
        published=_utc(_get(raw, "published_parsed") or _get(raw, "updated_parsed")),
        authors=_authors(raw),
        guid=guid,
    )


def _authors(raw: dict) -> tuple[str, ...]:
    """Names from the entry's author list; its single ``author`` string only when there is no list."""
    candidates: list[object] = [a.get("name") for a in _get(raw, "authors") or () if isinstance(a, dict)]
    if not any(candidates):
        candidates = [_get(raw, "author")]
    names: list[str] = []
    for name in candidates:
        text = _plain_text(name, 200)
        if text and text.casefold() not in {n.casefold() for n in names}:
            names.append(text)
    return tuple(names[:MAX_AUTHORS])


def _get(mapping: dict, key: str) -> object:
    """A value feedparser stored under ``key``, bypassing its key aliases (they warn, and guess)."""
    return dict.get(mapping, key)


def _plain_text(value: object, limit: int) -> str:
    """Text of a feed field that may hold HTML, whitespace collapsed, at most ``limit`` characters."""
    if not isinstance(value, str) or not value.strip():
        return ""
    if "<" in value or "&" in value:
        try:
            fragment = lxml.html.fragment_fromstring(value, create_parent="div", parser=_HTML_PARSER)
            value = fragment.text_content()
        except (etree.ParserError, ValueError):
            pass
    return " ".join(value.split())[:limit]


def _utc(value: time.struct_time | None) -> datetime | None:
    """feedparser's parsed dates are UTC struct_times; junk ones become None."""
    if not value:
        return None
    try:
        return datetime(*value[:6], tzinfo=UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def _optional_url(value: object) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return clean_url(value)
    except InvalidURLError:
        return None


def _outlet(element: etree._Element, inherited: str | None) -> str | None:
    value = element.get(_OUTLET_ATTR)
    if value is None or not value.strip():
        return inherited
    try:
        return normalise_key(value)
    except InvalidURLError as exc:
        LOGGER.warning("ignoring newstilt:outlet=%r in OPML: %s", value, exc)
        return inherited


def _opml_feed(element: etree._Element, outlet: str | None) -> OPMLFeed | None:
    attributes = {name.lower(): value for name, value in element.attrib.items() if not name.startswith("{")}
    xml_url = (attributes.get("xmlurl") or "").strip()
    if not xml_url:
        return None
    try:
        xml_url = clean_url(xml_url)
    except InvalidURLError as exc:
        LOGGER.warning("skipping OPML outline with xmlUrl=%r: %s", xml_url[:200], exc)
        return None
    title = _plain_text(attributes.get("title") or attributes.get("text"), MAX_TITLE_CHARS)
    return OPMLFeed(xml_url=xml_url, title=title, html_url=_optional_url(attributes.get("htmlurl")),
                    outlet=outlet)
