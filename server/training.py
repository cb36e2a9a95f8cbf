"""Training data from the service's own store: each article labelled with its outlet's rating.

This is distant supervision: the label is the outlet's side (left, center, right), not a judgement of the
article. Articles of unrated outlets, and of outlets with no bias rating, are left out. The outlet's domain is
kept so that evaluation can hold whole outlets out.
"""
from __future__ import annotations

from collections.abc import Iterator

from .ratings import RatingsIndex
from .scale import side_of


def store_records(store, index: RatingsIndex, *, min_text: int = 200) -> Iterator[dict]:
    """``{"title", "text", "label", "domain"}`` for every stored article of a rated outlet."""
    for article in store.iter_articles():
        outlet = index.outlet_for_key(article["outlet"]) if article["outlet"] else None
        if outlet is None or outlet.bias_score is None or len(article["text"] or "") < min_text:
            continue
        yield {"title": article["title"], "text": article["text"], "label": side_of(outlet.bias_score),
               "domain": outlet.domain, "url": article["url"]}
