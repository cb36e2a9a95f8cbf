"""Clustering within a language and across languages, on SQLite and PostgreSQL.

The articles (``tests/resources/stories/languages.jsonl``) are imported after the English ones of
``articles.jsonl``: a store that is mostly English, as a user's store with a few foreign feeds is.
"""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from newstilt import textvec
from newstilt.bulk import import_jsonl, parse_published
from newstilt.cluster import Clusterer
from newstilt.storage import articles, cluster_df, cluster_meta, stories
from newstilt.urls import normalize_url

from ..conftest import RESOURCES
from .conftest import ARTICLES

LANGUAGES = RESOURCES / "stories" / "languages.jsonl"
ITEMS = {item["id"]: item for item in map(json.loads, LANGUAGES.read_text(encoding="utf-8").splitlines())}


def _cluster(store, tmp_path, ids: list[str]) -> dict[str, int]:
    """The English articles, then the items ``ids`` in that order, imported and clustered: {id: story id}."""
    path = tmp_path / "import.jsonl"
    lines = ARTICLES.read_text(encoding="utf-8").splitlines() + [json.dumps(ITEMS[i]) for i in ids]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    counts = import_jsonl(store, path, clusterer=Clusterer(store), progress=False)
    assert counts["broken"] == 0 and counts["added"] == len(lines)
    with store.connect() as conn:
        placed = dict(conn.execute(sa.select(articles.c.url, articles.c.story_id)).all())
    return {i: placed[normalize_url(ITEMS[i]["url"])] for i in ids}


def test_unrelated_french_articles_stay_apart_in_an_english_store(store, tmp_path):
    """A strike and a museum opening share only French function words (``les``, ``des``, ``pour``), which a
    store of English articles would find rare: they are common within French, and French stop words go."""
    placed = _cluster(store, tmp_path, ["fr-strike-1", "fr-museum"])
    assert placed["fr-strike-1"] != placed["fr-museum"]


def test_french_articles_about_one_event_join(store, tmp_path):
    placed = _cluster(store, tmp_path, ["fr-strike-1", "fr-museum", "fr-strike-2"])
    assert placed["fr-strike-1"] == placed["fr-strike-2"] != placed["fr-museum"]


def test_documents_and_df_are_counted_per_language(store, tmp_path):
    _cluster(store, tmp_path, ["fr-strike-1", "fr-museum", "en-summit"])
    english = len(ARTICLES.read_text(encoding="utf-8").splitlines()) + 1
    with store.connect() as conn:
        meta = dict(conn.execute(sa.select(cluster_meta.c.key, cluster_meta.c.value)).all())
        df = {(lang, term): n for lang, term, n in conn.execute(sa.select(cluster_df))}
        languages = set(conn.execute(sa.select(stories.c.language)).scalars())
    assert meta == {"documents": english + 2, "documents:en": english, "documents:fr": 2}
    assert ("fr", "les") not in df and ("fr", "grève") in df and ("en", "grève") not in df  # French stop words
    assert languages == {"en", "fr"}


@pytest.mark.parametrize("order", [["en-summit", "es-summit"], ["es-summit", "en-summit"]],
                         ids=["english-first", "spanish-first"])
def test_an_event_joins_across_languages_on_its_names_and_numbers(store, tmp_path, order):
    """Kishida, Xi Jinping, San Francisco, APEC, Fukushima, Astellas, Beijing, Senkaku, Bangkok, 2023, 90 and
    2022 carry from English to Spanish; nothing else does."""
    placed = _cluster(store, tmp_path, order)
    assert placed["en-summit"] == placed["es-summit"]


def test_one_shared_name_across_languages_is_not_enough(store, tmp_path):
    """An Iowa rally and an appeals-court hearing, on the same day, share only Donald Trump."""
    placed = _cluster(store, tmp_path, ["en-rally", "es-appeal"])
    assert placed["en-rally"] != placed["es-appeal"]


def test_a_page_analysed_in_another_language_finds_the_story(store, tmp_path):
    """The analyze API (``Clusterer.match``) applies the same rule to a page that is not stored."""
    placed = _cluster(store, tmp_path, ["en-summit"])
    spanish = ITEMS["es-summit"]
    clusterer = Clusterer(store)
    with store.connect() as conn:
        found = clusterer.match(conn, spanish["title"], spanish["text"], parse_published(spanish["published"]), "es")
    assert found is not None and found.story_id == placed["en-summit"]
    assert "kishida" in found.shared_terms  # the explanation holds names and numbers only
    assert set(found.shared_terms) <= textvec.carry_terms(spanish["text"], language="es")
