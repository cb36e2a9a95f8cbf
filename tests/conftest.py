"""Shared fixtures: an app on a temporary database, and the database backends to run against."""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from newstilt.config import Settings
from newstilt.storage import Store
from newstilt.web import create_app

RESOURCES = Path(__file__).parent / "resources"
FIXTURE_OUTLETS = RESOURCES / "ratings" / "outlets-fixture.csv"
POSTGRES_URL = os.environ.get("NEWSTILT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _postgres_available() -> str | None:
    """None when the test PostgreSQL answers, else why not."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed"
    try:
        with psycopg.connect(POSTGRES_URL, connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return f"PostgreSQL at {POSTGRES_URL} is not reachable: {exc}"


@pytest.fixture(scope="session")
def postgres_reason():
    return _postgres_available()


@pytest.fixture
def postgres_url(postgres_reason):
    """A PostgreSQL URL on a schema of its own, dropped afterwards. CI must have PostgreSQL: never skips there."""
    if postgres_reason:
        if os.environ.get("CI"):
            pytest.fail(f"CI needs PostgreSQL for the storage tests: {postgres_reason}")
        pytest.skip(postgres_reason)
    import psycopg

    schema = f"nt_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in POSTGRES_URL else "?"
    yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    """Each test that asks for it runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'newstilt.sqlite3'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def store(database_url):
    store = Store(database_url)
    store.ensure_schema()
    yield store
    store.close()


@pytest.fixture
def app(tmp_path, database_url):
    app = create_app(Settings.from_env({}, data_dir=tmp_path, database_url=database_url,
                                       ratings_file=FIXTURE_OUTLETS), testing=True)
    yield app
    app.extensions["newstilt"].close()


@pytest.fixture
def client(app):
    return app.test_client()
