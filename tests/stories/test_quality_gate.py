"""Quality gate of story grouping on committed samples (as trafilatura's eval gate): the scores are pinned in
``tests/resources/stories/quality_baseline.json`` and a drop fails the test.

``primaries.jsonl`` is written for this gate: nine invented events within eleven days, most of them about one
primary season (a debate, a primary, three candidates quitting, Super Tuesday, a candidate's next bet), told by
three or four outlets each, with follow-ups that retell the event before. Names and election words are shared
by every event, so a clusterer that chains (a story growing day by day through related events) merges them:
with the parameters of release 0.1.0 (a story could span 7 days at one threshold) it put the debate, the
primary, a candidate's exit and Super Tuesday into one story (F1 0.49). ``articles.jsonl`` is the clustering
tests' sample (four events, a month-later follow-up, undated pieces, unrelated news).
"""
from __future__ import annotations

import itertools
import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from newstilt.bulk import import_jsonl
from newstilt.cluster import Clusterer, as_utc
from newstilt.storage import articles, stories
from newstilt.urls import normalize_url

from ..conftest import RESOURCES

BASELINE = json.loads((RESOURCES / "stories" / "quality_baseline.json").read_text(encoding="utf-8"))
#: How far below its pinned F1 a sample may fall before the gate fails.
TOLERANCE = 0.02


def grouping_quality(store, path) -> dict:
    """Pairwise precision/recall/F1 against the ``event`` field, and purity: events split, stories merging
    events, and the largest span (days) of a story holding more than one event."""
    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    import_jsonl(store, path, clusterer=Clusterer(store), progress=False)
    with store.connect() as conn:
        story_of = dict(conn.execute(sa.select(articles.c.url, articles.c.story_id)).all())
        span = {row.id: (as_utc(row.first_published), as_utc(row.last_published)) for row in conn.execute(
            sa.select(stories.c.id, stories.c.first_published, stories.c.last_published))}
    system = [story_of[normalize_url(item["url"])] for item in items]
    tp = fp = fn = 0
    for (a, sa_), (b, sb) in itertools.combinations(zip(items, system, strict=True), 2):
        same_event, same_story = a["event"] == b["event"], sa_ == sb
        tp += same_event and same_story
        fp += same_story and not same_event
        fn += same_event and not same_story
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    events_of, stories_of = {}, {}
    for item, story in zip(items, system, strict=True):
        events_of.setdefault(story, set()).add(item["event"])
        stories_of.setdefault(item["event"], set()).add(story)
    merging = [s for s, events in events_of.items() if len(events) > 1]
    spans = [(span[s][1] - span[s][0]) / timedelta(days=1) for s in merging if span[s][0] is not None]
    return {"precision": precision, "recall": recall,
            "f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
            "events_split": sum(len(s) > 1 for s in stories_of.values()), "merging_stories": len(merging),
            "largest_merged_span_days": max(spans, default=0.0)}


@pytest.mark.parametrize("sample", sorted(BASELINE))
def test_story_grouping_keeps_its_pinned_quality(store, sample):
    pinned = BASELINE[sample]
    got = grouping_quality(store, RESOURCES / "stories" / sample)
    assert got["f1"] >= pinned["f1"] - TOLERANCE, got
    assert got["precision"] >= pinned["precision"] - TOLERANCE, got
    assert got["merging_stories"] <= pinned["merging_stories"], got
    assert got["largest_merged_span_days"] <= pinned["largest_merged_span_days"], got


def test_the_primaries_sample_catches_chaining(store):
    """The sample is a real gate: the 0.1.0 parameters (one threshold, stories up to 7 days) fail it."""
    items = RESOURCES / "stories" / "primaries.jsonl"
    import_jsonl(store, items, clusterer=Clusterer(store, max_span_days=7, span_penalty=0.0), progress=False)
    with store.connect() as conn:
        longest = max(as_utc(r.last_published) - as_utc(r.first_published) for r in conn.execute(
            sa.select(stories.c.first_published, stories.c.last_published)))
    assert longest > timedelta(days=BASELINE["primaries.jsonl"]["largest_merged_span_days"])
