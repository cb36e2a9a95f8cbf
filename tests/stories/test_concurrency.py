"""Several writers clustering at once (threads with their own connections and clusterers, as separate
ingestion processes would be): no article is lost, none is counted twice, every story's count is right."""
from __future__ import annotations

import threading
from datetime import UTC, datetime

import sqlalchemy as sa

from newstilt.bulk import parse_published
from newstilt.cluster import Clusterer
from newstilt.storage import articles, stories, story_terms

from .conftest import read_items


def _run_together(*targets):
    barrier = threading.Barrier(len(targets))
    errors = []

    def wrap(target):
        try:
            barrier.wait(timeout=10)
            target()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=wrap, args=(t,)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert not any(thread.is_alive() for thread in threads)


def _consistent(store, expected_articles):
    with store.connect() as conn:
        members = dict(conn.execute(sa.select(articles.c.story_id, sa.func.count())
                                    .group_by(articles.c.story_id)).all())
        counts = dict(conn.execute(sa.select(stories.c.id, stories.c.article_count)).all())
        centroids = set(conn.execute(sa.select(story_terms.c.story_id).distinct()).scalars())
    assert None not in members, "an article was left without a story"
    assert sum(members.values()) == expected_articles
    assert members == counts, "a story's article_count differs from its members"
    assert set(counts) <= centroids | {sid for sid, n in counts.items() if n == 0}
    return members


def test_two_writers_adding_different_articles(store):
    items = read_items()
    halves = items[0::2], items[1::2]

    def writer(batch):
        clusterer = Clusterer(store)  # one per writer, like one per process
        def run():
            for item in batch:
                with store.begin() as conn:
                    clusterer.lock(conn)
                    article_id = store.add_article(conn, url=item["url"], title=item["title"], text=item["text"],
                                                   origin="feed", published=parse_published(item["published"]))
                    clusterer.add(conn, article_id)
        return run

    _run_together(writer(halves[0]), writer(halves[1]))
    _consistent(store, len(items))


def test_two_writers_adding_the_same_articles_count_each_once(store):
    items = read_items()
    with store.begin() as conn:
        ids = [store.add_article(conn, url=i["url"], title=i["title"], text=i["text"], origin="import",
                                 published=datetime(2024, 3, 5, tzinfo=UTC)) for i in items]

    def writer():
        clusterer = Clusterer(store)
        for article_id in ids:
            with store.begin() as conn:
                clusterer.add(conn, article_id)  # takes the lock itself

    _run_together(writer, writer)
    _consistent(store, len(items))
