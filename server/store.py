"""Storage: one SQLAlchemy Core layer over SQLite (the embedded default) and PostgreSQL.

The backend is chosen by the database URL. ``postgresql://`` URLs use psycopg 3. The schema is created on
first use; SQLite runs in WAL mode so the service and a CLI command can share one file.
"""
from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event

LOGGER = logging.getLogger(__name__)

metadata = sa.MetaData()

#: One row per imported rater (``mbfc``, ``allsides``): what was imported last and a hash of its content.
raters = sa.Table(
    "raters",
    metadata,
    sa.Column("rater", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("source_file", sa.Text, nullable=False),
    sa.Column("file_sha256", sa.String(64), nullable=False),
    sa.Column("content_sha256", sa.String(64), nullable=False),
    sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
)

#: Each rater's own rating of an outlet, keyed by the rater's normalised key (host or host/path).
rater_ratings = sa.Table(
    "rater_ratings",
    metadata,
    sa.Column("rater", sa.String(32), primary_key=True),
    sa.Column("key", sa.String(512), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("bias_score", sa.Float, nullable=True),
    sa.Column("bias_raw", sa.String(100), nullable=True),
    sa.Column("factuality", sa.String(32), nullable=True),
    sa.Column("url", sa.Text, nullable=True),
    sa.Column("extra", sa.Text, nullable=True),
)

#: Aliases a rater declares (MBFC's ``aliases`` map): alias key -> the rater's key.
rater_aliases = sa.Table(
    "rater_aliases",
    metadata,
    sa.Column("rater", sa.String(32), primary_key=True),
    sa.Column("alias", sa.String(512), primary_key=True),
    sa.Column("target", sa.String(512), nullable=False),
)


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
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return sa.create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


class Store:
    """The database: schema, transactions, and the queries the rest of newstilt needs."""

    def __init__(self, url: str):
        self.url = normalise_database_url(url)
        self.engine = create_engine(self.url)
        self._schema_ready = False

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    def ensure_schema(self) -> None:
        if not self._schema_ready:
            metadata.create_all(self.engine, checkfirst=True)
            self._schema_ready = True

    def begin(self):
        """A transaction: ``with store.begin() as conn: ...``."""
        self.ensure_schema()
        return self.engine.begin()

    def connect(self):
        self.ensure_schema()
        return self.engine.connect()

    def close(self) -> None:
        self.engine.dispose()

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
