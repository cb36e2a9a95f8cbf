"""Answers kept in memory (issue #11, load): analyze of a stored article and outlet lookups are served from
memory while nothing changed, and never once something did, whichever process changed it.

The check is the database's change token (``Store.generation``): one trivial statement instead of the four
queries, the story payload and the JSON encoding an answer otherwise costs.
"""
from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from newstilt.api_types import to_json
from newstilt.config import Settings
from newstilt.core import Newstilt
from newstilt.storage import Store, articles

from .conftest import FIXTURE_OUTLETS, RESOURCES
from .ingest.test_pipeline import page
from .test_stories_api import EVENT

WHEN = datetime(2024, 3, 12, 9, tzinfo=UTC)


def _newstilt(tmp_path, database_url) -> Newstilt:
    return Newstilt(Settings.from_env({}, data_dir=tmp_path, database_url=database_url,
                                      ratings_file=FIXTURE_OUTLETS))


def _add(nt: Newstilt, outlet, url, title, text) -> int:
    with nt.store.begin() as conn:
        article_id = nt.store.add_article(conn, url=url, title=title, text=text, origin="import", outlet=outlet,
                                          published=WHEN)
        nt.clusterer.add(conn, article_id)
    return article_id


class Statements:
    """Counts the statements an engine's pooled connections execute."""

    def __init__(self, engine: sa.Engine):
        self.engine, self.count = engine, 0
        sa.event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args) -> None:
        self.count += 1

    def close(self) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._seen)


def test_the_change_token_moves_with_every_commit_of_any_connection(database_url):
    """Another Store is another engine, as another process would have: its commits, and this store's own
    writes, change the token; reads do not."""
    ours, theirs = Store(database_url), Store(database_url)
    try:
        first = ours.generation()
        assert first is not None and ours.generation() == first
        with ours.connect() as conn:
            conn.execute(sa.select(articles)).all()
        assert ours.generation() == first                                  # a read commits nothing
        theirs.add_feed("https://www.example.com/feed.xml", None)
        second = ours.generation()
        assert second != first                                             # another engine committed
        ours.add_feed("https://www.example.com/other.xml", None)
        assert ours.generation() != second                                 # this store's own pool did
    finally:
        ours.close()
        theirs.close()


def test_an_in_memory_database_has_no_token_and_nothing_is_served_from_memory():
    store = Store("sqlite://")
    try:
        assert store.generation() is None
    finally:
        store.close()


def test_analyze_of_a_stored_article_is_served_from_memory_until_another_process_changes_it(tmp_path,
                                                                                           database_url):
    nt, other = _newstilt(tmp_path, database_url), _newstilt(tmp_path, database_url)
    url = EVENT[0][1]
    try:
        _add(nt, *EVENT[0])
        _add(nt, *EVENT[1])
        first = nt.analyze(url)
        assert first["article"]["stored"] and first["story"]["source_count"] == 2
        statements = Statements(nt.store.engine)
        try:
            again = nt.analyze(url)
            assert again == first and statements.count == 0               # four queries per visit before
            assert nt.analyze_json(url) == to_json(first)
            assert json.loads(nt.analyze_json(url)) == first
        finally:
            statements.close()

        _add(other, *EVENT[2])                                             # another process: a third outlet
        joined = nt.analyze(url)
        assert joined["story"]["source_count"] == 3 and joined["story"]["article_count"] == 3
        assert json.loads(nt.analyze_json(url))["story"]["source_count"] == 3

        with other.store.begin() as conn:                                  # a better fetch replaced the text
            conn.execute(sa.update(articles).where(articles.c.url == url)
                         .values(text=EVENT[0][3] + " Divers found two of the missing workers alive."))
        assert nt.analyze(url)["article"]["text_length"] == len(EVENT[0][3]) + 47
    finally:
        nt.close()
        other.close()


def test_an_answer_found_through_the_pages_canonical_address_is_not_given_to_the_bare_address(tmp_path,
                                                                                             database_url):
    """The reader's address is not stored; the page it sent names a stored canonical URL. A later request
    for the same address without the page must not be answered with that article."""
    nt = _newstilt(tmp_path, database_url)
    canonical = EVENT[0][1]
    visited = "https://www.nytimes.com/live/2024/03/12/us/bridge-updates"
    try:
        _add(nt, *EVENT[0])
        _add(nt, *EVENT[1])
        html = page(EVENT[0][2], canonical).decode()
        with_page = nt.analyze(visited, html=html)
        assert with_page["article"]["stored"] and with_page["story"] is not None
        bare = nt.analyze(visited)
        assert bare["article"] is None and bare["story"] is None
    finally:
        nt.close()


