"""Schema migrations: a new database, a 0.1.0 database upgraded in place, and refusal of an unknown revision,
on SQLite and PostgreSQL."""
from __future__ import annotations

import gzip
import shutil

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from newstilt.errors import StorageError
from newstilt.storage import Store, articles, cluster_df, cluster_meta, feeds, migrate, rater_ratings, stories
from newstilt.storage.schema import metadata

from .conftest import RESOURCES

UPGRADE = RESOURCES / "upgrade"
#: What the 0.1.0 fixture holds (made by release 0.1.0 from tests/resources/stories/articles.jsonl, the two
#: ratings fixtures and two feeds).
V010_COUNTS = {"articles": 28, "stories": 14, "feeds": 2, "rater_ratings": 11, "rater_aliases": 2,
               "story_terms": 815, "story_postings": 494, "cluster_df": 677, "syndication_bands": None}


def _schema_differences(engine: sa.Engine) -> list:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, metadata)


def _counts(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {name: conn.execute(sa.text(f"SELECT COUNT(*) FROM {name}")).scalar() for name in V010_COUNTS}


def test_a_new_database_gets_every_revision_and_exactly_the_schema(database_url):
    store = Store(database_url)
    store.ensure_schema()
    with store.engine.connect() as conn:
        assert migrate.current(conn) == migrate.head()
    assert _schema_differences(store.engine) == []
    assert migrate.upgrade(store.engine) == (migrate.head(), migrate.head())  # a second run changes nothing
    store.close()


def _load_v010_sqlite(tmp_path) -> str:
    path = tmp_path / "newstilt.sqlite3"
    with gzip.open(UPGRADE / "newstilt-0.1.0.sqlite3.gz") as src, path.open("wb") as dst:
        shutil.copyfileobj(src, dst)
    return f"sqlite:///{path}"


def _load_v010_postgres(url: str) -> str:
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    sql = gzip.open(UPGRADE / "newstilt-0.1.0-postgresql.sql.gz", "rt", encoding="utf-8").read()
    with engine.begin() as conn:
        conn.exec_driver_sql(sql)
    engine.dispose()
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def v010_database(request, tmp_path):
    """A database made by release 0.1.0, on each backend."""
    if request.param == "sqlite":
        return _load_v010_sqlite(tmp_path)
    return _load_v010_postgres(request.getfixturevalue("postgres_url"))


def test_a_010_database_upgrades_in_place_with_nothing_lost(v010_database):
    store = Store(v010_database)
    with store.engine.connect() as conn:
        assert migrate.current(conn) == migrate.BASELINE
        assert not sa.inspect(conn).has_table("alembic_version")
        before = {
            "articles": conn.execute(sa.select(articles.c.url, articles.c.title, articles.c.story_id)
                                     .order_by(articles.c.id)).all(),
            "stories": conn.execute(sa.select(stories.c.id, stories.c.title).order_by(stories.c.id)).all(),
            "feeds": conn.execute(sa.select(feeds.c.url, feeds.c.outlet).order_by(feeds.c.id)).all(),
            "ratings": conn.execute(sa.select(rater_ratings.c.key, rater_ratings.c.bias_score)
                                    .order_by(rater_ratings.c.rater, rater_ratings.c.key)).all(),
        }
    counts = _counts(store.engine)
    assert {k: v for k, v in counts.items() if V010_COUNTS[k] is not None} == \
        {k: v for k, v in V010_COUNTS.items() if v is not None}

    assert migrate.upgrade(store.engine) == (migrate.BASELINE, migrate.head())

    assert _schema_differences(store.engine) == []
    assert _counts(store.engine) == counts
    with store.engine.connect() as conn:
        assert migrate.current(conn) == migrate.head()
        assert conn.execute(sa.select(articles.c.url, articles.c.title, articles.c.story_id)
                            .order_by(articles.c.id)).all() == before["articles"]
        assert conn.execute(sa.select(stories.c.id, stories.c.title).order_by(stories.c.id)).all() == \
            before["stories"]
        assert conn.execute(sa.select(feeds.c.url, feeds.c.outlet).order_by(feeds.c.id)).all() == before["feeds"]
        assert conn.execute(sa.select(rater_ratings.c.key, rater_ratings.c.bias_score)
                            .order_by(rater_ratings.c.rater, rater_ratings.c.key)).all() == before["ratings"]
        # revision 0005: the 0.1.0 articles have no language, so they are English, and so are their counts
        assert dict(conn.execute(sa.select(cluster_meta.c.key, cluster_meta.c.value)).all()) == \
            {"documents": 28, "documents:en": 28}
        assert set(conn.execute(sa.select(cluster_df.c.language).distinct()).scalars()) == {"en"}
        assert set(conn.execute(sa.select(stories.c.language).distinct()).scalars()) == {"en"}
    store.close()


def test_revision_0005_counts_documents_per_language(v010_database):
    """The clustered articles are counted per language (none: English), the other languages' document
    frequencies are counted from their articles, and a story takes its first member's language."""
    engine = sa.create_engine(v010_database.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        first, second = conn.execute(sa.select(stories.c.id).order_by(stories.c.id).limit(2)).scalars()
        conn.execute(articles.update().where(articles.c.story_id == first).values(language="fr-FR"))
        conn.execute(articles.update().where(articles.c.story_id == second).values(language="es"))
        n_fr, n_es = (conn.execute(sa.select(sa.func.count()).select_from(articles)
                                   .where(articles.c.story_id == sid)).scalar() for sid in (first, second))
    engine.dispose()
    store = Store(v010_database)
    migrate.upgrade(store.engine)
    with store.engine.connect() as conn:
        assert dict(conn.execute(sa.select(cluster_meta.c.key, cluster_meta.c.value)).all()) == {
            "documents": 28, "documents:en": 28 - n_fr - n_es, "documents:fr": n_fr, "documents:es": n_es}
        languages = dict(conn.execute(sa.select(stories.c.id, stories.c.language)).all())
        assert languages.pop(first) == "fr" and languages.pop(second) == "es"
        assert set(languages.values()) == {"en"}
        df = {(lang, term): n for lang, term, n in conn.execute(sa.select(cluster_df))}
        assert sum(1 for lang, _ in df if lang == "en") == V010_COUNTS["cluster_df"]  # English's as they were
        for lang, n_docs in (("fr", n_fr), ("es", n_es)):
            counted = {term: n for (code, term), n in df.items() if code == lang}
            assert counted and max(counted.values()) <= n_docs
    store.close()


def test_a_database_from_a_newer_release_is_refused_untouched(database_url):
    store = Store(database_url)
    store.ensure_schema()
    with store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999_future'"))
    with pytest.raises(StorageError, match="9999_future.*newer release"):
        migrate.upgrade(store.engine)
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == "9999_future"
    store.close()


def test_stories_of_a_010_database_get_their_listing_columns_on_first_use(v010_database, tmp_path):
    """Revision 0004 adds the listing columns empty (stale); the first listing fills them from the articles."""
    from newstilt.config import Settings
    from newstilt.core import Newstilt

    with Newstilt(Settings.from_env({}, data_dir=tmp_path, database_url=v010_database)) as nt:
        with nt.store.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(stories)
                                .where(stories.c.counts_version.is_(None))).scalar() == V010_COUNTS["stories"]
        listed = nt.list_stories(limit=100)
        assert len(listed) == V010_COUNTS["stories"]
        with nt.store.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(stories)
                                .where(stories.c.counts_version.is_(None))).scalar() == 0
        for item in listed:
            detail = nt.story(item["id"])
            assert item["distribution"] == detail["distribution"] and item["summary"] == detail["summary"]
        assert any(len(item["summary"]) >= 3 for item in listed if item["source_count"] >= 2)
