"""Feed and OPML parsing: the formats in the wild, broken input, and hostile XML."""
from __future__ import annotations

import base64
import logging
import time
from datetime import UTC, datetime

import pytest

from newstilt.errors import FeedError
from newstilt.feeds import FeedEntry, ParsedFeed, parse_feed, parse_opml

from .conftest import Reply, resource


def test_rss20():
    feed = parse_feed(resource("rss20.xml"), "https://www.dailyledger.example/politics/feed/")

    assert isinstance(feed, ParsedFeed) and feed.version == "rss20"
    assert feed.title == "The Daily Ledger – Politics"
    assert feed.link == "https://www.dailyledger.example/politics/"
    assert feed.description == "Politics coverage from The Daily Ledger"
    assert feed.language == "en-us"
    assert feed.updated == datetime(2025, 6, 10, 19, 5, tzinfo=UTC)
    assert len(feed.entries) == 3 and feed.skipped == 0

    first, second, third = feed.entries
    assert isinstance(first, FeedEntry)
    # Tracking parameters are gone; the time zone is folded into UTC.
    assert first.url == "https://www.dailyledger.example/politics/2025/06/10/senate-infrastructure-bill/"
    assert first.published == datetime(2025, 6, 10, 18, 30, tzinfo=UTC)
    assert first.published.tzinfo is UTC
    assert first.title == "Senate passes infrastructure bill after overnight session"
    assert first.authors == ("Maria Alvarez",)
    assert first.guid == "https://www.dailyledger.example/?p=48213"
    assert first.summary.startswith("The Senate voted 68–31 early Tuesday to pass a $1.2 trillion")
    assert "<" not in first.summary
    assert "<p>The bill now heads to the House.</p>" in first.content_html
    assert "<script" not in first.content_html  # feedparser's sanitiser

    # A relative link resolves against the feed's address.
    assert second.url == "https://www.dailyledger.example/politics/2025/06/09/governor-voting-law/"
    assert second.published == datetime(2025, 6, 9, 22, 15, tzinfo=UTC)
    assert second.summary == "The law extends early voting to 14 days & adds drop boxes."
    assert second.content_html is None
    assert any("Sam Okafor" in author for author in second.authors)

    assert third.url == "https://www.dailyledger.example/opinion/budget-deal/?page=2"
    assert third.published is None  # "not a date at all"


def test_rss10_rdf():
    feed = parse_feed(resource("rss10.rdf"), "https://science.example.org/rss")
    assert feed.version == "rss10" and feed.title == "Science Wire"
    assert [e.url for e in feed.entries] == ["https://science.example.org/news/2025/06/coral-reefs",
                                             "https://science.example.org/news/2025/06/fusion-milestone"]
    assert feed.entries[0].published == datetime(2025, 6, 8, 7, 0, tzinfo=UTC)
    assert feed.entries[0].authors == ("Ana Lima",)
    assert feed.entries[1].published == datetime(2025, 6, 7, tzinfo=UTC)


def test_rss091_latin1_with_netscape_doctype():
    feed = parse_feed(resource("rss091.xml"), "https://petitjournal.example.fr/rss.xml")
    assert feed.version.startswith("rss09")
    assert feed.title == "Le Petit Journal" and feed.description == "Actualité régionale"
    assert [e.title for e in feed.entries] == ["Le maire inaugure la nouvelle médiathèque",
                                               "Marché de Noël : les dates"]
    assert feed.entries[1].url == "https://petitjournal.example.fr/vie-locale/marche-noel.html"


