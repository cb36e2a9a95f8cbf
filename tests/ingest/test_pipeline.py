"""The ingestion pass end to end against a local HTTP server: feeds, pages, feed-text fallback, conditional
GET, resuming after an interruption, broken feeds, refused addresses, and concurrent passes."""
from __future__ import annotations

import threading
from email.utils import format_datetime

import pytest
import sqlalchemy as sa

from newstilt.cluster import Clusterer
from newstilt.ingest import Ingestor, PassStats, import_opml
from newstilt.ratings import Ratings
from newstilt.storage import articles, feeds

from ..conftest import FIXTURE_OUTLETS
from .conftest import Reply

BODY = ("Flood waters rose across the river valley on Tuesday as emergency crews evacuated hundreds of "
        "residents from low-lying neighbourhoods. Officials said the levee near the old mill had held, "
        "but warned that more rain was forecast for the weekend. ")


def page(title: str, canonical: str, paragraphs: int = 6) -> bytes:
    body = "".join(f"<p>{BODY} Paragraph {i} adds detail about {title.lower()}.</p>" for i in range(paragraphs))
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title} - The Paper</title>
<link rel="canonical" href="{canonical}">
<meta property="article:published_time" content="2024-05-07T10:00:00Z"></head>
<body><nav><a href="/">Home</a> <a href="/world">World</a></nav>
<article><h1>{title}</h1>{body}</article>
<footer>Copyright The Paper. Subscribe to our newsletter.</footer></body></html>""".encode()


def feed(base: str, items: list[tuple[str, str, str]]) -> bytes:
    when = format_datetime(__import__("datetime").datetime(2024, 5, 7, 10, tzinfo=__import__("datetime").UTC))
    rows = "".join(
        f"<item><title>{title}</title><link>{base}{path}</link><guid>{base}{path}</guid>"
        f"<pubDate>{when}</pubDate><description>{description}</description></item>"
        for path, title, description in items)
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>The Paper</title>'
            f"<link>https://www.nytimes.com/</link>{rows}</channel></rss>").encode()


@pytest.fixture
def world(http_server, store, make_fetcher):
    """A local news site: one feed of three items (one page missing, so its feed text stands in)."""
    base = http_server.base
    items = [("/a1", "River floods valley town", "Floods."),
             ("/a2", "Levee holds as river crests", "Levee."),
             ("/gone", "Rain forecast for weekend", BODY * 2)]
    body = feed(base, items)

    def feed_route(handler, hit):
        if handler.headers.get("If-None-Match") == '"v1"':
            return Reply(304, b"", {"ETag": '"v1"'})
        return Reply(200, body, {"Content-Type": "application/rss+xml", "ETag": '"v1"'})

    http_server.route("/feed.xml", feed_route)
    http_server.route("/a1", Reply(200, page("River floods valley town", "https://www.nytimes.com/2024/05/07/a1.html"),
                                   {"Content-Type": "text/html; charset=utf-8"}))
    http_server.route("/a2", Reply(200, page("Levee holds as river crests", f"{base}/a2"),
                                   {"Content-Type": "text/html; charset=utf-8"}))
    ratings = Ratings(store, FIXTURE_OUTLETS.read_text())
    store.add_feed(f"{base}/feed.xml", "nytimes.com", "The Paper")
    return {"base": base, "ratings": ratings, "fetcher": make_fetcher(), "server": http_server}


def _ingestor(store, world, **kwargs):
    return Ingestor(store, world["ratings"], Clusterer(store), world["fetcher"], **kwargs)


def _stored(store):
    with store.connect() as conn:
        return {row.url: row for row in conn.execute(sa.select(articles))}


def test_a_pass_stores_extracts_and_clusters(store, world):
    stats = _ingestor(store, world).run_pass()
    assert (stats.feeds, stats.entries, stats.articles_added, stats.pages_failed, stats.feed_text_used) == \
        (1, 3, 3, 1, 1)
    stored = _stored(store)
    base = world["base"]
    # the canonical on the outlet's own site is trusted; a page without one keeps its address
    assert set(stored) == {"https://www.nytimes.com/2024/05/07/a1.html", f"{base}/a2", f"{base}/gone"}
    a1 = stored["https://www.nytimes.com/2024/05/07/a1.html"]
    assert a1.outlet == "nytimes.com" and a1.origin == "feed" and "levee near the old mill" in a1.text
    assert a1.published.year == 2024 and "Copyright" not in a1.text
    assert stored[f"{base}/gone"].text.startswith("Flood waters rose")   # the feed's text stood in
    assert all(row.story_id is not None for row in stored.values())
    with store.connect() as conn:
        row = conn.execute(sa.select(feeds)).first()
    assert row.etag == '"v1"' and row.error_count == 0


@pytest.mark.parametrize("batch_size", [1, 2, 25])
def test_every_batch_size_stores_the_same(store, world, batch_size):
    stats = _ingestor(store, world, batch_size=batch_size).run_pass()
    assert stats.articles_added == 3 and len(_stored(store)) == 3
    assert all(row.story_id is not None for row in _stored(store).values())


def test_an_article_that_cannot_be_stored_costs_only_itself(store, world):
    """A failure inside a batch's transaction rolls it back; the batch is then stored article by article."""
    from sqlalchemy.exc import OperationalError

    ingestor = _ingestor(store, world)
    original = ingestor.clusterer.add

    def add(conn, article_id):
        title = conn.execute(sa.select(articles.c.title).where(articles.c.id == article_id)).scalar()
        if title.startswith("Levee"):
            raise OperationalError("UPDATE stories", {}, Exception("disk I/O error"))
        return original(conn, article_id)

    ingestor.clusterer.add = add
    stats = ingestor.run_pass()
    assert stats.articles_added == 2 and len(stats.errors) == 1 and "a2" in stats.errors[0]
    assert set(_stored(store)) == {"https://www.nytimes.com/2024/05/07/a1.html", f"{world['base']}/gone"}
    with store.connect() as conn:
        row = conn.execute(sa.select(feeds)).first()
    assert row.etag is None and "1 not stored" in row.last_status  # so the next pass is not a 304...
    again = _ingestor(store, world).run_pass()
    assert again.articles_added == 1 and len(_stored(store)) == 3  # ...and stores what failed


