"""What a listing of stories needs, kept on the story row, and the set-based reads over it.

A listing (the front page, ``GET /api/v1/stories``, the blindspot page, search, an outlet's page) must not
compute each story one query at a time. So each story row carries, up to date:

* ``source_count``, ``distribution`` (the JSON of ``coverage.distribution``) and ``blindspot`` (``left``,
  ``right`` or NULL): they depend on the story's members and on the ratings, and carry ``counts_version``,
  the stamp of the ratings and blindspot rule they were computed with (``coverage.counts_version``);
* ``summary``: the attributed extractive summary (``newstilt.summary``), which depends on the members only.

When an article joins a story the clusterer marks the row stale (``counts_version`` NULL) and calls
:meth:`StoryRows.changed` in the same transaction, which recomputes the row at once (the summary only when the
story's counted articles changed and it has two sources or more). When the ratings change (an import, a new
bundled table, another blindspot rule) :meth:`StoryRows.refresh` recomputes the counts of every row whose stamp
differs, in bulk: one read of the members of 500 stories at a time and one batched UPDATE, no summary work.
Rows left stale by a writer without this hook (a 0.1.0 database after its upgrade, a bare ``Clusterer``) get
counts and summary on the next refresh, which the facade runs before it lists (for an upgraded store of 33,000
articles and 18,000 stories this first refresh takes about 45 s, once).

Listing is then one query over the ``stories`` table, with its indexes (``last_published``; ``blindspot,
last_published`` for the blindspot pages).
"""
from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from .api_types import iso_datetime
from .coverage import BlindspotRule, Members, counts_version, story_counts, summary_payload
from .ratings import RatingsIndex
from .storage import articles, stories
from .summary import Source, SummaryConfig, order_sources, summarize

LOGGER = logging.getLogger(__name__)

#: Stories refreshed per batch (members read with one query, rows written with one executemany).
REFRESH_BATCH = 500
#: At most this many words of a search are used.
MAX_SEARCH_WORDS = 8

_P = sa.bindparam
_MEMBER_COLUMNS = (articles.c.story_id, articles.c.id, articles.c.url, articles.c.title, articles.c.outlet,
                   articles.c.published, articles.c.syndicated_of)
_WRITE_COUNTS = (stories.update().where(stories.c.id == _P("sid"))
                 .values(source_count=_P("n"), distribution=_P("dist"), blindspot=_P("side"),
                         counts_version=_P("version")))
_WRITE_ALL = (stories.update().where(stories.c.id == _P("sid"))
              .values(source_count=_P("n"), distribution=_P("dist"), blindspot=_P("side"),
                      counts_version=_P("version"), summary=_P("summary")))
_TEXTS = (sa.select(articles.c.id, sa.func.substr(articles.c.text, 1, _P("chars")).label("text"))
          .where(articles.c.id.in_(_P("ids", expanding=True))))
_LISTED = (stories.c.id, stories.c.title, stories.c.first_published, stories.c.last_published,
           stories.c.updated_at, stories.c.article_count, stories.c.source_count, stories.c.distribution,
           stories.c.blindspot, stories.c.summary)


