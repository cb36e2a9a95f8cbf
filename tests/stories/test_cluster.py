"""Incremental story clustering on hand-written stories, on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from newstilt.cluster import ClusterConfig, Clusterer
from newstilt.errors import NotFoundError
from newstilt.storage import articles, stories, story_postings, story_terms, story_title_vectors
from newstilt.urls import normalize_url

from .conftest import by_event

EVENTS = ("rail", "fire", "fed", "court", "fed-april", "museum")


def test_each_event_is_one_story_and_events_stay_apart(loaded):
    groups = by_event(loaded)
    for event in EVENTS:
        assert len(groups[event]) == 1, f"{event} split over {groups[event]}"
    event_stories = [next(iter(groups[event])) for event in EVENTS]
    assert len(set(event_stories)) == len(EVENTS)
    # unrelated news never joins an event's story, and each unrelated piece is a story of its own
    noise = [row["story_id"] for row in loaded.values() if row["item"]["event"] == "noise"]
    assert not set(noise) & set(event_stories) and len(set(noise)) == len(noise)


def test_the_same_topic_a_month_later_is_a_new_story(loaded):
    groups = by_event(loaded)
    assert groups["fed"] != groups["fed-april"]


def test_story_rows_count_members_and_carry_a_member_headline(loaded, store):
    members: dict[int, list[dict]] = {}
    for row in loaded.values():
        members.setdefault(row["story_id"], []).append(row)
    with store.connect() as conn:
        rows = {row.id: row for row in conn.execute(sa.select(stories))}
    assert set(rows) == set(members)
    for story_id, story in rows.items():
        group = members[story_id]
        assert story.article_count == len(group)
        assert story.title in {m["title"] for m in group}
        assert story.title_article_id in {m["id"] for m in group}
        dates = [m["published"] for m in group if m["published"] is not None]
        assert (story.first_published, story.last_published) == ((min(dates), max(dates)) if dates else (None, None))


def test_every_story_keeps_its_title_articles_vector(loaded, store):
    """The headline choice reads the title article's vector from the database, never from process memory."""
    with store.connect() as conn:
        kept = {row.story_id: row for row in conn.execute(sa.select(story_title_vectors))}
        titles = dict(conn.execute(sa.select(stories.c.id, stories.c.title_article_id)).all())
    assert set(kept) == set(titles)
    assert all(kept[sid].article_id == titles[sid] and kept[sid].vector.startswith("{") for sid in titles)


def test_a_store_without_title_vectors_still_chooses_headlines(loaded, store):
    """A store clustered before title vectors were kept: the title article's vector is weighed again."""
    rail = next(row for row in loaded.values() if row["item"]["event"] == "rail")
    with store.begin() as conn:
        conn.execute(story_title_vectors.delete())
    _, assignment = _new_article(store, Clusterer(store), **RAIL_FOLLOW_UP, published=datetime(2024, 3, 6, tzinfo=UTC),
                                 url="https://www.example.com/rail/safety-vote-scheduled")
    assert assignment.story_id == rail["story_id"]
    with store.connect() as conn:
        title_id = conn.execute(sa.select(stories.c.title_article_id)
                                .where(stories.c.id == rail["story_id"])).scalar()
        members = set(conn.execute(sa.select(articles.c.id).where(articles.c.story_id == rail["story_id"])).scalars())
    assert title_id in members


def test_join_scores_are_stored_and_founders_have_none(loaded):
    for row in loaded.values():
        founder = row["story_id"] is not None and sum(r["story_id"] == row["story_id"] for r in loaded.values()) == 1
        if founder:
            assert row["match_score"] is None
    joined = [row for row in loaded.values() if row["match_score"] is not None]
    assert joined and all(0 < row["match_score"] <= 1.0 for row in joined)


def _new_article(store, clusterer, *, url, title, text, published):
    with store.begin() as conn:
        article_id = store.add_article(conn, url=url, title=title, text=text, origin="feed", published=published)
        return article_id, clusterer.add(conn, article_id)


RAIL_FOLLOW_UP = dict(
    title="House leaders promise quick vote on Railway Safety Act",
    text="House leaders said Wednesday they would bring the Senate-passed Railway Safety Act to the floor within "
         "weeks. The bill, written by Sens. Maria Delgado and Tom Whitaker after the East Carver derailment, "
         "requires two-person crews on freight trains and wayside defect detectors on hazardous routes.")


def test_an_assignment_explains_itself(loaded, store, clusterer):
    rail_story = next(iter(by_event(loaded)["rail"]))
    _, assignment = _new_article(store, clusterer, url="https://metropost.example/rail-house-vote",
                                 published=datetime(2024, 3, 6, 15, tzinfo=UTC), **RAIL_FOLLOW_UP)
    assert assignment.story_id == rail_story and not assignment.new_story
    assert assignment.score >= clusterer.config.threshold
    assert 1 <= assignment.candidates <= clusterer.config.candidates
    assert {"railway_safety", "east_carver", "whitaker", "delgado"} & set(assignment.shared_terms)
    # published 2024-03-06 15:00, the story's last member on 2024-03-05 00:00 (a date-only import)
    assert assignment.time_gap_hours == pytest.approx(39.0)


def test_a_new_story_says_so(loaded, store, clusterer):
    _, assignment = _new_article(
        store, clusterer, url="https://metropost.example/zoo-panda", published=datetime(2024, 3, 5, tzinfo=UTC),
        title="Zoo welcomes twin panda cubs", text="The city zoo announced the birth of twin giant panda cubs, "
        "the first born there in two decades. Keepers said mother and cubs are healthy.")
    assert assignment.new_story and assignment.shared_terms == () and assignment.score < clusterer.config.threshold
    with store.connect() as conn:
        story = conn.execute(sa.select(stories).where(stories.c.id == assignment.story_id)).one()
    assert story.title == "Zoo welcomes twin panda cubs" and story.article_count == 1


