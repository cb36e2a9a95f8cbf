"""Distribution and blindspot rules on small hand-made stories."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from newstilt.coverage import BlindspotRule, distribution, story_payload
from newstilt.ratings import build_index, parse_bundled
from newstilt.storage import articles, stories

from .conftest import FIXTURE_OUTLETS


@pytest.fixture(scope="module")
def index():
    return build_index(parse_bundled(FIXTURE_OUTLETS.read_text()), [], {}, {}, "test")

def test_distribution_counts_each_outlet_once(index):
    from newstilt.coverage import outlet_summary

    outlets = [outlet_summary(index, k) for k in ("nytimes.com", "nytimes.com", "foxnews.com", "reuters.com",
                                                   "breitbart.com", "unrated.example", None)]
    dist = distribution(outlets)
    assert dist["total"] == 5 and dist["rated"] == 4
    assert [dist[g]["count"] for g in ("left", "center", "right", "unrated")] == [1, 1, 2, 1]
    # percentages are of the 4 rated sources, whole numbers summing to 100; unrated is its share of all 5
    assert [dist[g]["percent"] for g in ("left", "center", "right")] == [25, 25, 50]
    assert dist["unrated"]["percent"] == 20
    assert dist["detail"]["far-right"] == 1 and dist["detail"]["right"] == 1 and dist["detail"]["lean-left"] == 1

@pytest.mark.parametrize(("counts", "side"), [
    ({"left": 0, "center": 1, "right": 4, "unrated": 3}, "left"),     # 4 of 5 right, none left
    ({"left": 5, "center": 1, "right": 0, "unrated": 0}, "right"),
    ({"left": 1, "center": 1, "right": 8, "unrated": 0}, "left"),     # 10% left is still missing it
    ({"left": 2, "center": 1, "right": 7, "unrated": 0}, None),       # 20% left: covered
    ({"left": 0, "center": 3, "right": 1, "unrated": 0}, None),       # no side dominates
    ({"left": 0, "center": 0, "right": 3, "unrated": 9}, None),       # too few rated outlets
])
def test_blindspot_rule(counts, side):
    result = BlindspotRule().apply(counts)
    assert result["side"] == side
    assert result["explanation"]

def test_blindspot_rule_is_configurable_and_validated():
    counts = {"left": 0, "center": 0, "right": 2, "unrated": 0}
    assert BlindspotRule(min_rated_outlets=2).apply(counts)["side"] == "left"
    with pytest.raises(ValueError):
        BlindspotRule(max_missing_share=0.7, min_dominant_share=0.6)

def test_story_payload_groups_by_side_and_counts_syndicated_copies_once(store, index):
    now = datetime(2024, 5, 1, 12, tzinfo=UTC)
    with store.begin() as conn:
        story_id = conn.execute(stories.insert().values(
            title="Storm hits coast", first_published=now, last_published=now, article_count=4,
            created_at=now, updated_at=now).returning(stories.c.id)).scalar()
        ids = {}
        for outlet, url in (("reuters.com", "https://reuters.com/a"), ("nytimes.com", "https://nytimes.com/a"),
                            ("foxnews.com", "https://foxnews.com/a"), ("breitbart.com", "https://breitbart.com/copy")):
            ids[url] = conn.execute(articles.insert().values(
                url=url, outlet=outlet, title=f"{outlet} story", text="x", origin="import", published=now,
                story_id=story_id, added_at=now).returning(articles.c.id)).scalar()
        conn.execute(articles.update().where(articles.c.url == "https://breitbart.com/copy")
                     .values(syndicated_of=ids["https://reuters.com/a"]))
    with store.connect() as conn:
        payload = story_payload(conn, story_id, index, BlindspotRule())
    assert payload["source_count"] == 3 and payload["article_count"] == 4
    assert [payload["distribution"][g]["count"] for g in ("left", "center", "right")] == [1, 1, 1]
    center = payload["articles"]["center"]
    assert center[0]["url"] == "https://reuters.com/a"
    assert center[0]["also_carried_by"][0]["outlet"]["name"] == "Breitbart News"
    assert payload["articles"]["right"][0]["outlet"]["name"] == "Fox News"
    assert payload["blindspot"]["side"] is None