def test_second_pass_uses_conditional_get_and_stores_nothing_twice(store, world):
    _ingestor(store, world).run_pass()
    stats = _ingestor(store, world).run_pass()
    assert stats.feeds_not_modified == 1 and stats.articles_added == 0
    assert world["server"].requests[-1][2].get("if-none-match") == '"v1"'
    assert len(_stored(store)) == 3


def test_an_interrupted_pass_loses_nothing_and_the_next_resumes(store, world):
    stop = threading.Event()
    ingestor = _ingestor(store, world)
    original = ingestor._prepare_entry

    def one_then_stop(*args):
        stop.set()  # asked to stop while the first page is being fetched: it is still stored
        return original(*args)

    ingestor._prepare_entry = one_then_stop
    first = ingestor.run_pass(stop=stop)
    assert first.articles_added == 1 and len(_stored(store)) == 1
    with store.connect() as conn:
        assert conn.execute(sa.select(feeds.c.etag)).scalar() is None   # not recorded: the feed is read again
    second = _ingestor(store, world).run_pass()
    assert second.articles_added == 2 and second.articles_known == 1 and len(_stored(store)) == 3


def test_a_broken_feed_is_recorded_and_the_others_go_on(store, world):
    base = world["base"]
    world["server"].route("/broken.xml", Reply(200, b"<html><body><p>Page moved</p></body></html>",
                                               {"Content-Type": "text/xml"}))
    world["server"].route("/down.xml", Reply(503, b"down"))
    store.add_feed(f"{base}/broken.xml", "foxnews.com")
    store.add_feed(f"{base}/down.xml", "reuters.com")
    stats = _ingestor(store, world).run_pass()
    assert stats.feeds == 3 and stats.feeds_failed == 2 and stats.articles_added == 3
    with store.connect() as conn:
        errors = dict(conn.execute(sa.select(feeds.c.url, feeds.c.error_count)).all())
    assert errors[f"{base}/down.xml"] == 1 and errors[f"{base}/broken.xml"] == 1


def test_private_addresses_are_refused_unless_allowed(store, world, make_fetcher):
    ingestor = Ingestor(store, world["ratings"], Clusterer(store), make_fetcher(allow_addresses=()))
    stats = ingestor.run_pass()
    assert stats.feeds_failed == 1 and stats.articles_added == 0
    assert "not a public address" in stats.errors[0] or "refus" in stats.errors[0].lower()
    assert world["server"].hits == {}


def test_concurrent_passes_neither_duplicate_nor_lose(store, world):
    results: list[PassStats] = []

    def run():
        results.append(_ingestor(store, world).run_pass())

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.articles_added for r in results) == 3
    assert len(_stored(store)) == 3


def test_opml_import_ties_feeds_to_outlets(store, world):
    opml = b"""<?xml version="1.0"?><opml version="2.0" xmlns:newstilt="https://newstilt.org/ns/opml"><body>
      <outline text="BBC" xmlUrl="https://feeds.bbci.co.uk/news/rss.xml" htmlUrl="https://www.bbc.co.uk/news"/>
      <outline text="Fox" xmlUrl="https://moxie.foxnews.com/google-publisher/latest.xml" newstilt:outlet="foxnews.com"/>
      <outline text="Somewhere" xmlUrl="https://news.unrated.example.net/rss"/>
    </body></opml>"""
    index = world["ratings"].index()
    results = import_opml(store, index, opml)
    assert [(f["outlet"], created) for f, created in results] == [
        ("bbc.com", True), ("foxnews.com", True), ("example.net", True)]
    assert [created for _, created in import_opml(store, index, opml)] == [False, False, False]