def test_atom():
    feed = parse_feed(resource("atom.xml"), "https://www.northpost.example/feed.atom",
                      content_type="application/atom+xml")
    assert feed.version == "atom10"
    assert feed.title == "The North Post" and feed.description == "News from the North"
    assert feed.link == "https://www.northpost.example/"
    first, second = feed.entries
    assert first.url == "https://www.northpost.example/news/2025/06/10/flood-defences"  # xml:base applied
    assert first.title == "Flood defences & the new budget"
    assert first.published == datetime(2025, 6, 10, 7, 15, tzinfo=UTC)
    assert first.authors == ("Priya Shah", "Tom Reid")
    assert first.summary == "Councils get £40m for river walls."
    assert "<strong>£40m</strong>" in first.content_html
    assert first.guid == "tag:northpost.example,2025:entry-1001"
    # No <published>: the update time stands in.
    assert second.published == datetime(2025, 6, 9, 17, 45, tzinfo=UTC)
    assert "Unions and operators reached a deal" in second.content_html


def test_broken_entries_are_skipped_not_the_feed(caplog):
    with caplog.at_level(logging.WARNING, logger="newstilt.feeds"):
        feed = parse_feed(resource("broken-entry.xml"), "https://mixedbag.example/feed")
    assert [e.title for e in feed.entries] == ["Harbour reopens after storm", "Ferry timetable changes"]
    assert feed.skipped == 3
    assert sum("skipping entry" in r.getMessage() for r in caplog.records) == 3


