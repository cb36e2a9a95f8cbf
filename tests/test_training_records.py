"""Distant supervision from the store: labels come from the outlet's rating; unrated outlets are left out."""
from __future__ import annotations

from newstilt.ratings import Ratings
from newstilt.training import store_records

from .conftest import FIXTURE_OUTLETS

TEXT = "The committee met on Tuesday to debate the budget bill and its effect on schools and hospitals. " * 4


def test_store_records_label_by_outlet_side(store):
    with store.begin() as conn:
        for outlet, url in (("nytimes.com", "https://nytimes.com/a"), ("foxnews.com", "https://foxnews.com/a"),
                            ("reuters.com", "https://reuters.com/a"), ("unrated.example", "https://unrated.example/a"),
                            (None, "https://nowhere.example/a"), ("nytimes.com", "https://nytimes.com/short")):
            store.add_article(conn, url=url, title="Budget debate", origin="import", outlet=outlet,
                              text="Too short." if url.endswith("short") else TEXT)
    index = Ratings(store, FIXTURE_OUTLETS.read_text()).index()
    records = sorted(store_records(store, index), key=lambda r: r["domain"])
    assert [(r["domain"], r["label"]) for r in records] == [
        ("foxnews.com", "right"), ("nytimes.com", "left"), ("reuters.com", "center")]
    assert records[0]["text"] == TEXT and records[0]["title"] == "Budget debate"
