"""The facade: one object that owns the store, the ratings, the clusterer, the fetcher and the scorer, and offers
what newstilt does. The command line, the web app and the benchmarks call it and nothing else.

    from newstilt import make_newstilt

    with make_newstilt(data_dir="/tmp/nt") as nt:
        nt.import_ratings("combined.json", "mbfc")
        nt.ingest_pass()
        nt.analyze("https://www.example.com/news/1", html=page_html)

Everything is built lazily on first use (opening the database migrates it to this release's schema), so
constructing a ``Newstilt`` connects to nothing and loads no model. One instance may be shared by threads.
"""
from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Iterator
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from .config import Settings
from .errors import ModelError
from .memo import LRU

if TYPE_CHECKING:
    from .cluster import Clusterer
    from .coverage import BlindspotRule
    from .fetch import Fetcher
    from .ingest import Ingestor, PassStats
    from .ratings import Ratings, RatingsIndex
    from .storage import Store
    from .storyrows import StoryQuery, StoryRows

LOGGER = logging.getLogger(__name__)


class Newstilt:
    """newstilt's operations over one database, built from one :class:`~newstilt.config.Settings`."""

    #: Seconds a process trusts its copy of the ratings before asking the database whether another process
    #: imported a rater's file (an import through this object is seen at once).
    RATINGS_MAX_AGE = 5.0

    def __init__(self, settings: Settings | None = None):
        self.settings = settings or Settings.from_env()
        self._lock = threading.RLock()
        self._scores = LRU(self.SCORE_CACHE_SIZE)
        self._stories = LRU(self.STORY_CACHE_SIZE)
        self._analyses = LRU(self.ANALYSIS_CACHE_SIZE)
        self._rows_version: str | None = None  # the ratings version the story rows were last refreshed for

    def __enter__(self) -> Newstilt:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- the parts, built on first use -------------------------------------------------------------------

    @cached_property
    def store(self) -> Store:
        from .storage import Store

        with self._lock:
            store = Store(self.settings.resolved_database_url)
            store.ensure_schema()
            return store

    @cached_property
    def ratings(self) -> Ratings:
        from .ratings import Ratings

        path = self.settings.ratings_file
        return Ratings(self.store, Path(path).read_text(encoding="utf-8") if path else None,
                       max_age=self.RATINGS_MAX_AGE)

    @cached_property
    def clusterer(self) -> Clusterer:
        from .cluster import Clusterer

        return Clusterer(self.store, on_change=self.story_rows.changed)

    @cached_property
    def story_rows(self) -> StoryRows:
        """Keeps each story row's listing columns (counts, blindspot, summary) current."""
        from .storyrows import StoryRows

        return StoryRows(self.ratings, self.blindspot_rule)

    @cached_property
    def blindspot_rule(self) -> BlindspotRule:
        from .coverage import BlindspotRule

        s = self.settings
        return BlindspotRule(min_rated_outlets=s.blindspot_min_outlets, max_missing_share=s.blindspot_max_missing_share,
                             min_dominant_share=s.blindspot_min_dominant_share)

    @cached_property
    def fetcher(self) -> Fetcher:
        from .fetch import FetchConfig, Fetcher

        s = self.settings
        return Fetcher(FetchConfig(allow_addresses=s.fetch_allow, per_host_delay=s.fetch_host_delay,
                                   per_host_concurrency=s.fetch_host_concurrency))

    def index(self) -> RatingsIndex:
        """The current ratings: the bundled table combined with every imported rater."""
        return self.ratings.index()

    def upgrade(self) -> tuple[str | None, str]:
        """Migrate the database to this release's schema; (revision before, revision after)."""
        from .storage import Store, migrate

        store = Store(self.settings.resolved_database_url)
        try:
            return migrate.upgrade(store.engine)
        finally:
            store.close()

    def close(self) -> None:
        if "fetcher" in self.__dict__:
            self.fetcher.close()
        if "store" in self.__dict__:
            self.store.close()

    # -- ratings ---------------------------------------------------------------------------------------

    def lookup(self, url: str) -> dict:
        """The outlet ``url`` belongs to, each rater's values and which entry matched (NotFoundError if none)."""
        index = self.index()
        return index.match(url).to_dict(index.rater_names)

    def lookup_json(self, url: str) -> bytes:
        """:meth:`lookup`'s answer as the API's JSON (the outlet's part encoded once per ratings version)."""
        from .ratings import dumps_match

        index = self.index()
        return dumps_match(index, index.match(url))

    def import_ratings(self, path: str | Path, fmt: str) -> dict:
        """Replace rater ``fmt``'s ratings by the file at ``path``; counts and skipped rows."""
        from .importers import import_file

        result = import_file(self.store, path, fmt)
        self.ratings.invalidate()
        self.refresh_stories()
        return result

    def list_raters(self) -> list[dict]:
        return self.store.list_raters()

    def ratings_stats(self) -> dict:
        """How the combined table is made up: outlets per country, language, bias step, factuality, ownership
        category and owner, and how many carry a questionable-source flag (and for which reasons)."""
        from collections import Counter

        outlets = list(self.index().outlets.values())
        count = lambda values: dict(Counter(v or "unknown" for v in values).most_common())  # noqa: E731
        return {
            "outlets": len(outlets),
            "country": count(o.country for o in outlets),
            "language": count(o.language for o in outlets),
            "bias": count(o.bias_label or "none (satire, pseudoscience)" for o in outlets),
            "factuality": count(o.factuality for o in outlets),
            "ownership": count(o.ownership for o in outlets),
            "owner": count(o.owner_group for o in outlets),
            "questionable": sum(o.questionable for o in outlets),
            "flags": count(flag for o in outlets for flag in o.flags),
        }

    # -- feeds and ingestion ---------------------------------------------------------------------------

    def add_feed(self, url: str, *, outlet: str | None = None, title: str | None = None) -> tuple[int, bool, str]:
        """Register a feed (tied to ``outlet``, else the outlet its URL belongs to); (id, created, url)."""
        from .ingest import resolve_outlet
        from .urls import normalize_url

        url = normalize_url(url)
        key = resolve_outlet(self.index(), hint=outlet, urls=(url,))
        feed_id, created = self.store.add_feed(url, key, title, origin="user")
        return feed_id, created, url

    def import_feeds(self, source: str | Path) -> list[tuple[dict, bool]]:
        """Register every feed of an OPML file, or of the OPML document at an http(s) URL."""
        from .ingest import import_opml

        text = str(source)
        if text.startswith(("http://", "https://")):
            body = self.fetcher.fetch(text, expect="feed").body
        else:
            body = Path(source).read_bytes()
        return import_opml(self.store, self.index(), body, origin="user")

    def list_feeds(self, *, enabled_only: bool = False) -> list[dict]:
        return self.store.list_feeds(enabled_only=enabled_only)

    def remove_feed(self, ident: str) -> bool:
        return self.store.remove_feed(ident)

    def set_feed_enabled(self, ident: str, enabled: bool) -> bool:
        return self.store.set_feed_enabled(ident, enabled)

    def ensure_default_feeds(self) -> int:
        """Register the default feed list (or ``feeds_file``) while the user has configured no feeds; how many
        were added. The defaults are marked as such: a feed the user adds later replaces them all."""
        from importlib import resources

        from .ingest import import_opml

        if self.store.list_feeds():
            return 0
        path = self.settings.feeds_file
        body = path.read_bytes() if path else \
            resources.files("newstilt").joinpath("data/default-feeds.opml").read_bytes()
        return sum(created for _, created in import_opml(self.store, self.index(), body, origin="default"))

    @cached_property
    def ingestor(self) -> Ingestor:
        from .ingest import Ingestor

        return Ingestor(self.store, self.ratings, self.clusterer, self.fetcher,
                        retry_base=self.settings.ingest_retry_base)

    def ingest_pass(self, *, workers: int | None = None, progress: Callable[[int, int], None] | None = None,
                    stop: threading.Event | None = None) -> PassStats:
        """One ingestion pass over the enabled feeds (the default list when none are configured).

        On SQLite the write-ahead log is checkpointed after each feed once it passes 16 MB, and at the end:
        the ingester is the one writer, and without this the log grows without bound while readers are active.
        """
        self.ensure_default_feeds()
        if workers is not None:
            self.ingestor.workers = workers

        def each_feed(done: int, total: int) -> None:
            self.store.checkpoint_if_over()
            if progress is not None:
                progress(done, total)

        try:
            return self.ingestor.run_pass(progress=each_feed, stop=stop)
        finally:
            self.store.checkpoint()

    # -- articles and stories --------------------------------------------------------------------------

    def import_articles(self, path: str | Path, *, progress: bool = False) -> dict[str, int]:
        """Bulk-load a JSONL(.gz) file of articles and cluster them in publication order; counts."""
        from .bulk import import_jsonl
        from .ingest import resolve_outlet

        index = self.index()
        return import_jsonl(self.store, path, clusterer=self.clusterer, progress=progress,
                            outlet_for=lambda url: resolve_outlet(index, urls=(url,)))

    #: Whole answers of analyze about stored articles kept in memory (with their JSON), by URL and ratings
    #: version, each valid while the database's change token is unchanged: a reader's visit to a stored
    #: article, the extension's most common call, then costs one trivial statement instead of four queries,
    #: the story's payload and the JSON encoding.
    ANALYSIS_CACHE_SIZE = 2048

    def analyze(self, url: str, *, html: str | None = None, title: str | None = None) -> dict:
        """The outlet, the article, its story and the article's lean for a page a reader is on. The dict
        returned is a copy; its nested values may be shared with later answers and must not be changed."""
        return dict(self._analysis(url, html, title).answer)

    def analyze_json(self, url: str, *, html: str | None = None, title: str | None = None) -> bytes:
        """:meth:`analyze`'s answer as the API's JSON (``api_types.to_json``)."""
        return self._analysis(url, html, title).json()

    def _analysis(self, url: str, html: str | None, title: str | None):
        from .analysis import Analysis, analyze
        from .urls import normalize_url

        url = normalize_url(url)
        index = self.index()
        generation = self.store.generation()  # read before the answer is made: see storage.generation
        key = (url, index.version)
        known = self._analyses.get(key)
        if known is not None and generation is not None and known.generation == generation:
            return known
        answer, reusable = analyze(self, url, html=html, title=title)
        found = Analysis(answer, generation)
        if reusable and generation is not None:
            self._analyses.put(key, found)
        return found

    def refresh_stories(self) -> int:
        """Bring every story row's listing columns up to date with the current ratings; how many were rewritten.

        Cheap when nothing changed: the rows' ratings stamp is compared in full only when this process sees a
        new ratings version, otherwise only rows marked stale (an indexed lookup) are looked for.
        """
        from .storyrows import has_stale_rows

        index = self.index()
        version = self.story_rows.version(index)
        all_versions = version != self._rows_version
        if not all_versions:
            with self.store.connect() as conn:
                if not has_stale_rows(conn):
                    return 0
        with self.store.begin() as conn:
            self.clusterer.lock(conn)  # no article joins a story while its row is rewritten
            written = self.story_rows.refresh(conn, all_versions=all_versions)
        self._rows_version = version
        return written

    def story(self, story_id: int) -> dict:
        """One story's full coverage (NotFoundError if there is none)."""
        self.refresh_stories()
        with self.store.connect() as conn:
            return self.story_payload(conn, story_id)

    #: Story payloads kept in memory (see :meth:`story_payload`).
    STORY_CACHE_SIZE = 512

    def story_payload(self, conn, story_id: int, *, exclude_url: str | None = None,
                      reader_outlet: str | None = None) -> dict:
        """``coverage.story_payload`` of a story (without the article at ``exclude_url``; with the reader's own
        outlet counted among its sources when ``reader_outlet`` is given), read in ``conn``.

        A story's payload is a function of its articles and the ratings, so it is computed once per change:
        kept by (story, ratings version, the story's ``updated_at`` and ``article_count``, which every article
        joining it changes), and checked with one primary-key read. analyze of a stored article, the
        extension's most common call, otherwise rebuilt the whole story on every visit. The dict returned is
        a copy; its nested values are shared and must not be changed.
        """
        import sqlalchemy as sa

        from .coverage import story_payload
        from .errors import NotFoundError
        from .storage import stories

        index = self.index()
        stamp = conn.execute(sa.select(stories.c.updated_at, stories.c.article_count)
                             .where(stories.c.id == story_id)).first()
        if stamp is None:
            raise NotFoundError(f"no story {story_id}")
        key = (story_id, index.version, str(stamp[0]), stamp[1], reader_outlet)
        payload = self._stories.get(key)
        if payload is None:
            payload = story_payload(conn, story_id, index, self.blindspot_rule, reader_outlet=reader_outlet)
            self._stories.put(key, payload)
        payload = dict(payload)
        if exclude_url is not None and "articles" in payload:
            payload["articles"] = {side: [a for a in items if a["url"] != exclude_url]
                                   for side, items in payload["articles"].items()}
        return payload

    def stories(self, query: StoryQuery) -> tuple[list[dict], bool]:
        """A page of stories, newest first (one query): (stories, whether there is a next page)."""
        from .storyrows import list_stories

        self.refresh_stories()
        with self.store.connect() as conn:
            return list_stories(conn, self.story_rows, self.index(), query)

    def list_stories(self, *, since=None, blindspot: str | None = None, limit: int = 20,
                     min_sources: int = 1, offset: int = 0) -> list[dict]:
        """Recent stories, newest first, optionally only blindspots for one side."""
        from .storyrows import StoryQuery

        return self.stories(StoryQuery(since=since, blindspot=blindspot, limit=limit, min_sources=min_sources,
                                       offset=offset))[0]

    def source(self, key: str, *, limit: int = 20, offset: int = 0) -> dict:
        """An outlet's page: its ratings (each rater's), details, recent articles and how often its stories
        are blindspots. ``key`` is a domain or alias; NotFoundError when nothing is known about it."""
        from .coverage import outlet_summary
        from .errors import NotFoundError
        from .storyrows import outlet_stats, recent_articles

        index = self.index()
        outlet = index.outlet_for_key(key)
        keys = [outlet.domain] if outlet else [key]
        with self.store.connect() as conn:
            stats = outlet_stats(conn, keys)
            if outlet is None and not stats["articles"]:
                raise NotFoundError(f"no outlet {key}")
            recent, more = recent_articles(conn, keys, limit=limit, offset=offset)
        return {"outlet": outlet.to_dict(index.rater_names) if outlet else outlet_summary(index, key),
                "rated": outlet is not None, "stats": stats, "articles": recent, "more": more}

    def counts(self) -> dict:
        return self.store.counts()

    # -- the article scorer ----------------------------------------------------------------------------

    @cached_property
    def _model(self):
        """(model, None) or (None, reason). Loaded once, lazily, only from the configured path."""
        path = self.settings.resolved_model_path
        if not path.exists():
            return None, (f"no model installed at {path}; train one with 'newstilt train --data FILE' "
                          "or 'newstilt train --from-store'")
        from .classifier import load

        try:
            return load(path), None
        except ModelError as exc:
            LOGGER.error("model at %s refused: %s", path, exc)
            return None, str(exc)

    #: Answers of the scorer kept in memory, by a digest of what was scored: analyze of a stored article (the
    #: extension's most common call) would otherwise score the same text on every visit, 5-25 ms of CPU.
    SCORE_CACHE_SIZE = 2048

    def score(self, title: str, text: str) -> dict:
        """The article scorer's answer, or ``{"model": None, "reason": ...}`` without a usable model. The same
        model always answers the same for the same title and text, so answers are cached: the dict returned is a
        copy, but its nested lists and dicts are shared and must not be changed."""
        model, reason = self._model
        if model is None:
            return {"model": None, "reason": reason}
        key = hashlib.blake2b(f"{title}\x00{text}".encode("utf-8", "surrogatepass"), digest_size=16).digest()
        answer = self._scores.get(key)
        if answer is None:
            answer = model.score(title, text)
            self._scores.put(key, answer)
        return dict(answer)

    def share_scorer(self, other: Newstilt) -> None:
        """Use the scorer ``other`` loaded (or its reason for having none) instead of loading one: each web
        process forked from the supervisor thereby keeps the scorer's arrays and tables in the memory pages it
        shares with the supervisor and its siblings rather than in a copy of its own (measured: about
        200 MB less private memory per process)."""
        if other.settings.resolved_model_path != self.settings.resolved_model_path:
            raise ValueError("a scorer is shared only between settings with the same model path")
        self.__dict__["_model"] = other._model

    def model_status(self) -> dict:
        """Whether a scoring model is loaded, its version and its measured figures (for /healthz, serve)."""
        model, reason = self._model
        if model is None:
            return {"loaded": False, "reason": reason}
        meta = model.metadata
        return {"loaded": True, **model.model_info(), "path": str(self.settings.resolved_model_path),
                "trained_on": meta.get("training_data"), "evaluation": meta.get("evaluation")}

    def training_records(self) -> Iterator[dict]:
        """The stored articles of rated outlets, labelled with their outlet's side (distant supervision)."""
        from .training import store_records

        return store_records(self.store, self.index())


def make_newstilt(settings: Settings | None = None, **overrides) -> Newstilt:
    """A :class:`Newstilt` from ``settings`` (default: the environment), with ``overrides`` applied."""
    if settings is None:
        settings = Settings.from_env(**overrides)
    elif overrides:
        settings = settings.replace(**overrides)
    return Newstilt(settings)