def test_malformed_xml_keeps_what_can_be_read(caplog):
    with caplog.at_level(logging.INFO, logger="newstilt.feeds"):
        feed = parse_feed(resource("malformed.xml"), "https://sloppy.example/feed")
    assert not feed.well_formed
    assert feed.title.startswith("Sloppy Times")
    assert "https://sloppy.example/news/audit-response" in [e.url for e in feed.entries]
    assert any("not well-formed" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("body", [
    b"<!DOCTYPE html><html><head><title>Home</title></head><body><p>Welcome</p></body></html>",
    b'{"items": []}',
    b"just some text",
    b"   \n ",
    b"/etc/passwd",  # feedparser would open a local file with this name if handed bytes
])
def test_documents_that_are_not_feeds(body):
    with pytest.raises(FeedError):
        parse_feed(body, "https://example.com/feed")


@pytest.mark.parametrize("name", ["garbage.bin", "garbage.png"])
def test_binary_garbage_is_not_a_feed(name):
    with pytest.raises(FeedError, match="not XML|not an RSS"):
        parse_feed(resource(name), "https://example.com/feed")


def test_billion_laughs_fails_fast_without_expanding():
    started = time.perf_counter()
    with pytest.raises(FeedError, match="entities"):
        parse_feed(resource("billion-laughs.xml"), "https://laughs.example/feed")
    assert time.perf_counter() - started < 0.1


def test_external_entities_are_refused():
    with pytest.raises(FeedError, match="entities"):
        parse_feed(resource("xxe.xml"), "https://innocent.example/feed")


@pytest.mark.parametrize("prefix", [
    "",
    "<!-- <a> looks like an element but is a comment -->\n",
    "<?xml-stylesheet href='x.xsl' type='text/xsl'?>\n",
    "junk before the prolog\n",
])
def test_entity_declarations_cannot_hide_behind_comments_or_junk(prefix):
    body = (prefix + '<!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
            '<rss version="2.0"><channel><title>&b;</title></channel></rss>').encode()
    with pytest.raises(FeedError, match="entit"):
        parse_feed(body, "https://example.com/feed")


def test_utf16_bomb_is_refused_too():
    body = ('<?xml version="1.0" encoding="UTF-16"?>\n<!DOCTYPE rss [<!ENTITY x "x">]>'
            '<rss version="2.0"><channel><title>&x;</title></channel></rss>').encode("utf-16")
    with pytest.raises(FeedError, match="entities"):
        parse_feed(body, "https://example.com/feed")


def test_utf16_feed_is_read():
    text = resource("rss20.xml").decode("utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"')
    body = text.encode("utf-16")
    feed = parse_feed(body, "https://www.dailyledger.example/politics/feed/")
    assert len(feed.entries) == 3 and feed.title == "The Daily Ledger – Politics"


def test_external_dtd_is_never_fetched(http_server):
    http_server.route("/evil.dtd", Reply(200, b'<!ENTITY x "pwned">'))
    body = (f'<?xml version="1.0"?>\n<!DOCTYPE rss SYSTEM "{http_server.url("/evil.dtd")}">\n'
            '<rss version="2.0"><channel><title>Plain</title><link>https://plain.example/</link>'
            '<item><title>One</title><link>https://plain.example/1</link></item></channel></rss>').encode()
    feed = parse_feed(body, "https://plain.example/feed")
    assert feed.title == "Plain" and len(feed.entries) == 1
    assert http_server.hits["/evil.dtd"] == 0


def test_opml_nested_outlines_and_outlet_inheritance():
    feeds = parse_opml(resource("feeds.opml"))
    by_url = {f.xml_url: f for f in feeds}
    assert list(by_url) == [
        "https://www.dailyledger.example/politics/feed/",
        "https://www.dailyledger.example/world/feed/",
        "https://opinion-hub.example/ledger.rss",
        "https://science.example.org/rss",
        "https://www.northpost.example/feed.atom",
        "https://petitjournal.example.fr/rss.xml",
    ]
    politics = by_url["https://www.dailyledger.example/politics/feed/"]
    assert politics.title == "Daily Ledger – Politics"
    assert politics.html_url == "https://www.dailyledger.example/politics/"
    assert politics.outlet == "dailyledger.example"  # inherited from the enclosing outline
    assert by_url["https://www.dailyledger.example/world/feed/"].title == "Daily Ledger World"
    assert by_url["https://www.dailyledger.example/world/feed/"].html_url is None
    # Its own attribute, normalised to an outlet key.
    assert by_url["https://opinion-hub.example/ledger.rss"].outlet == "opinion-hub.example"
    assert by_url["https://science.example.org/rss"].outlet is None
    assert by_url["https://www.northpost.example/feed.atom"].outlet == "northpost.example"
    assert by_url["https://www.northpost.example/feed.atom"].title == "The North Post"  # first listing wins


def test_opml_with_sloppy_ampersands_is_recovered():
    body = (b'<?xml version="1.0"?><opml version="1.0"><body>'
            b'<outline text="A & B" xmlUrl="https://ab.example/rss?a=1&b=2"/></body></opml>')
    feeds = parse_opml(body)
    assert [f.xml_url for f in feeds] == ["https://ab.example/rss?a=1&b=2"]


def test_opml_hardened_like_feeds():
    bomb = (b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
            b'<opml version="2.0"><body><outline text="&b;" xmlUrl="https://x.example/rss"/></body></opml>')
    with pytest.raises(FeedError, match="entities"):
        parse_opml(bomb)


@pytest.mark.parametrize("body", [resource("rss20.xml"), b"<html><body>no</body></html>", b"",
                                  b"\x00\x01\x02"])
def test_documents_that_are_not_opml(body):
    with pytest.raises(FeedError):
        parse_opml(body)


# -- Entity refusal in every encoding (security audit, issue #10) -------------------------------------------

_ENTITY_FEED = ('<?xml version="1.0" encoding="{label}"?>\n'
                '<!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>\n'
                '<rss version="2.0"><channel><title>&b;</title><link>https://x.example/</link>'
                '<item><title>&b;</title><link>https://x.example/1</link></item></channel></rss>')
_CLEAN_FEED = ('<?xml version="1.0" encoding="{label}"?>\n'
               '<rss version="2.0"><channel><title>Caf\u00e9 News</title><link>https://x.example/</link>'
               '<item><title>Na\u00efve headline</title><link>https://x.example/1</link></item></channel></rss>')


def _encoded(template: str, label: str, codec: str, bom: bytes = b"") -> bytes:
    text = template.format(label=label)
    data = text.encode(codec)
    if codec == "utf-7":
        # Python writes "<", ">" and "!" as themselves; a hostile encoder writes them in base64 after a
        # declaration in plain ASCII, so that only a reader that decodes UTF-7 sees the DOCTYPE.
        declaration, rest = text.split("\n", 1)
        data = rest.encode(codec)
        for char in b"<>!":
            data = data.replace(bytes([char]), b"+" + base64.b64encode(chr(char).encode("utf-16-be")).rstrip(b"=")
                                + b"-")
        data = declaration.encode("ascii") + b"\n" + data
    return bom + data


ENCODINGS = [
    # (declared label, Python codec, byte order mark)
    ("IBM037", "cp037", b""),  # EBCDIC: the latin-1 reading of these bytes has no "<!ENTITY"
    ("cp500", "cp500", b""),
    ("UTF-7", "utf-7", b""),  # "<" is "+ADw-"
    ("UTF-16", "utf-16-le", b""),  # no byte order mark: the "<\0?\0" pattern says little-endian
    ("UTF-16", "utf-16-be", b""),
    ("UTF-16", "utf-16-le", b"\xff\xfe"),
    ("UTF-16", "utf-16-be", b"\xfe\xff"),
    ("UTF-32", "utf-32-le", b""),
    ("UTF-32", "utf-32-be", b"\x00\x00\xfe\xff"),
    ("UTF-8", "utf-8", b"\xef\xbb\xbf"),
    ("ISO-8859-1", "latin-1", b""),
]


@pytest.mark.parametrize("label, codec, bom", ENCODINGS)
def test_entity_declarations_are_refused_in_every_encoding(label, codec, bom):
    """The refusal read a latin-1 decoding of the bytes, so EBCDIC and UTF-7 (and UTF-16/32 without a byte
    order mark) feeds carried internal entities through, expanded into titles."""
    with pytest.raises(FeedError, match="entities"):
        parse_feed(_encoded(_ENTITY_FEED, label, codec, bom), "https://x.example/feed")


@pytest.mark.parametrize("label, codec, bom", ENCODINGS)
def test_feeds_in_every_encoding_are_read(label, codec, bom):
    body = _encoded(_CLEAN_FEED, label, codec, bom)
    feed = parse_feed(body, "https://x.example/feed")
    assert feed.title == "Caf\u00e9 News"
    assert [e.title for e in feed.entries] == ["Na\u00efve headline"]


def test_the_http_charset_decides_and_the_check_reads_the_same_text():
    """An HTTP charset of UTF-7 on a document that declares UTF-8: the parser would follow HTTP (RFC 7303),
    so the check does too."""
    body = _encoded(_ENTITY_FEED, "UTF-8", "utf-7")
    assert b"<!" not in body and body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    with pytest.raises(FeedError, match="entities"):
        parse_feed(body, "https://x.example/feed", content_type="application/rss+xml; charset=utf-7")
    clean = _CLEAN_FEED.format(label="UTF-8").encode("cp037")
    feed = parse_feed(clean, "https://x.example/feed", content_type='text/xml; charset="IBM037"')
    assert feed.title == "Caf\u00e9 News"


@pytest.mark.parametrize("label", ["base64", "zlib", "rot13", "no-such-charset", "x" * 60])
def test_an_encoding_label_that_is_no_text_encoding_is_ignored(label):
    body = _CLEAN_FEED.format(label=label).encode("utf-8")
    feed = parse_feed(body, "https://x.example/feed", content_type=f"application/xml; charset={label}")
    assert feed.title == "Caf\u00e9 News"


def test_an_opml_in_ebcdic_with_entities_is_refused():
    body = ('<?xml version="1.0" encoding="IBM037"?><!DOCTYPE opml [<!ENTITY a "x">]>'
            '<opml version="2.0"><body><outline text="&a;" xmlUrl="https://x.example/rss"/></body></opml>')
    with pytest.raises(FeedError, match="entities"):
        parse_opml(body.encode("cp037"))
