"""Article extraction from canned pages: clutter, metadata, canonical trust, encodings, hostile input."""
from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from newstilt.errors import ExtractionError, InvalidURLError
from newstilt.extract import MAX_HTML_BYTES, ExtractedArticle, extract_article

from .conftest import resource

PAGE_URL = "https://www.dailyledger.example/politics/2025/06/10/senate-infrastructure-bill/?utm_source=rss"
SHARED_DATA = Path(os.environ.get("NEWSTILT_SHARED_DIR", Path(__file__).parents[3] / "shared")) / "data"


def test_cluttered_article():
    article = extract_article(resource("article-cluttered.html"), PAGE_URL)

    assert isinstance(article, ExtractedArticle)
    assert article.url == "https://www.dailyledger.example/politics/2025/06/10/senate-infrastructure-bill/"
    assert article.canonical_url == article.url
    assert article.title == "Senate passes infrastructure bill after overnight session"
    assert article.published == datetime(2025, 6, 10, 18, 30, tzinfo=UTC)
    assert article.authors == ("Maria Alvarez", "Dev Patel")
    assert article.language == "en"
    assert article.site_name == "The Daily Ledger"

    text = article.text
    assert text.startswith("The Senate voted 68 to 31 early Tuesday")
    assert "The measure now heads to the House of Representatives" in text
    for clutter in ("Subscribe for $1", "Share on Facebook", "Related stories", "142 Comments",
                    "PatriotEagle76", "waste of taxpayer money", "Join the conversation",
                    "All rights reserved", "Privacy Policy", "We use cookies", "Sign up", "Advertisement",
                    "dataLayer"):
        assert clutter not in text, clutter


def test_forged_cross_site_canonical_is_ignored():
    url = "https://health-truths.example/2025/06/vaccine-study"
    article = extract_article(resource("article-forged-canonical.html"), url)
    assert article.canonical_url == url  # not nytimes.com: the page cannot claim another site's article
    assert article.published == datetime(2025, 6, 10, tzinfo=UTC)
    assert "peer reviewed" in article.text


def test_canonical_on_the_listing_outlets_site_is_trusted():
    """A feed of nytimes.com listing a page on a mirror: the outlet vouches for the canonical."""
    url = "http://127.0.0.1:8800/a/nytimes.com/123"
    page = resource("article-forged-canonical.html")
    article = extract_article(page, url, feed_outlet_domain="nytimes.com")
    assert article.canonical_url == "https://www.nytimes.com/2025/06/10/health/vaccine-study.html"
    other = extract_article(page, url, feed_outlet_domain="bbc.co.uk")
    assert other.canonical_url == url


def test_canonical_on_another_host_of_the_same_site_is_trusted():
    html = resource("article-cluttered.html").replace(
        b'<link rel="canonical" href="https://www.dailyledger.example/',
        b'<link rel="canonical" href="https://dailyledger.example/')
    article = extract_article(html, "https://amp.dailyledger.example/politics/x/")
    assert article.canonical_url == "https://dailyledger.example/politics/2025/06/10/senate-infrastructure-bill/"


def test_relative_canonical_resolves_against_the_page():
    html = resource("article-cluttered.html").replace(
        b'href="https://www.dailyledger.example/politics/2025/06/10/senate-infrastructure-bill/">',
        b'href="/politics/senate-bill/">', 1)
    article = extract_article(html, "https://www.dailyledger.example/p?id=48213")
    assert article.canonical_url == "https://www.dailyledger.example/politics/senate-bill/"


def test_platform_subdomains_are_different_sites():
    html = (b'<html><head><link rel="canonical" href="https://victim.github.io/post/"></head><body><article>'
            + b"<p>" + b"A long enough paragraph of article text for the extractor to keep. " * 8 + b"</p>"
            + b"</article></body></html>")
    article = extract_article(html, "https://attacker.github.io/post/")
    assert article.canonical_url == "https://attacker.github.io/post/"


def test_latin1_page_with_meta_charset():
    article = extract_article(resource("article-latin1.html"), "https://petitjournal.example.fr/culture/m.html")
    assert article.title == "Le maire inaugure la nouvelle médiathèque"
    assert "la médiathèque municipale a ouvert ses portes" in article.text
    assert "« C'est un lieu pour tous »" in article.text
    assert "Accueil" not in article.text
    assert article.published == datetime(2025, 6, 8, 8, 0, tzinfo=UTC)
    assert article.site_name == "Le Petit Journal"


