"""Storage: one SQLAlchemy Core layer over SQLite (the embedded default) and PostgreSQL.

The backend is chosen by the database URL. ``postgresql://`` URLs use psycopg 3. The schema is created on
first use; SQLite runs in WAL mode so the service and a CLI command can share one file.
"""
from __future__ import annotations

import hashlib
import json
import logging
import select
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event

from .generation import Generation
from .schema import (
    article_urls,
    articles,
    cluster_df,
    cluster_meta,
    entry_failures,
    feeds,
    metadata,
    rater_aliases,
    rater_ratings,
    raters,
    stories,
    story_postings,
    story_terms,
    story_title_vectors,
    syndication_bands,
)

__all__ = [
    "Store", "article_urls", "articles", "cluster_df", "cluster_meta", "content_hash", "create_engine",
    "entry_failures", "feeds", "metadata", "normalise_database_url", "rater_aliases", "rater_ratings", "raters",
    "stories", "story_postings", "story_terms", "story_title_vectors", "syndication_bands", "utcnow",
]

LOGGER = logging.getLogger(__name__)

#: Execution option marking a connection that only reads (``Store.connect``).
READ_ONLY = "newstilt_read_only"
#: SQLite: the size the write-ahead log is cut back to after a checkpoint (``PRAGMA journal_size_limit``).
WAL_SIZE_LIMIT = 16 * 1024 * 1024
#: SQLite: ``checkpoint_if_over`` checkpoints once the log is this large.
WAL_CHECKPOINT_SIZE = 16 * 1024 * 1024


def utcnow() -> datetime:
    return datetime.now(UTC)


