"""One ingestion pass: fetch every enabled feed, fetch and extract each new article, store and cluster it.

Articles are stored and clustered in transactions of up to ``batch_size`` (25) articles of one feed: one commit
for many articles is much of what makes ingestion fast on SQLite. A pass that is asked to stop stores the batch
in hand first; one that is killed loses at most the uncommitted batch, never what was committed. A feed's
ETag/Last-Modified are recorded only after all of its entries are stored, so the next pass fetches that feed
again and resumes where the last one stopped (stored URLs are skipped). When an article page cannot be fetched
or extracted, the feed's own text stands in for it.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field

import lxml.html
from sqlalchemy.exc import SQLAlchemyError

from . import domains
from .articles import NewArticle, add_article
from .errors import InvalidURLError, NewstiltError, NotFoundError
from .extract import extract_article
from .feeds import parse_feed, parse_opml
from .urls import normalize_url

LOGGER = logging.getLogger(__name__)

#: Feed text shorter than this is a teaser, not a stand-in for the article.
MIN_FEED_TEXT = 200


@dataclass
class PassStats:
    feeds: int = 0
    feeds_not_modified: int = 0
    feeds_failed: int = 0
    entries: int = 0
    articles_added: int = 0
    articles_known: int = 0
    pages_failed: int = 0
    feed_text_used: int = 0
    skipped: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    def add(self, other: PassStats) -> None:
        for name in ("feeds", "feeds_not_modified", "feeds_failed", "entries", "articles_added",
                     "articles_known", "pages_failed", "feed_text_used", "skipped"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors.extend(other.errors)

    def summary(self) -> str:
        return (f"{self.feeds} feeds ({self.feeds_not_modified} unchanged, {self.feeds_failed} failed), "
                f"{self.entries} entries, {self.articles_added} new articles, {self.articles_known} known, "
                f"{self.pages_failed} pages failed ({self.feed_text_used} from feed text), "
                f"{self.skipped} skipped, in {self.seconds:.1f}s")


def resolve_outlet(index, *, hint: str | None = None, urls: tuple[str | None, ...] = ()) -> str | None:
    """The outlet key a feed or article belongs to: the hint if given, else the first URL that matches a
    rated outlet, else the registrable domain of the first usable URL (an unrated outlet)."""
    if hint:
        key = domains.normalise_key(hint)
        outlet = index.outlet_for_key(key)
        return outlet.domain if outlet else key
    for url in urls:
        if not url:
            continue
        try:
            return index.match(url).outlet.domain
        except (InvalidURLError, NotFoundError):
            continue
    for url in urls:
        try:
            host = domains.strip_variant_prefix(domains.parse_url(url).host) if url else None
        except InvalidURLError:
            continue
        if host:
            return domains.registrable_domain(host) or host
    return None


def html_to_text(fragment: str | None) -> str:
    if not fragment or not fragment.strip():
        return ""
    try:
        return " ".join(lxml.html.fromstring(fragment).text_content().split())
    except (lxml.etree.ParserError, ValueError):
        return ""


class Ingestor:
    """Runs ingestion passes over the feed registry of a store."""

    def __init__(self, store, ratings, clusterer, fetcher, *, workers: int = 4, batch_size: int = 25):
        """``batch_size`` articles of a feed are stored and clustered per transaction."""
        self.store = store
        self.ratings = ratings
        self.clusterer = clusterer
        self.fetcher = fetcher
        self.workers = workers
        self.batch_size = max(1, batch_size)
        self._write_lock = threading.Lock()

    def run_pass(self, *, progress: Callable[[int, int], None] | None = None,
                 stop: threading.Event | None = None) -> PassStats:
        started = time.monotonic()
        feeds = self.store.list_feeds(enabled_only=True)
        total = PassStats()
        with ThreadPoolExecutor(max_workers=max(1, self.workers), thread_name_prefix="ingest") as pool:
            futures = {pool.submit(self.ingest_feed, feed, stop): feed for feed in feeds}
            for done, future in enumerate(as_completed(futures), 1):
                total.add(future.result())
                if progress:
                    progress(done, len(feeds))
        total.seconds = time.monotonic() - started
        return total

    def ingest_feed(self, feed: dict, stop: threading.Event | None = None) -> PassStats:
        stats = PassStats(feeds=1)
        try:
            result = self.fetcher.fetch(feed["url"], etag=feed["etag"], last_modified=feed["last_modified"],
                                        expect="feed")
        except NewstiltError as exc:
            return self._feed_failed(feed, exc, stats)
        if result.not_modified:
            stats.feeds_not_modified += 1
            self.store.record_feed_fetch(feed["id"], status="304 not modified", ok=True, etag=result.etag,
                                         last_modified=result.last_modified)
            return stats
        try:
            parsed = parse_feed(result.body, result.final_url, content_type=result.headers.get("content-type"))
        except NewstiltError as exc:
            return self._feed_failed(feed, exc, stats)
        entries = []
        for entry in parsed.entries:
            try:
                entries.append((normalize_url(entry.url), entry))
            except InvalidURLError as exc:
                LOGGER.warning("feed %s: skipping entry with bad link %r: %s", feed["url"], entry.url, exc)
                stats.skipped += 1
        stats.entries = len(entries)
        with self.store.connect() as conn:
            known = self.store.known_urls(conn, [url for url, _ in entries])
        stats.articles_known = len(known)
        index = self.ratings.index()  # once a feed: it asks the database whether an import changed the ratings
        batch: list[NewArticle] = []
        unstored = 0
        for url, entry in entries:
            if stop is not None and stop.is_set():
                self._store_batch(batch, stats)
                return stats  # the feed's validators stay unrecorded: the next pass resumes this feed
            if url in known:
                continue
            pending = self._prepare_entry(feed, url, entry, stats, index)
            if pending is not None:
                batch.append(pending)
            if len(batch) >= self.batch_size:
                unstored += self._store_batch(batch, stats)
                batch = []
        unstored += self._store_batch(batch, stats)
        if unstored:  # no validators: the next pass fetches the feed in full and tries those articles again
            self.store.record_feed_fetch(feed["id"], ok=True,
                                         status=f"{result.status} ok, {len(entries)} entries, {unstored} not stored")
        else:
            self.store.record_feed_fetch(feed["id"], status=f"{result.status} ok, {len(entries)} entries", ok=True,
                                         etag=result.etag, last_modified=result.last_modified)
        return stats

    def _feed_failed(self, feed: dict, exc: Exception, stats: PassStats) -> PassStats:
        LOGGER.warning("feed %s: %s", feed["url"], exc)
        stats.feeds_failed += 1
        stats.errors.append(f"{feed['url']}: {exc}")
        self.store.record_feed_fetch(feed["id"], status=str(exc), ok=False)
        return stats

    def _prepare_entry(self, feed: dict, url: str, entry, stats: PassStats, index) -> NewArticle | None:
        """Fetch and extract one entry's page (the feed's own text when that fails); None to skip it."""
        article = None
        try:
            page = self.fetcher.fetch(url, expect="html")
            feed_outlet = index.outlet_for_key(feed["outlet"]) if feed["outlet"] else None
            article = extract_article(page.body, page.final_url, feed_outlet_domain=feed["outlet"],
                                      encoding=page.charset, outlet_aliases=feed_outlet.aliases if feed_outlet else ())
        except NewstiltError as exc:
            LOGGER.info("article %s: %s; using the feed's text", url, exc)
            stats.pages_failed += 1
        if article is not None and article.text:
            canonical = article.canonical_url or url
            title = article.title or entry.title
            text, published = article.text, article.published or entry.published
            authors = ", ".join(article.authors or ()) or ", ".join(entry.authors or ()) or None
            language = article.language
        else:
            text = html_to_text(entry.content_html) or entry.summary  # the summary is plain text already
            if len(text) < MIN_FEED_TEXT and not entry.title:
                stats.skipped += 1
                return None
            stats.feed_text_used += 1
            canonical, title, published = url, entry.title, entry.published
            authors, language = ", ".join(entry.authors or ()) or None, None
        try:
            canonical = normalize_url(canonical)
        except InvalidURLError:
            canonical = url
        outlet = feed["outlet"]
        try:  # an aggregator's feed may list other outlets' pages: the page's own site wins
            outlet = index.match(canonical).outlet.domain
        except (InvalidURLError, NotFoundError):
            pass
        return NewArticle(url=canonical, title=(title or canonical)[:1000], text=text, origin="feed", outlet=outlet,
                          published=published, authors=authors, language=language, feed_id=feed["id"])

    def _store_batch(self, batch: list[NewArticle], stats: PassStats) -> int:
        """Store and cluster ``batch`` in one transaction; if that fails, each article in a transaction of its
        own, so one bad article costs only itself. Returns how many could not be stored."""
        if not batch:
            return 0
        try:
            self._store(batch, stats)
            return 0
        except (SQLAlchemyError, NewstiltError) as exc:
            if len(batch) == 1:
                LOGGER.warning("article %s could not be stored: %s", batch[0].url, exc)
                stats.errors.append(f"{batch[0].url}: {exc}")
                return 1
            LOGGER.warning("a batch of %d articles could not be stored (%s); storing them one by one",
                           len(batch), exc)
            return sum(self._store_batch([pending], stats) for pending in batch)

    def _store(self, batch: list[NewArticle], stats: PassStats) -> None:
        added = known = 0
        with self._write_lock, self.store.begin() as conn:
            self.clusterer.lock(conn)
            for pending in batch:
                article_id = add_article(self.store, conn, pending, clusterer=self.clusterer)
                if article_id is None:  # another feed (or process) stored it first
                    known += 1
                    continue
                added += 1
        stats.articles_added += added  # counted once committed
        stats.articles_known += known


def import_opml(store, index, body: bytes, *, origin: str = "user") -> list[tuple[dict, bool]]:
    """Register every feed of an OPML document; returns (feed, created) pairs. ``origin="default"`` for the
    bundled list (see ``Store.add_feed``)."""
    out = []
    for item in parse_opml(body):
        try:
            url = normalize_url(item.xml_url)
        except InvalidURLError as exc:
            LOGGER.warning("OPML: skipping %r: %s", item.xml_url, exc)
            continue
        outlet = resolve_outlet(index, hint=item.outlet, urls=(item.html_url, url))
        feed_id, created = store.add_feed(url, outlet, item.title, origin=origin)
        out.append(({"id": feed_id, "url": url, "outlet": outlet, "title": item.title}, created))
    return out


class Scheduler(threading.Thread):
    """Runs ingestion passes of ``newstilt`` (a ``Newstilt``) in the background every ``interval`` seconds until
    ``stop`` is set."""

    def __init__(self, newstilt, interval: float, stop: threading.Event):
        super().__init__(name="newstilt-ingest", daemon=True)
        self.newstilt, self.interval, self.stop = newstilt, interval, stop

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                stats = self.newstilt.ingest_pass(stop=self.stop)
                LOGGER.info("ingestion pass: %s", stats.summary())
            except Exception:  # noqa: BLE001 - a scheduler must outlive one bad pass
                LOGGER.exception("ingestion pass failed; trying again in %ss", self.interval)
            self.stop.wait(self.interval)
