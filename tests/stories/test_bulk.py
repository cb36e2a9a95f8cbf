"""Bulk JSONL import: idempotent, tolerant of broken lines, resumable, clustered in publication order."""
from __future__ import annotations

import gzip
import json
import logging
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from newstilt.bulk import cluster_pending, import_jsonl, parse_published
from newstilt.cluster import Clusterer
from newstilt.storage import articles, stories

from .conftest import ARTICLES, read_items


def _story_totals(store):
    with store.connect() as conn:
        n_articles = conn.execute(sa.select(sa.func.count()).select_from(articles)).scalar()
        clustered = conn.execute(sa.select(sa.func.count()).select_from(articles)
                                 .where(articles.c.story_id.is_not(None))).scalar()
        counted = conn.execute(sa.select(sa.func.coalesce(sa.func.sum(stories.c.article_count), 0))).scalar()
        n_stories = conn.execute(sa.select(sa.func.count()).select_from(stories)).scalar()
    return n_articles, clustered, counted, n_stories


def test_a_second_import_adds_nothing(store):
    clusterer = Clusterer(store)
    first = import_jsonl(store, ARTICLES, clusterer=clusterer, progress=False)
    totals = _story_totals(store)
    second = import_jsonl(store, ARTICLES, clusterer=clusterer, progress=False)
    n = len(read_items())
    assert first["added"] == n and first["clustered"] == n
    assert second["added"] == 0 and second["known"] == n and second["clustered"] == 0
    assert _story_totals(store) == totals == (n, n, n, first["new_stories"])


def test_broken_lines_are_skipped_and_counted(store, tmp_path, caplog):
    good = read_items()[:3]
    lines = [
        json.dumps(good[0]),
        "{not json",
        json.dumps(["a", "list"]),
        json.dumps({"title": "no url", "text": "x"}),
        json.dumps({"url": "javascript:alert(1)", "title": "bad url", "text": "x"}),
        json.dumps({"url": "https://ledger.example/empty", "title": "", "text": ""}),
        json.dumps({"url": "https://ledger.example/n", "title": 5, "text": "x"}),
        "",
        json.dumps({**good[1], "published": "0001-11-30"}),  # implausible: stored undated
        json.dumps({**good[2], "published": "3/4/24", "url": good[2]["url"] + "?utm_source=feed"}),
    ]
    path = tmp_path / "mixed.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    with caplog.at_level(logging.WARNING, logger="newstilt.bulk"):
        counts = import_jsonl(store, path, clusterer=Clusterer(store), progress=False,
                              outlet_for=lambda url: url.split("/")[2])
    assert counts["broken"] == 6 and counts["added"] == 3 and counts["bad_dates"] == 1
    assert len([r for r in caplog.records if "skipped" in r.getMessage()]) == 6
    with store.connect() as conn:
        rows = {r.url: r for r in conn.execute(sa.select(articles))}
    assert all(r.origin == "import" and r.story_id is not None and r.outlet for r in rows.values())
    assert rows[good[1]["url"]].published is None
    third = rows[good[2]["url"]]  # tracking parameter removed; US date read
    assert third.published.replace(tzinfo=UTC) == datetime(2024, 3, 4, tzinfo=UTC)


@pytest.mark.parametrize("value, expected", [
    ("2024-03-05", datetime(2024, 3, 5, tzinfo=UTC)),
    ("2024-03-05T10:30:00Z", datetime(2024, 3, 5, 10, 30, tzinfo=UTC)),
    ("2024-03-05T12:30:00+02:00", datetime(2024, 3, 5, 10, 30, tzinfo=UTC)),
    ("7/23/17", datetime(2017, 7, 23, tzinfo=UTC)),
    (None, None), ("", None),
])
def test_publication_dates(value, expected):
    assert parse_published(value) == expected


@pytest.mark.parametrize("value", ["0001-11-30", "2999-01-01", "yesterday", "13/45/20", 20240305])
def test_unusable_dates_are_refused(value):
    with pytest.raises(ValueError):
        parse_published(value)


class Interrupted(Exception):
    pass


class FailingClusterer:
    """Clusters ``limit`` articles, then fails as an interrupted import would."""

    def __init__(self, inner, limit):
        self.inner, self.limit, self.done = inner, limit, 0

    def lock(self, conn):
        self.inner.lock(conn)

    def add(self, conn, article_id):
        if self.done == self.limit:
            raise Interrupted
        self.done += 1
        return self.inner.add(conn, article_id)


def test_an_interrupted_import_resumes_without_losing_or_double_counting(store):
    clusterer = Clusterer(store)
    with pytest.raises(Interrupted):
        import_jsonl(store, ARTICLES, clusterer=FailingClusterer(clusterer, 7), progress=False, cluster_batch=5)
    n_articles, clustered, counted, _ = _story_totals(store)
    assert n_articles == len(read_items()) and clustered == counted == 5  # the second batch rolled back
    again = import_jsonl(store, ARTICLES, clusterer=clusterer, progress=False)
    assert again["added"] == 0 and again["clustered"] == n_articles - 5
    n_articles, clustered, counted, _ = _story_totals(store)
    assert clustered == counted == n_articles
    assert cluster_pending(store, clusterer, progress=False)["clustered"] == 0


def test_articles_are_clustered_in_publication_order(store, tmp_path):
    """A file in reverse order clusters like one in order: stories grow from their first report."""
    items = [i for i in read_items() if i["published"]]
    path = tmp_path / "reversed.jsonl"
    path.write_text("".join(json.dumps(i) + "\n" for i in sorted(items, key=lambda i: i["published"],
                                                                    reverse=True)), encoding="utf-8")
    import_jsonl(store, path, clusterer=Clusterer(store), progress=False)
    with store.connect() as conn:
        rows = conn.execute(sa.select(articles.c.published, articles.c.match_score, articles.c.story_id)
                            .order_by(articles.c.story_id, articles.c.published, articles.c.id)).all()
    founders = {}
    for row in rows:
        founders.setdefault(row.story_id, row)
    assert all(row.match_score is None for row in founders.values())  # the earliest article founded each story
