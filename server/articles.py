"""Adding an article: the one place where an article is stored and placed in a story.

Ingestion (``newstilt.ingest``), bulk import (``newstilt.bulk``) and analysed pages (``newstilt.analysis``)
all store articles through :func:`add_article`, so what "adding an article" means (its identity, what is
checked, how it joins a story) is written once.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class NewArticle:
    """An article about to be stored. ``url`` is its normalised canonical URL; ``origin`` says where it came
    from (``feed``, ``import``, ``analyze``)."""

    url: str
    title: str
    text: str
    origin: str
    outlet: str | None = None
    published: datetime | None = None
    authors: str | None = None
    language: str | None = None
    feed_id: int | None = None


def add_article(store, conn, article: NewArticle, *, clusterer=None) -> int | None:
    """Store ``article`` in ``conn``'s transaction and, given a ``clusterer``, place it in a story; its new id,
    or None when an article with that URL is stored already (nothing is changed then)."""
    article_id = store.add_article(
        conn, url=article.url, title=article.title, text=article.text, origin=article.origin,
        outlet=article.outlet, published=article.published, authors=article.authors, language=article.language,
        feed_id=article.feed_id)
    if article_id is not None and clusterer is not None:
        clusterer.add(conn, article_id)
    return article_id