def normalise_database_url(url: str) -> str:
    """Accept the usual ``postgres://`` / ``postgresql://`` spellings and use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def create_engine(url: str) -> sa.Engine:
    url = normalise_database_url(url)
    if url.startswith("sqlite"):
        path = sa.engine.make_url(url).database
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            # Let pysqlite leave transactions to SQLAlchemy's BEGIN (below), so they really are atomic.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            # The default page cache is 2 MB; the clustering index outgrows it within a few thousand articles
            # and every lookup then goes to the OS. 16 MB of cache per connection, and reads through mmap
            # (shared by every connection, so it costs no memory of its own).
            cursor.execute("PRAGMA cache_size=-16000")
            cursor.execute("PRAGMA mmap_size=268435456")
            cursor.execute("PRAGMA temp_store=MEMORY")
            # Once a checkpoint has emptied the write-ahead log, cut the file back to this size (the log is
            # otherwise reused at its largest). Keeping it from growing takes checkpoints: Store.checkpoint.
            cursor.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            # Writers take the write lock up front (a deferred transaction that later writes can fail with
            # "database is locked" at once, whatever the busy timeout); readers (``Store.connect``) begin a
            # deferred transaction, a WAL snapshot that neither waits for writers nor holds them up.
            conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE")

        return engine
    engine = sa.create_engine(url, pool_size=10, max_overflow=10, pool_recycle=3600)

    @event.listens_for(engine, "checkout")
    def _alive(dbapi_connection, _record, _proxy):
        # Instead of pool_pre_ping's round trip on every checkout (measured ~0.2 ms CPU, ~0.5 ms wall a
        # request): a pooled connection is idle, so anything to read on its socket means the server closed
        # it (a restart, pg_terminate_backend, an idle timeout). The pool then opens a new one.
        if dbapi_connection.closed or dbapi_connection.broken:
            raise sa.exc.DisconnectionError("connection closed")
        readable, _, _ = select.select([dbapi_connection.fileno()], [], [], 0)
        if readable:
            raise sa.exc.DisconnectionError("the server closed the connection")

    return engine


class Store:
    """The database: schema, transactions, and the queries the rest of newstilt needs."""

    def __init__(self, url: str):
        self.url = normalise_database_url(url)
        self.engine = create_engine(self.url)
        self._schema_ready = False
        self._inserts: dict[tuple, sa.Insert] = {}
        self._generation = Generation(self.engine)

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    def ensure_schema(self) -> None:
        """Bring the database to this release's schema (creating it, or migrating it in place), once."""
        if not self._schema_ready:
            from .migrate import upgrade

            upgrade(self.engine)
            self._schema_ready = True

    def begin(self):
        """A transaction: ``with store.begin() as conn: ...``."""
        self.ensure_schema()
        return self.engine.begin()

    def connect(self):
        """A connection for reading: ``with store.connect() as conn: ...``. Write with :meth:`begin`.

        On SQLite its transaction is deferred: a snapshot of the database that does not block, and is not
        blocked by, the ingestion writing at the same time.
        """
        self.ensure_schema()
        return self.engine.connect().execution_options(**{READ_ONLY: True})

    def close(self) -> None:
        self._generation.close()
        self.engine.dispose()

    def generation(self) -> str | int | None:
        """A token that changes whenever anything is committed to the database (by any connection of any
        process), or None when that cannot be known; see :mod:`newstilt.storage.generation`."""
        self.ensure_schema()
        return self._generation.current()

    # -- SQLite's write-ahead log ---------------------------------------------------------------------------

    @property
    def wal_path(self) -> Path | None:
        """The write-ahead log of a SQLite database file (None for PostgreSQL and in-memory SQLite)."""
        if self.backend != "sqlite":
            return None
        database = self.engine.url.database
        return Path(f"{database}-wal") if database and database != ":memory:" else None

    def wal_size(self) -> int:
        path = self.wal_path
        try:
            return path.stat().st_size if path else 0
        except FileNotFoundError:
            return 0

    def checkpoint(self) -> tuple[int, int, int] | None:
        """SQLite: copy the write-ahead log into the database and truncate it to nothing
        (``PRAGMA wal_checkpoint(TRUNCATE)``); (busy, log frames, checkpointed frames), None elsewhere.

        SQLite's own checkpoints never wait for readers, and while readers keep coming (a server under load)
        the log can never start over: it grows without bound. This one waits (up to the busy timeout) for the
        readers of older snapshots to finish, holding writers back meanwhile. One process should call it: the
        one that writes (the ingester), after a batch of writes.
        """
        if self.wal_path is None:
            return None
        raw = self.engine.raw_connection()  # autocommit: a checkpoint cannot run inside a transaction
        try:
            cursor = raw.cursor()
            busy, log, done = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            cursor.close()
        finally:
            raw.close()
        if busy:
            LOGGER.warning("write-ahead log checkpoint could not finish (readers busy): %s of %s frames", done, log)
        return busy, log, done

    def checkpoint_if_over(self, size: int = WAL_CHECKPOINT_SIZE) -> tuple[int, int, int] | None:
        """:meth:`checkpoint` when the write-ahead log has grown past ``size`` bytes (a ``stat``, otherwise)."""
        return self.checkpoint() if self.wal_path is not None and self.wal_size() > size else None

    # -- feeds -----------------------------------------------------------------------------------------

    def add_feed(self, url: str, outlet: str | None, title: str | None = None, *,
                 origin: str = "user") -> tuple[int, bool]:
        """Register a feed (or re-enable and update it); returns (id, created).

        ``origin`` is ``user`` for a feed the user adds or imports, ``default`` for the bundled list. The bundled
        list stands in only while the user has no feed of their own: adding a user feed removes the default
        ones (their articles stay), and a default feed the user adds by hand becomes theirs.
        """
        with self.begin() as conn:
            if origin == "user":
                conn.execute(feeds.delete().where(feeds.c.origin == "default", feeds.c.url != url))
            feed_id = self.insert_ignore(conn, feeds, {
                "url": url, "outlet": outlet, "title": title, "enabled": True, "error_count": 0,
                "added_at": utcnow(), "origin": origin}, ["url"])
            if feed_id is not None:
                return feed_id, True
            values = {"outlet": outlet, "title": title or feeds.c.title, "enabled": True}
            if origin == "user":
                values["origin"] = "user"
            conn.execute(feeds.update().where(feeds.c.url == url).values(**values))
            return conn.execute(sa.select(feeds.c.id).where(feeds.c.url == url)).scalar_one(), False

    def list_feeds(self, *, enabled_only: bool = False) -> list[dict]:
        """The registered feeds. ``enabled_only``: the ones an ingestion pass reads, which are the user's when
        there are any (a 0.1.0 database may still hold default feeds beside them), else the defaults."""
        query = sa.select(feeds).order_by(feeds.c.outlet, feeds.c.url)
        with self.connect() as conn:
            rows = [row._asdict() for row in conn.execute(query)]
        if enabled_only:
            has_user = any(row["origin"] == "user" for row in rows)
            rows = [row for row in rows if row["enabled"] and (row["origin"] == "user" or not has_user)]
        return rows

    def _feed_where(self, ident: str):
        return feeds.c.id == int(ident) if str(ident).isdigit() else feeds.c.url == ident

    def remove_feed(self, ident: str) -> bool:
        with self.begin() as conn:
            return conn.execute(feeds.delete().where(self._feed_where(ident))).rowcount > 0

    def set_feed_enabled(self, ident: str, enabled: bool) -> bool:
        with self.begin() as conn:
            return conn.execute(feeds.update().where(self._feed_where(ident)).values(enabled=enabled)).rowcount > 0

    def record_feed_fetch(self, feed_id: int, *, status: str, ok: bool, etag: str | None = None,
                          last_modified: str | None = None, next_attempt_at: datetime | None = None,
                          count_error: bool = True, disable: bool = False) -> None:
        """Record a fetch of a feed: its status line; on success its validators and a clean error count, on
        failure one more error (unless ``count_error`` is False: the network, not the feed, failed), the time
        before which it is not tried again, and ``disable`` to turn a feed that keeps failing off."""
        values: dict = {"last_fetched_at": utcnow(), "last_status": status[:500]}
        if ok:
            values.update(etag=etag, last_modified=last_modified, error_count=0, next_attempt_at=None)
        else:
            if count_error:
                values["error_count"] = feeds.c.error_count + 1
            values["next_attempt_at"] = next_attempt_at
            if disable:
                values["enabled"] = False
        with self.begin() as conn:
            conn.execute(feeds.update().where(feeds.c.id == feed_id).values(**values))

    # -- feed entries whose page failed -------------------------------------------------------------------

    def entry_failures(self, conn, urls: Iterable[str]) -> dict[str, dict]:
        """The recorded failures of these entry URLs: ``{url: {"attempts", "next_attempt_at", ...}}``."""
        urls = list(dict.fromkeys(urls))
        found: dict[str, dict] = {}
        for i in range(0, len(urls), 500):
            rows = conn.execute(sa.select(entry_failures).where(entry_failures.c.url.in_(urls[i:i + 500])))
            found.update((row.url, row._asdict()) for row in rows)
        return found

    def record_entry_failure(self, url: str, feed_id: int | None, error: str, next_attempt_at: datetime) -> int:
        """One more failed attempt at an entry's page; returns how many there have been."""
        now = utcnow()
        with self.begin() as conn:
            attempts = conn.execute(sa.select(entry_failures.c.attempts).where(entry_failures.c.url == url)).scalar()
            if attempts is None:
                self.insert_ignore(conn, entry_failures, {
                    "url": url, "feed_id": feed_id, "attempts": 1, "last_error": error[:1000],
                    "last_attempt_at": now, "next_attempt_at": next_attempt_at}, ["url"])
                return 1
            conn.execute(entry_failures.update().where(entry_failures.c.url == url).values(
                attempts=attempts + 1, last_error=error[:1000], last_attempt_at=now,
                next_attempt_at=next_attempt_at))
            return attempts + 1

    def clear_entry_failures(self, conn, urls: Iterable[str]) -> None:
        urls = [u for u in urls if u]
        if urls:
            conn.execute(entry_failures.delete().where(entry_failures.c.url.in_(urls)))

    # -- articles --------------------------------------------------------------------------------------

    def insert_ignore(self, conn, table: sa.Table, values: dict, conflict: list[str]):
        """INSERT that does nothing when a row with the same ``conflict`` columns exists; the new id or None."""
        key = (table.name, tuple(conflict))
        stmt = self._inserts.get(key)
        if stmt is None:
            # Built once, values bound at execution: SQLAlchemy then compiles it once too (a statement built
            # with .values() on every call cost more than the INSERT itself).
            if self.backend == "postgresql":
                from sqlalchemy.dialects.postgresql import insert
            else:
                from sqlalchemy.dialects.sqlite import insert
            stmt = insert(table).on_conflict_do_nothing(index_elements=conflict)
            if "id" in table.c:
                stmt = stmt.returning(table.c.id)
            self._inserts[key] = stmt
        result = conn.execute(stmt, values)
        return result.scalar() if "id" in table.c else None

    def add_article(self, conn, *, url: str, title: str, text: str, origin: str, outlet: str | None = None,
                    published: datetime | None = None, authors: str | None = None, language: str | None = None,
                    feed_id: int | None = None, fingerprint: str | None = None, text_source: str = "page",
                    aliases: Iterable[str] = ()) -> int | None:
        """Store an article unless its URL is stored already; returns its new id, or None if it existed.

        The article's URL and ``aliases`` (other addresses of the same article) are recorded in
        ``article_urls``. Safe under concurrency: two processes adding the same URL get one row between them.
        Deciding whether a page is an article already stored under another address is
        ``newstilt.articles.add_article``'s job; this only writes.
        """
        article_id = self.insert_ignore(conn, articles, {
            "url": url, "title": title, "text": text, "origin": origin, "outlet": outlet,
            "published": published, "authors": authors, "language": language, "feed_id": feed_id,
            "fingerprint": fingerprint, "text_source": text_source, "added_at": utcnow()}, ["url"])
        if article_id is not None:
            self.add_urls(conn, article_id, (url, *aliases))
        return article_id

    def add_urls(self, conn, article_id: int, urls: Iterable[str]) -> None:
        """Record more addresses of an article (an address already taken by another article keeps it)."""
        for url in dict.fromkeys(u for u in urls if u):
            self.insert_ignore(conn, article_urls, {"url": url, "article_id": article_id}, ["url"])

    def find_article(self, conn, urls: Iterable[str] = (), *, outlet: str | None = None,
                     fingerprint: str | None = None):
        """The stored article known by one of ``urls``, else the one of ``outlet`` with the same text
        ``fingerprint`` (the same page under another address); its row, or None."""
        urls = [u for u in dict.fromkeys(urls) if u]
        if urls:
            row = conn.execute(
                sa.select(articles).join(article_urls, article_urls.c.article_id == articles.c.id)
                .where(article_urls.c.url.in_(urls)).order_by(articles.c.id).limit(1)).first()
            if row is None:  # a row written without its addresses (by hand, or by another tool): its own URL
                row = conn.execute(sa.select(articles).where(articles.c.url.in_(urls))
                                   .order_by(articles.c.id).limit(1)).first()
            if row is not None:
                return row
        if fingerprint and outlet:
            return conn.execute(sa.select(articles).where(articles.c.fingerprint == fingerprint,
                                                          articles.c.outlet == outlet)
                                .order_by(articles.c.id).limit(1)).first()
        return None

    def article_id(self, conn, url: str) -> int | None:
        """The id of the article known by ``url`` (any of its addresses), or None."""
        return conn.execute(sa.select(article_urls.c.article_id).where(article_urls.c.url == url)).scalar()

    def known_urls(self, conn, urls: Iterable[str]) -> dict[str, str]:
        """Which of ``urls`` lead to a stored article: ``{url: the article's text_source}``."""
        urls = list(dict.fromkeys(urls))
        found: dict[str, str] = {}
        for i in range(0, len(urls), 500):
            chunk = urls[i:i + 500]
            found.update(conn.execute(
                sa.select(article_urls.c.url, articles.c.text_source)
                .join(articles, articles.c.id == article_urls.c.article_id)
                .where(article_urls.c.url.in_(chunk))).all())
        return found

    def iter_articles(self, batch: int = 1000):
        """Every stored article (id, url, outlet, title, text, published), in id order, read in batches."""
        last = 0
        cols = (articles.c.id, articles.c.url, articles.c.outlet, articles.c.title, articles.c.text,
                articles.c.published)
        while True:
            with self.connect() as conn:
                rows = conn.execute(sa.select(*cols).where(articles.c.id > last)
                                    .order_by(articles.c.id).limit(batch)).all()
            if not rows:
                return
            yield from (row._asdict() for row in rows)
            last = rows[-1].id

    def counts(self) -> dict:
        with self.connect() as conn:
            return {name: conn.execute(sa.select(sa.func.count()).select_from(table)).scalar()
                    for name, table in (("feeds", feeds), ("articles", articles), ("stories", stories))}

    # -- ratings -------------------------------------------------------------------------------------

    def replace_rater(self, rater: str, name: str, source_file: str, file_sha256: str,
                      ratings: list[dict], aliases: dict[str, str]) -> dict:
        """Replace everything ``rater`` said with ``ratings`` and ``aliases``, atomically.

        Returns counts of added, changed, unchanged and removed outlets. Re-importing the same content
        writes nothing and reports everything unchanged.
        """
        content_sha = content_hash(ratings, aliases)
        with self.begin() as conn:
            old_rows = {
                row.key: row._asdict()
                for row in conn.execute(sa.select(rater_ratings).where(rater_ratings.c.rater == rater))
            }
            new_rows = {row["key"]: {"rater": rater, **row} for row in ratings}
            added = [k for k in new_rows if k not in old_rows]
            removed = [k for k in old_rows if k not in new_rows]
            changed = [k for k in new_rows if k in old_rows and old_rows[k] != new_rows[k]]
            current = conn.execute(sa.select(raters.c.content_sha256).where(raters.c.rater == rater)).scalar()
            if current == content_sha:
                return {"added": 0, "changed": 0, "unchanged": len(new_rows), "removed": 0, "written": False}
            if removed or changed:
                conn.execute(rater_ratings.delete().where(
                    rater_ratings.c.rater == rater, rater_ratings.c.key.in_(removed + changed)))
            if added or changed:
                conn.execute(rater_ratings.insert(), [new_rows[k] for k in added + changed])
            conn.execute(rater_aliases.delete().where(rater_aliases.c.rater == rater))
            if aliases:
                conn.execute(rater_aliases.insert(),
                             [{"rater": rater, "alias": a, "target": t} for a, t in sorted(aliases.items())])
            conn.execute(raters.delete().where(raters.c.rater == rater))
            conn.execute(raters.insert().values(
                rater=rater, name=name, source_file=source_file, file_sha256=file_sha256,
                content_sha256=content_sha, imported_at=utcnow()))
        return {"added": len(added), "changed": len(changed), "unchanged": len(new_rows) - len(added) - len(changed),
                "removed": len(removed), "written": True}

    def ratings_fingerprint(self) -> str:
        """Changes whenever any imported rater changes; cheap enough to ask on every request."""
        with self.connect() as conn:
            rows = conn.execute(sa.select(raters.c.rater, raters.c.content_sha256).order_by(raters.c.rater)).all()
        return ";".join(f"{r}:{h}" for r, h in rows)

    def load_imported_ratings(self) -> tuple[list[dict], dict[str, str], dict[str, str]]:
        """All imported ratings, all imported aliases (alias -> target) and rater display names."""
        with self.connect() as conn:
            ratings = [row._asdict() for row in conn.execute(
                sa.select(rater_ratings).order_by(rater_ratings.c.rater, rater_ratings.c.key))]
            aliases = {row.alias: row.target for row in conn.execute(
                sa.select(rater_aliases).order_by(rater_aliases.c.rater, rater_aliases.c.alias))}
            names = {row.rater: row.name for row in conn.execute(sa.select(raters.c.rater, raters.c.name))}
        return ratings, aliases, names

    def list_raters(self) -> list[dict]:
        with self.connect() as conn:
            counts = dict(conn.execute(
                sa.select(rater_ratings.c.rater, sa.func.count()).group_by(rater_ratings.c.rater)).all())
            return [{**row._asdict(), "outlets": counts.get(row.rater, 0)}
                    for row in conn.execute(sa.select(raters).order_by(raters.c.rater))]


def content_hash(ratings: Iterable[dict], aliases: dict[str, str]) -> str:
    payload = json.dumps({"ratings": sorted(ratings, key=lambda r: r["key"]), "aliases": aliases},
                         sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()
