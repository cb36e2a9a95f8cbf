"""Syndicated copies: detected among stored articles, marked against the first copy, kept in its story."""
from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from newstilt import dedupe
from newstilt.cluster import Clusterer
from newstilt.storage import articles

from .conftest import read_items


def _wire():
    return next(i for i in read_items() if i["url"].startswith("https://ups-wire.example/article/boulder"))


def test_copies_point_at_the_first_copy_and_share_its_story(loaded):
    wire = loaded["https://ups-wire.example/article/boulder-wildfire-evacuations"]
    copies = [row for row in loaded.values() if row["syndicated_of"] is not None]
    assert {row["url"] for row in copies} == {
        "https://www.valleygazette.example/nation/2024/03/05/colorado-wildfire",  # trimmed, with a byline line
        "https://lakeside.example/wire/boulder-fire-12000-evacuated",  # identical text, edited headline
    }
    assert wire["syndicated_of"] is None
    assert all(row["syndicated_of"] == wire["id"] and row["story_id"] == wire["story_id"] for row in copies)
    # the same outlet's own reporting on the fire is not a copy
    assert loaded["https://www.ledger.example/weather/2024/03/05/marshall-creek-fire-boulder"]["syndicated_of"] is None


def test_every_article_is_fingerprinted_and_identical_texts_share_it(loaded):
    assert all(row["fingerprint"] and len(row["fingerprint"]) == 64 for row in loaded.values())
    wire = loaded["https://ups-wire.example/article/boulder-wildfire-evacuations"]
    lakeside = loaded["https://lakeside.example/wire/boulder-fire-12000-evacuated"]
    trimmed = loaded["https://www.valleygazette.example/nation/2024/03/05/colorado-wildfire"]
    assert wire["fingerprint"] == lakeside["fingerprint"] != trimmed["fingerprint"]


def test_a_copy_of_a_copy_points_at_the_original(loaded, store, clusterer):
    wire = loaded["https://ups-wire.example/article/boulder-wildfire-evacuations"]
    text = _wire()["text"].replace("(UPS)", "(UPS via Valley Gazette)").upper()  # case and spacing do not matter
    with store.begin() as conn:
        article_id = store.add_article(conn, url="https://third.example/fire", title="Fire!", text=text,
                                       origin="feed", published=datetime(2024, 3, 6, tzinfo=UTC))
        assignment = clusterer.add(conn, article_id)
    assert assignment.syndicated_of == wire["id"] and assignment.story_id == wire["story_id"]


def test_related_but_independent_reporting_is_not_a_copy(store):
    items = [i for i in read_items() if i["event"] == "court"]
    clusterer = Clusterer(store)
    with store.begin() as conn:
        for item in items:
            article_id = store.add_article(conn, url=item["url"], title=item["title"], text=item["text"],
                                           origin="import", published=datetime(2024, 3, 5, tzinfo=UTC))
            assert clusterer.add(conn, article_id).syndicated_of is None


def test_short_texts_are_never_marked(store):
    deduper = dedupe.Deduper()
    brief = "Wildfire near Boulder forces thousands to evacuate, officials say."
    with store.begin() as conn:
        ids = [store.add_article(conn, url=f"https://brief.example/{i}", title="Brief", text=brief, origin="feed")
               for i in range(2)]
        assert [deduper.mark(conn, article_id, brief) for article_id in ids] == [None, None]
        rows = conn.execute(sa.select(articles.c.fingerprint, articles.c.syndicated_of)
                            .where(articles.c.id.in_(ids))).all()
    assert rows[0].fingerprint == rows[1].fingerprint and {r.syndicated_of for r in rows} == {None}


def test_containment_and_band_keys():
    words = dedupe.normalised_words(_wire()["text"])
    full = dedupe.shingles(words)
    half = dedupe.shingles(words[: len(words) // 2])
    other = dedupe.shingles(dedupe.normalised_words(read_items()[0]["text"]))
    assert dedupe.containment(full, half) == 1.0
    assert dedupe.containment(full, other) < 0.1
    keys = dedupe.band_keys(full)
    assert len(keys) == dedupe.BANDS and keys == dedupe.band_keys(dedupe.shingles(list(words)))
    assert set(keys) & set(dedupe.band_keys(dedupe.shingles(words[:-3])))  # a near copy shares a band
    assert dedupe.fingerprint("Hello,  World!") == dedupe.fingerprint("hello world")
