"""Counts that add up (issue #9): one function counts a story's sources, and the API, the listing, analyze and
the story page all show its numbers. Hand-made stories with repeated outlets, syndicated copies (another
outlet's and the outlet's own), unrated sites, and the reader's own outlet, stored or not."""
from __future__ import annotations

import random
import re
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from newstilt.coverage import GROUPS, distribution, outlet_summary, whole_percents
from newstilt.extract import extract_article
from newstilt.ratings import build_index, parse_bundled
from newstilt.storage import articles, stories

from .conftest import FIXTURE_OUTLETS

WHEN = datetime(2024, 5, 1, 12, tzinfo=UTC)
SIDES = ("left", "center", "right")


@pytest.fixture(scope="module")
def index():
    return build_index(parse_bundled(FIXTURE_OUTLETS.read_text()), [], {}, {}, "test")


@pytest.mark.parametrize("counts", [(1, 1, 1), (2, 1, 0), (1, 0, 0), (3, 3, 1), (0, 0, 0), (7, 5, 9), (1, 1, 4)])
def test_whole_percents_sum_to_100(counts):
    shares = whole_percents(dict(zip(SIDES, counts, strict=True)))
    assert sum(shares.values()) == (100 if sum(counts) else 0)
    for side, n in zip(SIDES, counts, strict=True):
        assert abs(shares[side] - (100 * n / sum(counts) if sum(counts) else 0)) < 1


def test_whole_percents_random():
    rng = random.Random(9)
    for _ in range(500):
        counts = {s: rng.randrange(0, 40) for s in SIDES}
        if sum(counts.values()):
            assert sum(whole_percents(counts).values()) == 100


def test_percentages_are_of_rated_sources_and_unrated_is_counted_beside(index):
    dist = distribution(outlet_summary(index, k) for k in ("nytimes.com", "reuters.com", "foxnews.com",
                                                           "unrated.example", "other.example"))
    assert (dist["total"], dist["rated"], dist["unrated"]["count"]) == (5, 3, 2)
    assert [dist[s]["percent"] for s in SIDES] == [34, 33, 33]
    assert dist["percent_of"] == "rated" and dist["unrated"]["percent"] == 40


# -- a hand-made story in the store ---------------------------------------------------------------------

STORY = [  # (url, outlet, copy of)
    ("https://www.nytimes.com/a", "nytimes.com", None),
    ("https://www.nytimes.com/b", "nytimes.com", None),  # a second article: still one source
    ("https://www.bbc.com/news/1", "bbc.com", None),
    ("https://www.bbc.co.uk/news/1", "bbc.com", "https://www.bbc.com/news/1"),  # the outlet's own copy
    ("https://www.reuters.com/wire", "reuters.com", None),
    ("https://www.breitbart.com/wire-copy", "breitbart.com", "https://www.reuters.com/wire"),  # reprint
    ("https://www.foxnews.com/a", "foxnews.com", None),
    ("https://blog.unrated.example/a", "unrated.example", None),
]


@pytest.fixture
def nt(app):
    return app.extensions["newstilt"]


@pytest.fixture
def story_id(nt):
    """STORY stored as one story, its row filled the way a join fills it (``StoryRows.changed``)."""
    with nt.store.begin() as conn:
        sid = conn.execute(stories.insert().values(
            title="Storm hits coast", first_published=WHEN, last_published=WHEN, article_count=len(STORY),
            created_at=WHEN, updated_at=WHEN).returning(stories.c.id)).scalar()
        ids = {}
        for url, outlet, _ in STORY:
            ids[url] = conn.execute(articles.insert().values(
                url=url, outlet=outlet, title=f"Storm <b>hits</b> coast ({outlet})", text="The storm hit.",
                origin="import", published=WHEN, story_id=sid, added_at=WHEN).returning(articles.c.id)).scalar()
        for url, _, original in STORY:
            if original:
                conn.execute(articles.update().where(articles.c.url == url).values(syndicated_of=ids[original]))
        nt.story_rows.changed(conn, sid)
    return sid