def test_a_lookup_answer_kept_in_memory_follows_the_ratings(client, app):
    """Lookups are kept by their raw query string and the ratings version: an import changes the answer."""
    query = {"url": EVENT[0][1]}
    first = client.get("/api/v1/sources/lookup", query_string=query)
    assert first.status_code == 200 and client.get("/api/v1/sources/lookup", query_string=query).data == first.data
    assert {r["rater"] for r in first.json["outlet"]["raters"]} == {"newstilt"}
    assert client.get("/api/v1/sources/lookup", query_string={"url": "https://unrated.example/x"}).status_code == 404
    app.extensions["newstilt"].import_ratings(RESOURCES / "ratings" / "allsides-fixture.csv", "allsides")
    after = client.get("/api/v1/sources/lookup", query_string=query)
    assert after.status_code == 200 and "allsides" in {r["rater"] for r in after.json["outlet"]["raters"]}
    assert after.json == app.extensions["newstilt"].lookup(EVENT[0][1])


@pytest.mark.parametrize("workers", [1, 2])
def test_the_web_api_answers_from_memory_and_sees_another_process_write(tmp_path, workers):
    """Through the real server: after an article joins the story from another process (the CLI, the
    ingester), every web process answers with the new count at once."""
    import httpx

    from .test_serving import Serve

    nt = Newstilt(Settings.from_env({}, data_dir=tmp_path, ratings_file=FIXTURE_OUTLETS))
    _add(nt, *EVENT[0])
    _add(nt, *EVENT[1])
    server = Serve(tmp_path, "--workers", str(workers), "--no-ingest")
    try:
        assert server.base, server.first
        counts = set()
        for _ in range(4 * workers):  # new connections: each web process answers some
            with httpx.Client(base_url=server.base, timeout=30) as http:
                counts.add(http.post("/api/v1/analyze", json={"url": EVENT[0][1]}).json()["story"]["source_count"])
        assert counts == {2}
        _add(nt, *EVENT[2])
        counts = set()
        for _ in range(4 * workers):
            with httpx.Client(base_url=server.base, timeout=30) as http:
                counts.add(http.post("/api/v1/analyze", json={"url": EVENT[0][1]}).json()["story"]["source_count"])
        assert counts == {3}
    finally:
        server.stop()
        nt.close()


@pytest.mark.postgres
def test_the_change_token_survives_its_connection_being_closed_by_the_server(postgres_url):
    import psycopg

    ours, theirs = Store(postgres_url), Store(postgres_url)
    try:
        first = ours.generation()
        with psycopg.connect(postgres_url.split("?")[0], autocommit=True) as admin:
            killed = admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                   "WHERE query LIKE '%pg_current_snapshot%' AND pid <> pg_backend_pid()").fetchall()
        assert killed and all(row[0] for row in killed)
        again = ours.generation()                       # reopened: a token, not an error
        assert again is not None
        theirs.add_feed("https://www.example.com/feed.xml", None)
        assert ours.generation() not in (again, None) and first is not None
    finally:
        ours.close()
        theirs.close()


@pytest.mark.postgres
def test_threads_sharing_token_reads_never_get_one_older_than_their_call(postgres_url):
    """On PostgreSQL the threads of a process share round trips: a read that began before a caller arrived
    must not answer it. Each thread commits, then asks: its token must differ from the one before."""
    import threading

    ours, theirs = Store(postgres_url), Store(postgres_url)
    ours.ensure_schema()
    theirs.ensure_schema()
    stale, calls = [], []

    def work(n: int) -> None:
        for i in range(15):
            before = ours.generation()
            theirs.add_feed(f"https://www.example.com/{n}/{i}.xml", None)
            after = ours.generation()
            calls.append(2)
            if after is None or after == before:
                stale.append((n, i, before, after))

    def ask() -> None:
        for _ in range(200):
            ours.generation()
            calls.append(1)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)] + \
              [threading.Thread(target=ask) for _ in range(4)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not stale
        assert ours._generation._started <= sum(calls)
    finally:
        ours.close()
        theirs.close()