class StoryRows:
    """Keeps the listing columns of story rows current; one instance per facade, shared by threads."""

    def __init__(self, ratings, rule: BlindspotRule, *, summary_config: SummaryConfig | None = None):
        """``ratings`` has an ``index()`` method (``newstilt.ratings.Ratings``)."""
        self.ratings = ratings
        self.rule = rule
        self.summary_config = summary_config or SummaryConfig()

    def version(self, index: RatingsIndex | None = None) -> str:
        return counts_version(index or self.ratings.index(), self.rule)

    # -- one story, as an article joins it --------------------------------------------------------------

    def changed(self, conn, story_id: int, article_id: int | None = None) -> None:
        """Recompute story ``story_id``'s row in ``conn``'s transaction (the clusterer's hook)."""
        index = self.ratings.index()
        members = Members.read(conn, story_id)
        dist, blindspot = story_counts(index, self.rule, members.counted_outlets())
        old = conn.execute(sa.select(stories.c.summary).where(stories.c.id == story_id)).scalar()
        read = self._summary_sources(members)
        if dist["total"] < 2:
            summary = None
        elif old is not None and article_id is not None and article_id not in {s.article_id for s in read}:
            # the article the summary reads did not change: a syndicated copy, or one more article of an
            # outlet when the summary already reads its most articles
            summary = old
        else:
            summary = self._summary(conn, read)
        conn.execute(_WRITE_ALL, {"sid": story_id, "n": dist["total"], "dist": _dumps(dist),
                                  "side": blindspot["side"], "version": counts_version(index, self.rule),
                                  "summary": summary})

    def _summary_sources(self, members: Members) -> list[Source]:
        """The articles the summary reads (texts not loaded): one per outlet first, at most ``max_articles``."""
        return order_sources([Source(r.id, r.url, r.outlet, r.title, "") for r in members.originals],
                             self.summary_config.max_articles)

    def _summary(self, conn, read: list[Source]) -> str | None:
        texts = dict(conn.execute(_TEXTS, {"ids": [s.article_id for s in read],
                                           "chars": self.summary_config.max_chars}).all())
        sources = [Source(s.article_id, s.url, s.outlet, s.title, texts[s.article_id])
                   for s in read if s.article_id in texts]
        bullets = summarize(sources, self.summary_config)
        return _dumps(bullets) if bullets else None

    # -- every stale row, in bulk ---------------------------------------------------------------------

    def refresh(self, conn, *, all_versions: bool = True, limit: int | None = None) -> int:
        """Recompute the rows whose counts are stale in ``conn``'s transaction; how many were written.

        Rows never computed (``counts_version`` NULL) get counts and summary; with ``all_versions`` (the
        ratings or the rule changed) rows stamped with another version get their counts recomputed too.
        """
        index = self.ratings.index()
        version = counts_version(index, self.rule)
        stale = stories.c.counts_version.is_(None)
        if all_versions:
            stale = sa.or_(stale, stories.c.counts_version != version)
        query = sa.select(stories.c.id, stories.c.counts_version).where(stale).order_by(stories.c.id)
        if limit is not None:
            query = query.limit(limit)
        todo = conn.execute(query).all()
        for start in range(0, len(todo), REFRESH_BATCH):
            batch = todo[start:start + REFRESH_BATCH]
            ids = [row.id for row in batch]
            by_story: dict[int, list] = defaultdict(list)
            for row in conn.execute(sa.select(*_MEMBER_COLUMNS).where(articles.c.story_id.in_(ids))
                                    .order_by(articles.c.story_id, articles.c.published.is_(None),
                                              articles.c.published, articles.c.id)):
                by_story[row.story_id].append(row)
            counts_only, full = [], []
            for row in batch:
                members = Members.split(by_story.get(row.id, []))
                dist, blindspot = story_counts(index, self.rule, members.counted_outlets())
                params = {"sid": row.id, "n": dist["total"], "dist": _dumps(dist), "side": blindspot["side"],
                          "version": version}
                if row.counts_version is None:
                    params["summary"] = self._summary(conn, self._summary_sources(members)) \
                        if dist["total"] >= 2 else None
                    full.append(params)
                else:
                    counts_only.append(params)
            if counts_only:
                conn.execute(_WRITE_COUNTS, counts_only)
            if full:
                conn.execute(_WRITE_ALL, full)
        if todo:
            LOGGER.info("refreshed the listing columns of %d stories (ratings version %s)", len(todo), version)
        return len(todo)

    # -- listing --------------------------------------------------------------------------------------

    def item(self, index: RatingsIndex, row) -> dict:
        """A listed story (the shape of ``story_payload(..., with_articles=False)``) from its row alone."""
        dist = json.loads(row.distribution) if row.distribution else None
        blindspot = self.rule.apply({g: dist[g]["count"] for g in ("left", "center", "right", "unrated")}) \
            if dist else {"side": None, "rule": {}, "explanation": ""}
        return {
            "id": row.id,
            "title": row.title,
            "first_published": _iso(row.first_published),
            "last_published": _iso(row.last_published),
            "last_updated": _iso(row.updated_at),
            "article_count": row.article_count,
            "source_count": row.source_count,
            "distribution": dist,
            "blindspot": blindspot,
            "summary": summary_payload(index, row.summary),
        }


@dataclass(frozen=True)
class StoryQuery:
    """What to list: filters and the page. Every filter is a condition on the story row (or, for ``words``
    and ``outlet``, an EXISTS on its articles), so a page is one query."""

    since: datetime | None = None  #: last published at or after
    day: datetime | None = None  #: covering this UTC day (first published before its end, last on or after it)
    blindspot: str | None = None  #: ``left``, ``right``, or ``any``
    min_sources: int = 1
    words: tuple[str, ...] = ()  #: every word in some headline of the story (case-insensitive)
    outlet: str | None = None  #: stories with an article of this outlet
    limit: int = 20
    offset: int = 0