def _bar_numbers(html: str) -> dict:
    return {side: (int(pct), int(n)) for side, pct, n in re.findall(
        r'<span class="key (left|center|right)"><b>\w+ (\d+)%</b> <span class="muted">\((\d+)\)</span>', html)}


def test_every_payload_page_and_heading_counts_the_same_sources(client, story_id):
    story = client.get(f"/api/v1/stories/{story_id}").json
    dist = story["distribution"]
    # nytimes twice, bbc and its own copy, reuters and a reprint by breitbart, fox, an unrated blog: 5 sources
    assert story["source_count"] == dist["total"] == 5 and story["article_count"] == len(STORY)
    assert [dist[g]["count"] for g in GROUPS] == [2, 1, 1, 1]
    assert sum(dist[s]["percent"] for s in SIDES) == 100 and dist["rated"] == 4
    # the listing reads the story row: the same numbers
    [listed] = client.get("/api/v1/stories").json["stories"]
    assert listed["distribution"] == dist and listed["source_count"] == 5
    assert listed["blindspot"] == story["blindspot"]
    # the page: each side's heading counts sources, as the bar does
    html = client.get(f"/stories/{story_id}").get_data(as_text=True)
    for group in GROUPS:
        heading = re.search(rf'<h3 id="side-{group}">\w+ · (\d+) sources?</h3>', html)
        assert heading and int(heading.group(1)) == dist[group]["count"], group
    assert _bar_numbers(html) == {s: (dist[s]["percent"], dist[s]["count"]) for s in SIDES}
    assert f"{dist['unrated']['count']} unrated" in html
    # the front page shows the same bar
    assert _bar_numbers(client.get("/").get_data(as_text=True)) == _bar_numbers(html)


def test_an_outlet_never_carries_its_own_article(client, story_id):
    story = client.get(f"/api/v1/stories/{story_id}").json
    by_url = {a["url"]: a for side in story["articles"].values() for a in side}
    assert by_url["https://www.bbc.com/news/1"]["also_carried_by"] == []
    assert [c["outlet"]["name"] for c in by_url["https://www.reuters.com/wire"]["also_carried_by"]] == \
        ["Breitbart News"]
    assert "https://www.bbc.co.uk/news/1" not in by_url and "https://www.breitbart.com/wire-copy" not in by_url
    assert story["coverage"]["original_reporting"] == {"articles": 8, "original": 6, "syndicated": 2, "percent": 75}


def test_the_readers_outlet_counts_once_stored_or_not(client, story_id):
    before = client.get(f"/api/v1/stories/{story_id}").json["distribution"]
    # a stored page: its outlet is among the sources already, and is not counted twice
    stored = client.post("/api/v1/analyze", json={"url": "https://www.nytimes.com/a"}).json["story"]
    assert stored["includes_this_page"] is True and stored["distribution"] == before
    # a stored syndicated copy: its outlet did not count for the story, but the reader is on it
    copy = client.post("/api/v1/analyze", json={"url": "https://www.breitbart.com/wire-copy"}).json["story"]
    assert copy["source_count"] == 6 and copy["distribution"]["right"]["count"] == 2


