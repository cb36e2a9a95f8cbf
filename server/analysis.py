"""Analysis of one page: which outlet, which stored story, and (with a model) how the article leans.

For a URL already ingested, the stored story. For a new URL, the HTML the extension sends is extracted (the
server never fetches the reader's page) and matched against stored stories; nothing the reader reads is stored
unless the ``store_analyzed`` setting says so. Either way the reader's own outlet counts once among the story's
sources (``story.distribution``, ``source_count``), so every client shows the same numbers.

An answer about a stored article is a function of the database, the ratings and the model only, so the facade
keeps it (and its JSON) in memory until the database changes: see ``Newstilt.analyze``.
"""
from __future__ import annotations

import logging

from .api_types import iso_datetime, to_json
from .articles import NewArticle, add_article
from .errors import ExtractionError, NewstiltError, NotFoundError
from .extract import extract_article
from .ingest import resolve_outlet
from .urls import normalize_url

LOGGER = logging.getLogger(__name__)


class Analysis:
    """One answer of analyze, the database's change token read before it was made (``Store.generation``), and
    its JSON, encoded once when first asked for."""

    __slots__ = ("answer", "generation", "_json")

    def __init__(self, answer: dict, generation):
        self.answer, self.generation, self._json = answer, generation, None

    def json(self) -> bytes:
        if self._json is None:
            self._json = to_json(self.answer)
        return self._json


def analyze(nt, url: str, *, html: str | None = None, title: str | None = None) -> tuple[dict, bool]:
    """What ``Newstilt.analyze`` answers (``nt`` is the facade), and whether the answer may be given again to
    the same ``url`` while the database is unchanged: true when the stored article was found by ``url`` itself
    (not through the canonical address of the ``html`` sent), so ``html`` and ``title`` played no part."""
    url = normalize_url(url)  # raises InvalidURLError for junk
    index = nt.index()
    try:
        match = index.match(url)
        outlet = match.to_dict(index.rater_names)
    except NotFoundError:
        outlet = None
    # the reader's own outlet counts once among the story's sources, stored page or not (an unrated site by its
    # registrable domain)
    reader_outlet = outlet["outlet"]["domain"] if outlet else resolve_outlet(index, urls=(url,))
    result = {"url": url, "outlet": outlet, "article": None, "story": None, "match": None, "lean": None}
    nt.refresh_stories()

    with nt.store.connect() as conn:
        stored = nt.store.find_article(conn, [url])  # by any address the article is known by
        reusable = stored is not None
        extracted = None
        if stored is None and html:
            try:
                outlet_domain = outlet["outlet"]["domain"] if outlet else None
                extracted = extract_article(html, url, feed_outlet_domain=outlet_domain,
                                            outlet_aliases=outlet["outlet"]["aliases"] if outlet else ())
            except ExtractionError as exc:
                # the outlet's rating is still worth answering with; say why there is no article
                result["article"] = {"id": None, "title": title or "", "published": None, "text_length": 0,
                                     "stored": False, "error": str(exc)}
                result["lean"] = nt.score(title or "", "")
                return result, False
            if extracted.canonical_url and extracted.canonical_url != url:
                stored = nt.store.find_article(conn, [extracted.canonical_url])
        if stored is not None:
            result["article"] = {"id": stored.id, "title": stored.title, "published": _iso(stored.published),
                                 "text_length": len(stored.text), "stored": True}
            if stored.story_id is not None:
                result["story"] = nt.story_payload(conn, stored.story_id, exclude_url=stored.url,
                                                   reader_outlet=reader_outlet)
                result["story"]["includes_this_page"] = True
                result["match"] = {"score": stored.match_score, "stored": True}
            text, headline = stored.text, stored.title
        elif extracted is not None:
            headline = extracted.title or title or ""
            text = extracted.text
            result["article"] = {"id": None, "title": headline, "published": _iso(extracted.published),
                                 "text_length": len(text), "stored": False}
            assignment = nt.clusterer.match(conn, headline, text, extracted.published, extracted.language)
            if assignment is not None:
                result["story"] = nt.story_payload(conn, assignment.story_id, reader_outlet=reader_outlet)
                result["story"]["includes_this_page"] = False
                result["match"] = {"score": round(assignment.score, 4), "shared_terms": list(assignment.shared_terms),
                                   "time_gap_hours": assignment.time_gap_hours, "stored": False}
        else:
            headline, text = title or "", ""
            if title:
                result["article"] = {"id": None, "title": title, "published": None, "text_length": 0,
                                     "stored": False}

    if extracted is not None and nt.settings.store_analyzed and extracted.text and \
            (extracted.quality is None or extracted.quality.clean):
        try:
            _store_analyzed(nt, url, extracted, resolve_outlet(index, urls=(url,)))
        except NewstiltError as exc:
            LOGGER.warning("could not store analyzed page %s: %s", url, exc)
    result["lean"] = nt.score(headline, text)
    return result, reusable


def _store_analyzed(nt, url: str, extracted, outlet: str | None) -> None:
    """Keep a page the reader analysed (only when the ``store_analyzed`` setting is on): once, under its
    canonical URL, with the address the reader was on as another address of it."""
    canonical = extracted.canonical_url or url
    article = NewArticle(url=canonical, title=extracted.title or url, text=extracted.text, origin="analyze",
                         outlet=outlet, published=extracted.published,
                         authors=", ".join(extracted.authors or ()) or None, language=extracted.language,
                         text_source="analyze", aliases=(url,) if url != canonical else ())
    with nt.store.begin() as conn:
        nt.clusterer.lock(conn)
        add_article(nt.store, conn, article, clusterer=nt.clusterer)


def _iso(value):
    return iso_datetime(value)
