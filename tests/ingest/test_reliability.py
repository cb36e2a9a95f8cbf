"""Ingestion under faults: one identity per article, nothing fetched or stored twice, a better text replacing a
worse one, one hostile entry costing only itself, failing feeds backed off and turned off, offline passes."""
from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa

from newstilt.cluster import Clusterer
from newstilt.ingest import Ingestor
from newstilt.ratings import Ratings
from newstilt.storage import article_urls, articles, entry_failures, feeds

from ..conftest import FIXTURE_OUTLETS
from .conftest import Reply
from .test_pipeline import BODY, feed, page

HTML = {"Content-Type": "text/html; charset=utf-8"}
RSS = {"Content-Type": "application/rss+xml"}


@pytest.fixture
def site(http_server, store, make_fetcher):
    """A feed of two items without validators (so every pass reads every entry); pages set per test."""
    base = http_server.base
    items = [("/p1", "Council approves new budget", BODY * 2), ("/p2", "Mayor signs transit plan", BODY * 2)]
    http_server.route("/feed.xml", Reply(200, feed(base, items), RSS))
    for path, title, _ in items:
        http_server.route(path, Reply(200, page(title, f"https://www.nytimes.com/2024/05/07{path}.html"), HTML))
    store.add_feed(f"{base}/feed.xml", "nytimes.com", "The Paper")
    return {"base": base, "server": http_server, "ratings": Ratings(store, FIXTURE_OUTLETS.read_text()),
            "fetcher": make_fetcher()}


def ingestor(store, site, **kwargs):
    kwargs.setdefault("retry_base", 0.0)
    return Ingestor(store, site["ratings"], Clusterer(store), site["fetcher"], **kwargs)


def rows(store):
    with store.connect() as conn:
        return conn.execute(sa.select(articles).order_by(articles.c.id)).all()


def test_a_second_pass_fetches_no_known_page_and_says_nothing_new(store, site):
    """Known was checked against the feed's link but articles were stored under their canonical URL: every pass
    downloaded and extracted every page again, and never reported "nothing new"."""
    first = ingestor(store, site).run_pass()
    assert first.articles_added == 2 and not first.nothing_new
    hits = dict(site["server"].hits)
    second = ingestor(store, site).run_pass()
    assert second.articles_added == 0 and second.articles_known == 2 and second.nothing_new
    assert site["server"].hits["/p1"] == hits["/p1"] and site["server"].hits["/p2"] == hits["/p2"]
    assert second.summary().startswith("nothing new:")
    assert len(rows(store)) == 2
    with store.connect() as conn:  # each article is known by its canonical URL and by the feed's link
        known = dict(conn.execute(sa.select(article_urls.c.url, article_urls.c.article_id)).all())
    assert known[f"{site['base']}/p1"] == known["https://www.nytimes.com/2024/05/07/p1.html"]


def test_a_failed_page_stands_in_from_the_feed_and_is_replaced_in_place_by_the_page(store, site):
    """When a page fetch failed, the feed's text was stored under the feed link and a later pass stored the page
    again under its canonical URL: two rows, listed twice in the story."""
    site["server"].route("/p2", Reply(503, b"busy"))
    first = ingestor(store, site, retry_base=0.0).run_pass()
    assert first.articles_added == 2 and first.feed_text_used == 1
    stand_in = next(r for r in rows(store) if r.text_source == "feed")
    assert stand_in.url == f"{site['base']}/p2" and stand_in.story_id is not None
    site["server"].route("/p2", Reply(200, page("Mayor signs transit plan",
                                                "https://www.nytimes.com/2024/05/07/p2.html"), HTML))
    second = ingestor(store, site).run_pass()
    assert (second.retried, second.articles_replaced, second.articles_added) == (1, 1, 0)
    after = rows(store)
    assert len(after) == 2
    replaced = next(r for r in after if r.id == stand_in.id)
    assert replaced.text_source == "page" and replaced.url == "https://www.nytimes.com/2024/05/07/p2.html"
    assert replaced.story_id == stand_in.story_id and "Paragraph 3" in replaced.text
    with store.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(entry_failures)).scalar() == 0
    third = ingestor(store, site).run_pass()
    assert third.nothing_new and third.retried == 0


def test_a_page_that_keeps_failing_is_given_up_after_its_attempts(store, site):
    site["server"].route("/p2", Reply(503, b"busy"))
    for _ in range(4):
        ingestor(store, site, entry_max_attempts=3).run_pass()
    assert site["server"].hits["/p2"] == 3 * 3  # three attempts, each with the fetcher's two retries
    last = ingestor(store, site, entry_max_attempts=3).run_pass()
    assert last.articles_known == 2 and last.retried == 0 and site["server"].hits["/p2"] == 9


def test_a_failed_page_waits_for_its_backoff(store, site):
    site["server"].route("/p2", Reply(503, b"busy"))
    ingestor(store, site, retry_base=3600).run_pass()
    again = ingestor(store, site, retry_base=3600).run_pass()
    assert again.entries_waiting == 1 and again.retried == 0 and site["server"].hits["/p2"] == 3


