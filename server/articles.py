"""Adding an article: the one place where an article is stored and placed in a story, and where its identity
is decided.

Ingestion (``newstilt.ingest``), bulk import (``newstilt.bulk``) and analysed pages (``newstilt.analysis``)
all store articles through :func:`add_article`. An article is one row however many addresses lead to it: the
feed's link, the canonical URL, the address after redirects, the address a reader analysed are all recorded
in ``article_urls``, and a page whose text is the same as a stored article of the same outlet (the same page
under a URL with other query parameters) is that article. When an article arrives again with a better text
(its page, where the feed's summary stood in for it), the better text replaces the worse one and the article
keeps its story.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from .dedupe import fingerprint, normalised_words
from .storage import articles, syndication_bands

#: How good a text is, by where it came from: the feed's stand-in is replaced by the page when it arrives, and a
#: page with flaws (bytes invalid in its encoding, stray control characters) by a clean fetch of it.
TEXT_RANK = {"feed": 0, "flawed": 1, "page": 2, "import": 2, "analyze": 2}
#: A stored text below this rank is fetched again on later passes (with backoff) until a better one arrives.
COMPLETE = TEXT_RANK["page"]
#: A text needs this many words before its fingerprint is taken as the article's identity (a two-line summary
#: may well be shared by different articles of one outlet).
IDENTITY_MIN_WORDS = 60


@dataclass(frozen=True)
class NewArticle:
    """An article about to be stored. ``url`` is its normalised canonical URL, ``aliases`` its other normalised
    addresses; ``origin`` says where it came from (``feed``, ``import``, ``analyze``), ``text_source`` where its
    text came from (``page``, ``flawed`` (a page with flaws), ``feed``, ``import``, ``analyze``)."""

    url: str
    title: str
    text: str
    origin: str
    outlet: str | None = None
    published: datetime | None = None
    authors: str | None = None
    language: str | None = None
    feed_id: int | None = None
    text_source: str = "page"
    aliases: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        """Whether this text is as good as it gets (else the page is fetched again on a later pass)."""
        return TEXT_RANK.get(self.text_source, COMPLETE) >= COMPLETE


@dataclass(frozen=True)
class Added:
    """What :func:`add_article` did: ``added`` a new article, found it ``known`` (nothing changed but its
    addresses), or ``replaced`` a worse text of it."""

    article_id: int
    status: str


def add_article(store, conn, article: NewArticle, *, clusterer=None) -> Added:
    """Store ``article`` in ``conn``'s transaction, unless it is stored already under one of its addresses or
    (same outlet, same text) under another; given a ``clusterer``, place a new article in a story."""
    words = normalised_words(article.text)
    digest = fingerprint(article.text) if article.text else None
    identity = digest if len(words) >= IDENTITY_MIN_WORDS else None
    urls = (article.url, *article.aliases)
    existing = store.find_article(conn, urls, outlet=article.outlet, fingerprint=identity)
    if existing is None:
        article_id = store.add_article(
            conn, url=article.url, title=article.title, text=article.text, origin=article.origin,
            outlet=article.outlet, published=article.published, authors=article.authors,
            language=article.language, feed_id=article.feed_id, fingerprint=digest,
            text_source=article.text_source, aliases=article.aliases)
        if article_id is not None:
            if clusterer is not None:
                clusterer.add(conn, article_id)
            return Added(article_id, "added")
        existing = store.find_article(conn, urls)  # another writer stored it a moment ago
    store.add_urls(conn, existing.id, urls)
    if TEXT_RANK.get(article.text_source, COMPLETE) > TEXT_RANK.get(existing.text_source, COMPLETE) and article.text:
        _replace_text(conn, existing.id, article, digest, clusterer)
        return Added(existing.id, "replaced")
    return Added(existing.id, "known")


def _replace_text(conn, article_id: int, article: NewArticle, digest: str | None, clusterer) -> None:
    """A better text of a stored article (its page where the feed's summary stood in): the row takes it and
    keeps its story; the near-copy signature is computed again from the new text."""
    values = {"title": article.title, "text": article.text, "text_source": article.text_source,
              "fingerprint": digest}
    for name in ("published", "authors", "language"):
        if getattr(article, name):
            values[name] = getattr(article, name)
    taken = conn.execute(sa.select(articles.c.id).where(articles.c.url == article.url,
                                                        articles.c.id != article_id)).first()
    if taken is None:  # the row goes by its canonical address from now on (the feed's link stays known)
        values["url"] = article.url
    conn.execute(articles.update().where(articles.c.id == article_id).values(**values))
    if clusterer is not None:
        conn.execute(syndication_bands.delete().where(syndication_bands.c.article_id == article_id))
        _copy, keys, _ = clusterer.deduper.find(conn, article.text, exclude=article_id)
        clusterer.deduper.index(conn, article_id, keys)