def test_the_readers_outlet_counts_for_a_page_the_server_never_stored(client, app):
    """The issue's case: one stored source (BBC here, NPR there), the reader on another outlet's new article."""
    nt = app.extensions["newstilt"]
    text = ("The Elm Street harbor bridge in Portsmouth collapsed on Tuesday after the cargo ship Marlow Star "
            "struck a pier, and Governor Dana Whitfield said six workers were missing in the Piscataqua River.")
    with nt.store.begin() as conn:
        article_id = nt.store.add_article(conn, url="https://www.bbc.com/news/bridge", title="Ship hits "
                                          "Portsmouth harbor bridge", text=text, origin="import", outlet="bbc.com",
                                          published=WHEN)
        nt.clusterer.add(conn, article_id)
    page = (f"<html><head><title>Portsmouth harbor bridge collapses</title><meta property="
            f"'article:published_time' content='{WHEN.isoformat()}'></head><body><article><h1>Portsmouth harbor "
            f"bridge collapses</h1><p>{text}</p><p>{text}</p></article></body></html>")
    for url in ("https://www.nytimes.com/2024/05/01/bridge.html", "https://www.bbc.com/news/bridge-live"):
        story = client.post("/api/v1/analyze", json={"url": url, "html": page}).json["story"]
        assert story["includes_this_page"] is False
        # NYT is a second source; a second BBC page is not
        assert story["source_count"] == (2 if "nytimes" in url else 1)
        assert story["distribution"]["left"]["count"] == story["source_count"]
        assert story["distribution"]["left"]["percent"] == 100
    unrated = client.post("/api/v1/analyze", json={"url": "https://news.unrated.example/bridge", "html": page}).json
    assert unrated["outlet"] is None and unrated["story"]["source_count"] == 2
    assert unrated["story"]["distribution"]["unrated"]["count"] == 1


def test_an_alias_domain_canonical_is_the_outlets_own():
    page = ("<html><head><title>Storm</title><link rel='canonical' href='https://www.bbc.co.uk/news/storm-1'>"
            "</head><body><article><h1>Storm</h1><p>" + "The storm hit the coast on Tuesday. " * 20 +
            "</p></article></body></html>")
    url = "https://www.bbc.com/news/storm-1?at_medium=RSS"
    assert extract_article(page, url, feed_outlet_domain="bbc.com").canonical_url == \
        "https://www.bbc.com/news/storm-1"  # refused without the outlet's aliases
    assert extract_article(page, url, feed_outlet_domain="bbc.com", outlet_aliases=("bbc.co.uk",)).canonical_url \
        == "https://www.bbc.co.uk/news/storm-1"


def test_analyze_finds_the_article_stored_under_its_alias_canonical(client, app):
    nt = app.extensions["newstilt"]
    with nt.store.begin() as conn:
        article_id = nt.store.add_article(conn, url="https://www.bbc.co.uk/news/storm-1", title="Storm",
                                          text="The storm hit the coast on Tuesday. " * 20, origin="feed",
                                          outlet="bbc.com", published=WHEN)
        nt.clusterer.add(conn, article_id)
    page = ("<html><head><title>Storm</title><link rel='canonical' href='https://www.bbc.co.uk/news/storm-1'>"
            "</head><body><article><h1>Storm</h1><p>" + "The storm hit the coast on Tuesday. " * 20 +
            "</p></article></body></html>")
    body = client.post("/api/v1/analyze", json={"url": "https://www.bbc.com/news/storm-1", "html": page}).json
    assert body["article"]["stored"] is True and body["story"]["source_count"] == 1


def test_a_ratings_change_refreshes_every_story_row(client, app, story_id, tmp_path):
    nt = app.extensions["newstilt"]
    mbfc = tmp_path / "mbfc.json"
    # MBFC rates the unrated blog right-center: it becomes a rated source of the right
    mbfc.write_text('{"sources": [{"domain": "unrated.example", "name": "Unrated Blog", "bias": "right-center", '
                    '"reporting": "high"}]}')
    nt.import_ratings(mbfc, "mbfc")
    with nt.store.connect() as conn:
        row = conn.execute(sa.select(stories.c.counts_version, stories.c.distribution)
                           .where(stories.c.id == story_id)).first()
    assert row.counts_version == nt.story_rows.version()
    [listed] = client.get("/api/v1/stories").json["stories"]
    detail = client.get(f"/api/v1/stories/{story_id}").json
    assert listed["distribution"] == detail["distribution"]
    assert detail["distribution"]["unrated"]["count"] == 0 and detail["distribution"]["right"]["count"] == 2