def test_one_hostile_entry_costs_only_itself(store, site, monkeypatch):
    """A page whose extraction raised something unexpected killed the whole pass: 0 articles of the feed were
    stored and its status stayed 'never'."""
    import newstilt.ingest as ingest

    original = ingest.extract_article

    def extract(body, url, **kwargs):
        if url.endswith("/p1"):
            raise TypeError("'dict' object is not callable")  # a bug or a hostile page's surprise
        return original(body, url, **kwargs)

    monkeypatch.setattr(ingest, "extract_article", extract)
    stats = ingestor(store, site).run_pass()
    assert stats.articles_added == 1 and stats.entries_failed == 1 and stats.feeds_failed == 0
    assert "TypeError" in stats.errors[0] and stats.error_kinds["TypeError"] == 1
    with store.connect() as conn:
        status = conn.execute(sa.select(feeds.c.last_status, feeds.c.last_fetched_at)).first()
        failure = conn.execute(sa.select(entry_failures)).first()
    assert status.last_fetched_at is not None and "1 not stored" in status.last_status
    assert failure.url == f"{site['base']}/p1" and "TypeError" in failure.last_error
    monkeypatch.setattr(ingest, "extract_article", original)
    again = ingestor(store, site).run_pass()  # retried on the next pass, and stored
    assert again.articles_added == 1 and again.retried == 1 and len(rows(store)) == 2


def test_a_failing_feed_backs_off_and_is_turned_off_after_repeated_failures(store, site):
    site["server"].route("/feed.xml", Reply(503, b"down"))
    first = ingestor(store, site, retry_base=3600).run_pass()
    assert first.feeds_failed == 1
    hits = site["server"].hits["/feed.xml"]
    waiting = ingestor(store, site, retry_base=3600).run_pass()
    assert waiting.feeds_backing_off == 1 and site["server"].hits["/feed.xml"] == hits
    with store.begin() as conn:  # an hour later
        conn.execute(feeds.update().values(next_attempt_at=None))
    for _ in range(2):
        stats = ingestor(store, site, retry_base=0.0, feed_max_errors=3).run_pass()
    assert stats.feeds_disabled == 1
    with store.connect() as conn:
        row = conn.execute(sa.select(feeds)).first()
    assert not row.enabled and row.error_count == 3 and "turned off after 3 failures" in row.last_status
    assert "newstilt feeds enable" in row.last_status


def test_offline_a_pass_logs_one_line_and_counts_against_no_feed(store, site, make_fetcher, caplog):
    for port in (1, 2, 3):  # nothing listens there: connection refused, as when the machine is offline
        store.add_feed(f"http://127.0.0.1:{port}/feed.xml", "nytimes.com")
    store.remove_feed(f"{site['base']}/feed.xml")
    with caplog.at_level(logging.INFO, logger="newstilt.ingest"):
        stats = ingestor(store, site).run_pass()
    assert stats.offline and stats.feeds_failed == 3 and "offline?" in stats.summary()
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "offline" in warnings[0].getMessage()
    with store.connect() as conn:
        assert set(conn.execute(sa.select(feeds.c.error_count)).scalars()) == {0}
        assert set(conn.execute(sa.select(feeds.c.next_attempt_at)).scalars()) == {None}


def test_a_truncated_page_is_never_stored_and_its_clean_fetch_replaces_the_stand_in(store, site):
    """244 of 3,000 articles kept newsnet's injected garbage tail (a third of the page, then NUL, 0xFF, '<<<&#')
    for good: a later clean fetch never repaired the row."""
    good = page("Mayor signs transit plan", "https://www.nytimes.com/2024/05/07/p2.html")
    site["server"].route("/p2", Reply(200, good[: len(good) // 3] + b"\x00\xff<<<&#", HTML))
    first = ingestor(store, site).run_pass()
    assert first.pages_failed == 1 and first.feed_text_used == 1
    assert all("\x00" not in r.text and "<<<" not in r.text and "\ufffd" not in r.text for r in rows(store))
    site["server"].route("/p2", Reply(200, good, HTML))
    second = ingestor(store, site).run_pass()
    assert second.articles_replaced == 1
    assert {r.text_source for r in rows(store)} == {"page"} and len(rows(store)) == 2


def test_a_page_with_an_invalid_byte_is_kept_decoded_as_utf8_and_replaced_by_a_clean_fetch(store, site):
    """One invalid byte in a UTF-8 page made the whole page decode as cp1252 (mojibake)."""
    good = page("Mayor signs transit plan — café", "https://www.nytimes.com/2024/05/07/p2.html")
    flawed = good.replace(b"Paragraph 3", b"Paragraph \xff3")
    site["server"].route("/p2", Reply(200, flawed, {"Content-Type": "text/html"}))
    ingestor(store, site).run_pass()
    stored = next(r for r in rows(store) if r.url.endswith("p2.html"))
    assert stored.text_source == "flawed" and "café" in stored.title and "Ã" not in stored.text
    site["server"].route("/p2", Reply(200, good, {"Content-Type": "text/html"}))
    again = ingestor(store, site).run_pass()
    assert again.retried == 1 and again.articles_replaced == 1
    assert next(r for r in rows(store) if r.id == stored.id).text_source == "page"
    assert ingestor(store, site).run_pass().nothing_new
