"""The storage layer's transactions: writers serialise, readers never wait for them."""
from __future__ import annotations

import threading

import sqlalchemy as sa

from newstilt.storage import Store, feeds


def test_a_reader_does_not_wait_for_an_open_write_transaction(tmp_path):
    """On SQLite every write takes the write lock up front; a read must still go ahead at once (WAL snapshot),
    or every API request would queue behind the ingestion's writes."""
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    store.add_feed("https://example.com/feed.xml", "example.com")
    writing, release = threading.Event(), threading.Event()

    def writer():
        with store.begin() as conn:
            conn.execute(feeds.update().values(title="being changed"))
            writing.set()
            release.wait(30)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert writing.wait(10)
        result: list = []
        reader = threading.Thread(target=lambda: result.append(store.list_feeds()))
        reader.start()
        reader.join(5)  # a BEGIN IMMEDIATE here would wait out the 30 s busy timeout
        assert not reader.is_alive(), "the read waited for the writer"
        assert [feed["title"] for feed in result[0]] == [None]  # the snapshot before the uncommitted change
    finally:
        release.set()
        thread.join()
    assert [feed["title"] for feed in store.list_feeds()] == ["being changed"]
    store.close()


def test_writers_take_the_lock_up_front_and_wait_for_each_other(tmp_path):
    """A second writer waits at BEGIN for the first to commit (instead of failing later on a lock upgrade)."""
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    store.add_feed("https://example.com/feed.xml", "example.com")
    writing, release, began = threading.Event(), threading.Event(), threading.Event()

    def first():
        with store.begin() as conn:
            conn.execute(feeds.update().values(title="first"))
            writing.set()
            release.wait(30)

    def second():
        with store.begin() as conn:
            began.set()
            conn.execute(feeds.update().values(title=sa.func.coalesce(feeds.c.title, "") + " then second"))

    one = threading.Thread(target=first)
    one.start()
    assert writing.wait(10)
    two = threading.Thread(target=second)
    two.start()
    assert not began.wait(1), "the second writer began while the first held the write lock"
    release.set()
    one.join()
    two.join(10)
    assert [feed["title"] for feed in store.list_feeds()] == ["first then second"]
    store.close()
