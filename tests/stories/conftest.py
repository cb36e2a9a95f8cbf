"""Fixtures for the story tests: hand-written articles about four events, a month-later follow-up, undated
pieces and unrelated news (``tests/resources/stories/articles.jsonl``; the ``event`` field is the expected
grouping, which the importer ignores)."""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from newstilt.bulk import import_jsonl
from newstilt.cluster import Clusterer
from newstilt.storage import articles
from newstilt.urls import normalize_url

from ..conftest import RESOURCES

ARTICLES = RESOURCES / "stories" / "articles.jsonl"


def read_items() -> list[dict]:
    with open(ARTICLES, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


@pytest.fixture
def items():
    return read_items()


@pytest.fixture
def clusterer(store):
    return Clusterer(store)


@pytest.fixture
def loaded(store, clusterer, items):
    """The resource file imported and clustered; returns {url: article row} with the item under ``item``."""
    counts = import_jsonl(store, ARTICLES, clusterer=clusterer, progress=False)
    assert counts["added"] == len(items) and counts["broken"] == 0
    with store.connect() as conn:
        rows = {row.url: row._asdict() for row in conn.execute(sa.select(articles))}
    for item in items:
        rows[normalize_url(item["url"])]["item"] = item
    return rows


def by_event(loaded) -> dict[str, set[int]]:
    """event -> the set of story ids its articles ended up in."""
    out: dict[str, set[int]] = {}
    for row in loaded.values():
        out.setdefault(row["item"]["event"], set()).add(row["story_id"])
    return out