def search_words(text: str | None) -> tuple[str, ...]:
    """The words of a search box (at most ``MAX_SEARCH_WORDS``, each 2-50 characters)."""
    words = []
    for word in (text or "").split():
        word = word.strip("\"'“”‘’.,;:!?()[]{}")
        if 2 <= len(word) <= 50 and word.lower() not in words:
            words.append(word.lower())
    return tuple(words[:MAX_SEARCH_WORDS])


def _like(word: str) -> str:
    return "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def list_query(q: StoryQuery) -> sa.Select:
    """The one SELECT of a page of stories (``limit + 1`` rows: the extra one says there is a next page)."""
    query = sa.select(*_LISTED).order_by(stories.c.last_published.desc().nulls_last(), stories.c.id.desc())
    if q.since is not None:
        query = query.where(stories.c.last_published >= q.since)
    if q.day is not None:
        start = q.day.replace(hour=0, minute=0, second=0, microsecond=0)
        query = query.where(stories.c.first_published < start + timedelta(days=1),
                            stories.c.last_published >= start)
    if q.blindspot in ("left", "right"):
        query = query.where(stories.c.blindspot == q.blindspot)
    elif q.blindspot == "any":  # IN, not IS NOT NULL: both read the (blindspot, last_published) index
        query = query.where(stories.c.blindspot.in_(("left", "right")))
    if q.min_sources > 1:
        query = query.where(stories.c.source_count >= q.min_sources)
    for word in q.words:
        query = query.where(sa.exists().where(articles.c.story_id == stories.c.id,
                                              articles.c.title.ilike(_like(word), escape="\\")))
    if q.outlet:
        query = query.where(sa.exists().where(articles.c.story_id == stories.c.id, articles.c.outlet == q.outlet))
    return query.limit(q.limit + 1).offset(q.offset)


def list_stories(conn, rows: StoryRows, index: RatingsIndex, q: StoryQuery) -> tuple[list[dict], bool]:
    """(the page's stories, whether there is a next page)."""
    found = conn.execute(list_query(q)).all()
    return [rows.item(index, row) for row in found[:q.limit]], len(found) > q.limit


def has_stale_rows(conn) -> bool:
    """Whether a story row waits for its listing columns (an indexed lookup)."""
    return conn.execute(sa.select(stories.c.id).where(stories.c.counts_version.is_(None)).limit(1)).first() \
        is not None


def recent_articles(conn, outlet_keys: Iterable[str], *, limit: int, offset: int = 0) -> tuple[list[dict], bool]:
    """An outlet's newest articles (undated last) with their story's id and size; (page, more)."""
    rows = conn.execute(
        sa.select(articles.c.id, articles.c.url, articles.c.title, articles.c.published, articles.c.story_id,
                  stories.c.title.label("story_title"), stories.c.source_count, stories.c.blindspot)
        .select_from(articles.outerjoin(stories, stories.c.id == articles.c.story_id))
        .where(articles.c.outlet.in_(list(outlet_keys)))
        .order_by(articles.c.published.desc().nulls_last(), articles.c.id.desc())
        .limit(limit + 1).offset(offset)).all()
    return [{"id": r.id, "url": r.url, "title": r.title, "published": _iso(r.published), "story_id": r.story_id,
             "story_title": r.story_title, "story_sources": r.source_count, "story_blindspot": r.blindspot}
            for r in rows[:limit]], len(rows) > limit


def outlet_stats(conn, outlet_keys: Iterable[str]) -> dict:
    """How many stories an outlet's articles are in, and how many of those are blindspots (by side)."""
    keys = list(outlet_keys)
    story_ids = sa.select(articles.c.story_id).where(articles.c.outlet.in_(keys),
                                                     articles.c.story_id.is_not(None)).distinct().subquery()
    counts = dict(conn.execute(sa.select(stories.c.blindspot, sa.func.count())
                               .where(stories.c.id.in_(sa.select(story_ids.c.story_id)))
                               .group_by(stories.c.blindspot)).all())
    n_articles = conn.execute(sa.select(sa.func.count()).select_from(articles)
                              .where(articles.c.outlet.in_(keys))).scalar()
    return {"articles": n_articles, "stories": sum(counts.values()),
            "blindspots": {"left": counts.get("left", 0), "right": counts.get("right", 0)}}


def _dumps(value) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _iso(value):
    return iso_datetime(value)