def test_http_charset_hint_is_used():
    html = "<html><body><article><p>" + "Zürich und Genève sind Städte. " * 12 + "</p></article></body>"
    article = extract_article(html.encode("cp1252"), "https://example.ch/a", encoding="windows-1252")
    assert "Zürich und Genève" in article.text
    assert extract_article(html, "https://example.ch/a").text == article.text  # str input works too


def test_page_without_a_date_or_metadata():
    html = ("<html><body><h1>Quiet headline</h1><div><p>"
            + "Nothing in this page says when it was written, and that is fine. " * 6
            + "</p></div></body></html>")
    article = extract_article(html, "https://quiet.example/story")
    assert article.published is None
    assert article.title == "Quiet headline"
    assert article.language is None and article.site_name is None and article.authors == ()


@pytest.mark.parametrize("name", ["garbage.png", "garbage.bin"])
def test_binary_garbage_is_refused(name):
    with pytest.raises(ExtractionError, match="not an HTML page"):
        extract_article(resource(name), "https://example.com/a")


def test_pdf_is_refused():
    with pytest.raises(ExtractionError, match="PDF"):
        extract_article(b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", "https://example.com/a.pdf")


def test_huge_input_is_refused_before_parsing():
    html = b"<html><body><p>" + b"a" * MAX_HTML_BYTES + b"</p></body></html>"
    started = time.perf_counter()
    with pytest.raises(ExtractionError, match="too large"):
        extract_article(html, "https://example.com/a")
    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize("html", [
    b"",
    b"plain text, no markup at all",
    resource("no-article.html"),
    b"<html><body>" + b"<div>" * 20000 + b"deep" + b"</div>" * 20000 + b"</body></html>",
    b"<html><body><p>unclosed <b><i><table><tr><td>cell" + b"<p>para" * 3000,
    b"<?xml version='1.0' encoding='utf-8'?><html xmlns='http://www.w3.org/1999/xhtml'><body></body></html>",
    "<html><body>\x00\x01\x02<p>nul bytes in a str</p></body></html>",
])
def test_hostile_or_empty_pages_raise_extraction_error_only(html):
    try:
        article = extract_article(html, "https://example.com/a")
    except ExtractionError:
        return
    assert isinstance(article.text, str) and article.text


def test_xhtml_with_xml_declaration_is_read():
    html = ("<?xml version='1.0' encoding='utf-8'?><html xmlns='http://www.w3.org/1999/xhtml'><head>"
            "<title>XHTML news</title></head><body><article><p>"
            + "An article served as XHTML with an XML declaration in front. " * 6
            + "</p></article></body></html>").encode()
    article = extract_article(html, "https://xhtml.example/a")
    assert article.title == "XHTML news" and "served as XHTML" in article.text


def test_bad_page_url_is_an_invalid_url():
    with pytest.raises(InvalidURLError):
        extract_article(resource("article-cluttered.html"), "javascript:alert(1)")


@pytest.mark.skipif(not (SHARED_DATA / "stories-dev.jsonl").exists(),
                    reason="the shared newsnet data (../shared/data/stories-dev.jsonl) is not present")
def test_newsnet_pages_extract_with_trusted_canonical():
    """Pages rendered the way tools/newsnet.py serves them: clutter around real article text."""
    import importlib.util
    import json
    from types import SimpleNamespace

    spec = importlib.util.spec_from_file_location("newsnet", SHARED_DATA.parent / "tools" / "newsnet.py")
    newsnet = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(newsnet)
    with open(SHARED_DATA / "stories-dev.jsonl", encoding="utf-8") as lines:
        articles = {(a["domain"], str(a["id"])): a for a in map(json.loads, lines) if a.get("text")}
    net = newsnet.NewsNet(articles, "http://127.0.0.1:8800", SimpleNamespace(seed=0, feed_limit=50))
    for (domain, ident), source in list(articles.items())[:20]:
        page = net.page(domain, ident).encode()
        article = extract_article(page, net.page_url(source), feed_outlet_domain=domain)
        assert article.text and source["text"].split()[0] in article.text
        assert "Log in to join the conversation" not in article.text
        if source.get("url"):
            assert article.canonical_url != article.url  # the outlet's own address, vouched for by its feed
