"""One ingestion pass: fetch every enabled feed, fetch and extract each new article, store and cluster it.

Articles are stored and clustered in transactions of up to ``batch_size`` (25) articles of one feed: one commit
for many articles is much of what makes ingestion fast on SQLite. A pass that is asked to stop stores the batch
in hand first; one that is killed loses at most the uncommitted batch, never what was committed. A feed's
ETag/Last-Modified are recorded only after all of its entries are stored, so the next pass fetches that feed
again and resumes where the last one stopped.

**Identity.** An entry whose link already leads to a stored article (``article_urls``: feed links, canonical
URLs and redirect targets of every stored article) is skipped without fetching its page. So a pass over feeds
that have nothing new fetches no article page and says "nothing new".

**Isolation.** Whatever one entry raises (a hostile page, a bug) is recorded against that entry and counted;
the feed's other entries are stored. When an article page cannot be fetched or extracted, the feed's own text
stands in for it (``text_source = "feed"``) if it is long enough, and the page is tried again on later passes
with backoff (``entry_failures``), up to ``entry_max_attempts`` times; when it arrives, its text replaces the
stand-in and the article keeps its story. A feed that fails is retried with exponential backoff
(``feeds.next_attempt_at``) and turned off after ``feed_max_errors`` failures in a row (``newstilt feeds
enable`` turns it back on); when every feed of a pass fails at the network level the machine is offline:
that counts against no feed, and the pass logs one line saying so.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import timedelta

import lxml.html
from sqlalchemy.exc import SQLAlchemyError

from . import domains
from .articles import COMPLETE, TEXT_RANK, NewArticle, add_article
from .errors import (
    BlockedAddressError,
    DamagedContentError,
    FetchError,
    HTTPStatusError,
    InvalidURLError,
    NewstiltError,
    NotFoundError,
    TruncatedContentError,
)
from .extract import extract_article
from .feeds import parse_feed, parse_opml
from .storage import utcnow
from .urls import normalize_url

LOGGER = logging.getLogger(__name__)

#: Feed text shorter than this is a teaser, not a stand-in for the article.
MIN_FEED_TEXT = 200
#: Errors kept in a pass's summary (the rest are counted).
MAX_ERRORS = 50


@dataclass
class PassStats:
    """What one pass did. Each entry of a fetched feed is counted exactly once among ``articles_added``,
    ``articles_known``, ``articles_replaced``, ``entries_waiting`` and ``entries_failed``/``skipped``."""

    feeds: int = 0
    feeds_not_modified: int = 0
    feeds_failed: int = 0
    feeds_backing_off: int = 0
    feeds_disabled: int = 0
    entries: int = 0
    articles_added: int = 0
    articles_known: int = 0
    articles_replaced: int = 0
    retried: int = 0
    pages_failed: int = 0
    feed_text_used: int = 0
    entries_waiting: int = 0
    entries_failed: int = 0
    skipped: int = 0
    offline: bool = False
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)
    error_kinds: Counter = field(default_factory=Counter)

    _COUNTS = ("feeds", "feeds_not_modified", "feeds_failed", "feeds_backing_off", "feeds_disabled", "entries",
               "articles_added", "articles_known", "articles_replaced", "retried", "pages_failed",
               "feed_text_used", "entries_waiting", "entries_failed", "skipped")

    def add(self, other: PassStats) -> None:
        for name in self._COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors.extend(other.errors[:max(0, MAX_ERRORS - len(self.errors))])
        self.error_kinds.update(other.error_kinds)

    def error(self, where: str, exc: BaseException) -> None:
        self.error_kinds[type(exc).__name__] += 1
        if len(self.errors) < MAX_ERRORS:
            what = str(exc) if isinstance(exc, NewstiltError) else f"{type(exc).__name__}: {exc}"
            self.errors.append(f"{where}: {what}")

    @property
    def nothing_new(self) -> bool:
        return self.articles_added == 0 and self.articles_replaced == 0

    def summary(self) -> str:
        feeds = (f"{self.feeds} feeds ({self.feeds_not_modified} unchanged, {self.feeds_failed} failed"
                 + (f", {self.feeds_backing_off} backing off" if self.feeds_backing_off else "")
                 + (f", {self.feeds_disabled} turned off after failing repeatedly" if self.feeds_disabled else "")
                 + ")")
        entries = (f"{self.entries} entries: {self.articles_added} new, {self.articles_known} known, "
                   f"{self.articles_replaced} improved, {self.retried} retried, "
                   f"{self.entries_failed + self.pages_failed} failed ({self.feed_text_used} from feed text"
                   + (f", {self.entries_waiting} waiting to retry" if self.entries_waiting else "")
                   + f"), {self.skipped} skipped")
        line = f"{feeds}, {entries}, in {self.seconds:.1f}s"
        if self.offline:
            line = f"offline? every feed failed at the network level ({self.feeds_failed} feeds); " + line
        if self.nothing_new:
            line = "nothing new: " + line
        return line


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

    def __init__(self, store, ratings, clusterer, fetcher, *, workers: int = 4, batch_size: int = 25,
                 retry_base: float = 60.0, retry_max: float = 86_400.0, entry_max_attempts: int = 5,
                 feed_max_errors: int = 10, content_retries: int = 2):
        """``batch_size`` articles of a feed are stored and clustered per transaction. A failed feed or page is
        tried again after ``retry_base`` seconds, doubling with each failure up to ``retry_max``; a page is
        given up after ``entry_max_attempts`` attempts, a feed turned off after ``feed_max_errors`` failures.
        A page or feed that arrives cut off or garbled is asked for again at once, ``content_retries`` times."""
        self.store = store
        self.ratings = ratings
        self.clusterer = clusterer
        self.fetcher = fetcher
        self.workers = workers
        self.batch_size = max(1, batch_size)
        self.retry_base, self.retry_max = retry_base, retry_max
        self.entry_max_attempts, self.feed_max_errors = entry_max_attempts, feed_max_errors
        self.content_retries = max(0, content_retries)
        self._write_lock = threading.Lock()

    def _backoff(self, failures: int) -> timedelta:
        return timedelta(seconds=min(self.retry_max, self.retry_base * 2 ** max(0, failures - 1)))

    def run_pass(self, *, progress: Callable[[int, int], None] | None = None,
                 stop: threading.Event | None = None) -> PassStats:
        started = time.monotonic()
        now = utcnow()
        feeds, total = [], PassStats()
        for feed in self.store.list_feeds(enabled_only=True):
            due = feed["next_attempt_at"]
            if due is not None and (due if due.tzinfo else due.replace(tzinfo=now.tzinfo)) > now:
                total.feeds_backing_off += 1
            else:
                feeds.append(feed)
        failures: list[tuple[dict, Exception]] = []
        with ThreadPoolExecutor(max_workers=max(1, self.workers), thread_name_prefix="ingest") as pool:
            futures = {pool.submit(self.ingest_feed, feed, stop): feed for feed in feeds}
            for done, future in enumerate(as_completed(futures), 1):
                feed = futures[future]
                try:
                    stats, failure = future.result()
                except Exception as exc:  # noqa: BLE001 - a bug on one feed must not sink the pass
                    LOGGER.exception("feed %s: unexpected error", feed["url"])
                    stats, failure = PassStats(feeds=1), exc
                total.add(stats)
                if failure is not None:
                    failures.append((feed, failure))
                if progress:
                    progress(done, len(feeds))
        self._record_feed_failures(failures, total, attempted=len(feeds))
        total.seconds = time.monotonic() - started
        return total

    def _record_feed_failures(self, failures: list[tuple[dict, Exception]], total: PassStats, attempted: int):
        """Record each failed feed once the pass knows whether the network itself was down."""
        network = (FetchError,)
        total.offline = (attempted >= 3 and len(failures) == attempted
                         and all(isinstance(exc, network) and not isinstance(exc, (HTTPStatusError,
                                                                                    BlockedAddressError))
                                 for _, exc in failures))
        for feed, exc in failures:
            total.feeds_failed += 1
            total.error(feed["url"], exc)
            if total.offline:  # nothing is wrong with the feeds: no backoff, no count towards turning them off
                self.store.record_feed_fetch(feed["id"], status=str(exc), ok=False, count_error=False)
                continue
            errors = feed["error_count"] + 1
            disable = errors >= self.feed_max_errors
            status = str(exc) if not disable else (
                f"turned off after {errors} failures in a row ('newstilt feeds enable {feed['id']}' turns it back "
                f"on): {exc}")
            self.store.record_feed_fetch(feed["id"], status=status, ok=False,
                                         next_attempt_at=utcnow() + self._backoff(errors), disable=disable)
            total.feeds_disabled += disable
            LOGGER.info("feed %s failed (%d in a row): %s", feed["url"], errors, exc)
        if total.offline:
            LOGGER.warning("ingestion: every feed (%d) failed at the network level; is this machine offline? "
                           "(%s)", attempted, ", ".join(f"{n} {k}" for k, n in total.error_kinds.most_common(3)))
        elif failures:
            LOGGER.warning("ingestion: %d of %d feeds failed (%s); see 'newstilt feeds list'", len(failures),
                           attempted, ", ".join(f"{n} {k}" for k, n in total.error_kinds.most_common(3)))

    def ingest_feed(self, feed: dict, stop: threading.Event | None = None) -> tuple[PassStats, Exception | None]:
        """One feed: (what was done, the exception that made the feed itself fail, or None)."""
        stats = PassStats(feeds=1)
        for attempt in range(1 + self.content_retries):
            try:
                result = self.fetcher.fetch(feed["url"], etag=feed["etag"], last_modified=feed["last_modified"],
                                            expect="feed")
            except NewstiltError as exc:
                return stats, exc
            if result.not_modified:
                stats.feeds_not_modified += 1
                self.store.record_feed_fetch(feed["id"], status="304 not modified", ok=True, etag=result.etag,
                                             last_modified=result.last_modified)
                return stats, None
            try:
                parsed = parse_feed(result.body, result.final_url,
                                    content_type=result.headers.get("content-type"))
            except NewstiltError as exc:
                if attempt < self.content_retries:
                    continue  # a transfer cut off midway is often whole the next time: ask again at once
                return stats, exc
            if parsed.well_formed:
                break
        partial = not parsed.well_formed
        entries = []
        for entry in parsed.entries:
            try:
                entries.append((normalize_url(entry.url), entry))
            except InvalidURLError as exc:
                LOGGER.info("feed %s: skipping entry with bad link %r: %s", feed["url"], entry.url, exc)
                stats.skipped += 1
        stats.entries = len(entries)
        urls = [url for url, _ in entries]
        with self.store.connect() as conn:
            known = self.store.known_urls(conn, urls)
            failed = self.store.entry_failures(conn, urls)
        index = self.ratings.index()
        batch: list[NewArticle] = []
        unstored = 0
        now = utcnow()
        for url, entry in entries:
            if stop is not None and stop.is_set():
                self._store_batch(batch, stats)
                return stats, None  # the feed's validators stay unrecorded: the next pass resumes this feed
            failure = failed.get(url)
            if url in known and (TEXT_RANK.get(known[url], COMPLETE) >= COMPLETE or failure is None
                                 or failure["attempts"] >= self.entry_max_attempts):
                stats.articles_known += 1  # stored, with its page (or its page was given up): not fetched
                continue
            if failure is not None:
                due = failure["next_attempt_at"]
                if (due if due.tzinfo else due.replace(tzinfo=now.tzinfo)) > now \
                        or failure["attempts"] >= self.entry_max_attempts:
                    stats.entries_waiting += 1
                    continue
                stats.retried += 1
            try:
                pending = self._prepare_entry(feed, url, entry, stats, index)
            except Exception as exc:  # noqa: BLE001 - one hostile entry costs only itself
                LOGGER.warning("feed %s: entry %s failed: %s: %s", feed["url"], url, type(exc).__name__, exc)
                stats.entries_failed += 1
                stats.error(url, exc)
                self._entry_failed(url, feed["id"], exc, failure)
                unstored += 1
                continue
            if pending is not None:
                batch.append(pending)
            if len(batch) >= self.batch_size:
                unstored += self._store_batch(batch, stats)
                batch = []
        unstored += self._store_batch(batch, stats)
        if partial:  # what could be read is stored; no validators, so the next pass reads the feed again
            self.store.record_feed_fetch(feed["id"], ok=True, status=f"{result.status} ok but not well-formed, "
                                         f"{len(entries)} entries read")
        elif unstored:  # no validators: the next pass fetches the feed in full and tries those entries again
            self.store.record_feed_fetch(feed["id"], ok=True,
                                         status=f"{result.status} ok, {len(entries)} entries, {unstored} not stored")
        else:
            self.store.record_feed_fetch(feed["id"], status=f"{result.status} ok, {len(entries)} entries", ok=True,
                                         etag=result.etag, last_modified=result.last_modified)
        return stats, None

    def _entry_failed(self, url: str, feed_id: int, exc: Exception, failure: dict | None) -> None:
        attempts = (failure["attempts"] if failure else 0) + 1
        self.store.record_entry_failure(url, feed_id, f"{type(exc).__name__}: {exc}",
                                        utcnow() + self._backoff(attempts))

    def _prepare_entry(self, feed: dict, url: str, entry, stats: PassStats, index) -> NewArticle | None:
        """Fetch and extract one entry's page (the feed's own text when that fails); None to skip it."""
        article, page = None, None
        feed_outlet = index.outlet_for_key(feed["outlet"]) if feed["outlet"] else None
        aliases_of_outlet = feed_outlet.aliases if feed_outlet else ()
        for attempt in range(1 + self.content_retries):
            try:
                page = self.fetcher.fetch(url, expect="html")
                article = extract_article(page.body, page.final_url, feed_outlet_domain=feed["outlet"],
                                          encoding=page.charset, outlet_aliases=aliases_of_outlet)
                break
            except (TruncatedContentError, DamagedContentError) as exc:
                if attempt < self.content_retries:
                    continue  # a cut-off or garbled answer: ask again at once, as for a 503
                failure = exc
            except NewstiltError as exc:
                failure = exc
            LOGGER.info("article %s: %s; using the feed's text", url, failure)
            stats.pages_failed += 1
            self._entry_failed(url, feed["id"], failure, self._failure(url))
            article = None
            break
        aliases = [url]
        if page is not None:
            try:
                aliases.append(normalize_url(page.final_url))
            except InvalidURLError:
                pass
        if article is not None and article.text:
            canonical = article.canonical_url or url
            title = article.title or entry.title
            text, published = article.text, article.published or entry.published
            authors = ", ".join(article.authors or ()) or ", ".join(entry.authors or ()) or None
            language, text_source = article.language, "page"
            if article.quality is not None and not article.quality.clean:
                text_source = "flawed"  # stored, and fetched again later in the hope of a clean copy
                self._entry_failed(url, feed["id"], ValueError(
                    f"{article.quality.replaced} invalid bytes, {article.quality.controls} control characters"),
                    self._failure(url))
        else:
            text = html_to_text(entry.content_html) or entry.summary  # the summary is plain text already
            if len(text) < MIN_FEED_TEXT:
                stats.skipped += 1  # a teaser is no stand-in: the page is tried again on a later pass
                return None
            stats.feed_text_used += 1
            canonical, title, published = url, entry.title, entry.published
            authors, language, text_source = ", ".join(entry.authors or ()) or None, None, "feed"
        try:
            canonical = normalize_url(canonical)
        except InvalidURLError:
            canonical = url
        outlet = feed["outlet"]
        try:  # an aggregator's feed may list other outlets' pages: the page's own site wins
            outlet = index.match(canonical).outlet.domain
        except (InvalidURLError, NotFoundError):
            pass
        if not language:  # the page did not say: the outlet's language, as the table has it
            rated = index.outlet_for_key(outlet) if outlet else None
            language = rated.language if rated else None
        return NewArticle(url=canonical, title=(title or canonical)[:1000], text=text, origin="feed", outlet=outlet,
                          published=published, authors=authors, language=language, feed_id=feed["id"],
                          text_source=text_source, aliases=tuple(a for a in aliases if a != canonical))

    def _failure(self, url: str) -> dict | None:
        with self.store.connect() as conn:
            return self.store.entry_failures(conn, [url]).get(url)

    def _store_batch(self, batch: list[NewArticle], stats: PassStats) -> int:
        """Store and cluster ``batch`` in one transaction; if that fails, each article in a transaction of its
        own, so one bad article costs only itself. Returns how many could not be stored."""
        if not batch:
            return 0
        try:
            self._store(batch, stats)
            return 0
        except Exception as exc:  # noqa: BLE001 - retried one by one below, then recorded
            if len(batch) == 1:
                LOGGER.warning("article %s could not be stored: %s", batch[0].url, exc)
                stats.entries_failed += 1
                stats.error(batch[0].url, exc)
                if not isinstance(exc, SQLAlchemyError | NewstiltError):
                    LOGGER.exception("unexpected error storing %s", batch[0].url)
                return 1
            LOGGER.warning("a batch of %d articles could not be stored (%s); storing them one by one",
                           len(batch), exc)
            return sum(self._store_batch([pending], stats) for pending in batch)

    def _store(self, batch: list[NewArticle], stats: PassStats) -> None:
        counts = Counter()
        with self._write_lock, self.store.begin() as conn:
            self.clusterer.lock(conn)
            for pending in batch:
                added = add_article(self.store, conn, pending, clusterer=self.clusterer)
                counts[added.status] += 1
                if pending.complete:
                    self.store.clear_entry_failures(conn, (pending.url, *pending.aliases))
        stats.articles_added += counts["added"]  # counted once committed
        stats.articles_known += counts["known"]
        stats.articles_replaced += counts["replaced"]


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