def test_add_twice_changes_nothing(loaded, store, clusterer):
    row = next(r for r in loaded.values() if r["item"]["event"] == "court")
    with store.begin() as conn:
        before = conn.execute(sa.select(stories.c.article_count).where(stories.c.id == row["story_id"])).scalar()
        again = clusterer.add(conn, row["id"])
        after = conn.execute(sa.select(stories.c.article_count).where(stories.c.id == row["story_id"])).scalar()
    assert again.story_id == row["story_id"] and not again.new_story and before == after
    with store.begin() as conn, pytest.raises(NotFoundError):
        clusterer.add(conn, 10_000_000)


def _table_counts(store):
    with store.connect() as conn:
        return {t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar()
                for t in (articles, stories, story_terms, story_postings)}


def test_match_finds_the_story_of_an_unstored_article_and_writes_nothing(loaded, store, clusterer):
    rail_story = next(iter(by_event(loaded)["rail"]))
    before = _table_counts(store)
    with store.connect() as conn:
        found = clusterer.match(conn, RAIL_FOLLOW_UP["title"], RAIL_FOLLOW_UP["text"],
                                datetime(2024, 3, 6, tzinfo=UTC))
        unrelated = clusterer.match(conn, "Zoo welcomes twin panda cubs", "Twin giant panda cubs were born at "
                                    "the city zoo.", datetime(2024, 3, 6, tzinfo=UTC))
        too_late = clusterer.match(conn, RAIL_FOLLOW_UP["title"], RAIL_FOLLOW_UP["text"],
                                   datetime(2024, 5, 20, tzinfo=UTC))
        empty = clusterer.match(conn, "", "", None)
    assert found is not None and found.story_id == rail_story and found.shared_terms
    assert unrelated is None and too_late is None and empty is None
    assert _table_counts(store) == before


def test_undated_articles_only_group_with_undated_ones(loaded, store, clusterer):
    groups = by_event(loaded)
    museum, fed = next(iter(groups["museum"])), next(iter(groups["fed"]))
    # the undated opinion piece about the Fed does not join the dated Fed story (nor the April one)
    assert groups["fed-undated"].isdisjoint(groups["fed"] | groups["fed-april"])
    with store.connect() as conn:
        assert conn.execute(sa.select(stories.c.first_published).where(stories.c.id == museum)).scalar() is None
        fed_article = next(r for r in loaded.values() if r["item"]["event"] == "fed")
        undated = clusterer.match(conn, fed_article["title"], fed_article["text"], None)
        dated = clusterer.match(conn, fed_article["title"], fed_article["text"], fed_article["published"])
        museum_article = next(r for r in loaded.values() if r["item"]["event"] == "museum")
        museum_dated = clusterer.match(conn, museum_article["title"], museum_article["text"],
                                       datetime(2024, 3, 5, tzinfo=UTC))
        museum_undated = clusterer.match(conn, museum_article["title"], museum_article["text"], None)
    assert dated is not None and dated.story_id == fed
    assert undated is None or undated.story_id != fed
    assert museum_dated is None
    assert museum_undated is not None and museum_undated.story_id == museum and museum_undated.time_gap_hours is None


def test_candidates_come_from_the_index_within_the_window(store):
    """Many look-alike stories outside the window are never compared; inside it, at most ``candidates``."""
    clusterer = Clusterer(store, candidates=5)
    base = datetime(2024, 1, 1, tzinfo=UTC)
    with store.begin() as conn:
        for i in range(40):  # the same kind of story every tenth day: look-alikes, all outside the window
            article_id = store.add_article(
                conn, url=f"https://courier.example/council-budget-{i}", origin="import",
                published=base + timedelta(days=10 * i), title=f"Council debates budget for district {i}",
                text=f"The council debated the district {i} budget, parks funding and library hours on Monday.")
            clusterer.add(conn, article_id)
    probe = dict(title="Council debates budget for district 7", published=base + timedelta(days=400),
                 text="The council debated the district budget, parks funding and library hours.")
    with store.connect() as conn:
        assert clusterer.match(conn, probe["title"], probe["text"], probe["published"]) is None
        inside = clusterer.match(conn, probe["title"], probe["text"], base + timedelta(days=70, hours=5))
    assert inside is not None and inside.candidates <= 5
    _, assignment = _new_article(store, clusterer, url="https://courier.example/council-late", **probe)
    assert assignment.new_story and assignment.candidates == 0


def test_a_story_does_not_span_more_than_max_span_days(store):
    clusterer = Clusterer(store, window_days=3, max_span_days=7)
    base = datetime(2024, 6, 1, tzinfo=UTC)
    placed = []
    for day in range(0, 15, 2):  # the same saga every other day: each within the window of the last
        _, assignment = _new_article(
            store, clusterer, url=f"https://ledger.example/heatwave-{day}", published=base + timedelta(days=day),
            title="Heatwave grips the Midwest as power grid strains",
            text="A heatwave pushed temperatures above 100 degrees across the Midwest, straining the power grid "
                 "as utilities asked customers to conserve electricity during the afternoon peak.")
        placed.append(assignment)
    with store.connect() as conn:
        spans = conn.execute(sa.select(stories.c.first_published, stories.c.last_published)).all()
    assert len(spans) >= 2 and all((last - first).days <= 7 for first, last in spans)


def test_configuration_is_checked():
    with pytest.raises(ValueError):
        ClusterConfig(threshold=0)
    with pytest.raises(ValueError):
        ClusterConfig(candidates=0)


def test_an_article_url_maps_to_the_stored_row(loaded, items):
    assert {normalize_url(i["url"]) for i in items} == set(loaded)
