"""Analysis of one page: which outlet, which stored story, and (with a model) how the article leans.

For a URL already ingested, the stored story. For a new URL, the HTML the extension sends is extracted (the
server never fetches the reader's page) and matched against stored stories; nothing the reader reads is stored
unless the ``store_analyzed`` setting says so.
"""
from __future__ import annotations

import logging

import sqlalchemy as sa

from .coverage import story_payload
from .errors import ExtractionError, NewstiltError, NotFoundError
from .storage import articles
from .urls import normalize_url

LOGGER = logging.getLogger(__name__)


def analyze(services, url, *, html: str | None = None, title: str | None = None) -> dict:
    url = normalize_url(url)  # raises InvalidURLError for junk
    index = services.ratings.index()
    try:
        match = index.match(url)
        outlet = match.to_dict(index.rater_names)
    except NotFoundError:
        outlet = None
    result = {"url": url, "outlet": outlet, "article": None, "story": None, "match": None, "lean": None}

    with services.store.connect() as conn:
        stored = conn.execute(sa.select(articles).where(articles.c.url == url)).first()
        extracted = None
        if stored is None and html:
            try:
                extracted = services.extract(html, url, outlet["outlet"]["domain"] if outlet else None)
            except ExtractionError as exc:
                # the outlet's rating is still worth answering with; say why there is no article
                result["article"] = {"id": None, "title": title or "", "published": None, "text_length": 0,
                                     "stored": False, "error": str(exc)}
                result["lean"] = services.score(title or "", "")
                return result
            if extracted.canonical_url and extracted.canonical_url != url:
                stored = conn.execute(sa.select(articles).where(articles.c.url == extracted.canonical_url)).first()
        if stored is not None:
            result["article"] = {"id": stored.id, "title": stored.title, "published": _iso(stored.published),
                                 "text_length": len(stored.text), "stored": True}
            if stored.story_id is not None:
                result["story"] = story_payload(conn, stored.story_id, index, services.blindspot_rule,
                                                exclude_url=stored.url)
                result["story"]["includes_this_page"] = True
                result["match"] = {"score": stored.match_score, "stored": True}
            text, headline = stored.text, stored.title
        elif extracted is not None:
            headline = extracted.title or title or ""
            text = extracted.text
            result["article"] = {"id": None, "title": headline, "published": _iso(extracted.published),
                                 "text_length": len(text), "stored": False}
            assignment = services.clusterer.match(conn, headline, text, extracted.published)
            if assignment is not None:
                result["story"] = story_payload(conn, assignment.story_id, index, services.blindspot_rule)
                result["story"]["includes_this_page"] = False
                result["match"] = {"score": round(assignment.score, 4), "shared_terms": list(assignment.shared_terms),
                                   "time_gap_hours": assignment.time_gap_hours, "stored": False}
        else:
            headline, text = title or "", ""
            if title:
                result["article"] = {"id": None, "title": title, "published": None, "text_length": 0,
                                     "stored": False}

    if extracted is not None and services.config.get("STORE_ANALYZED") and extracted.text:
        try:
            services.store_analyzed(url, extracted, outlet["outlet"]["domain"] if outlet else None)
        except NewstiltError as exc:
            LOGGER.warning("could not store analyzed page %s: %s", url, exc)
    result["lean"] = services.score(headline, text)
    return result


def _iso(value):
    return value.isoformat() if value else None
