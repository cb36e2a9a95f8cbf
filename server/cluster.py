"""Incremental story clustering: each new article joins the story it best matches, or starts one.

How an article is placed (``Clusterer.add``, inside the caller's transaction):

1. **Terms.** ``newstilt.textvec`` turns the headline and the first 400 words into terms (headline counted twice,
   capitalised-name bigrams, numbers kept, the function words of the article's language dropped) and weighs
   them TF-IDF with document frequencies of the article's language kept in the database (``cluster_df`` per
   language, updated as articles arrive, ``cluster_meta['documents:<language>']`` the count), keeping the
   article's 80 heaviest terms, L2-normalised. See *Languages* below.
2. **Syndication.** ``newstilt.dedupe`` fingerprints the text; a near-identical copy of a stored article is marked
   (``syndicated_of``) and joins its original's story whatever its score, as long as the time rules (5, 6)
   allow it.
3. **Candidates from an index, never a scan.** ``story_postings`` holds (term, day, story) for the 20 heaviest
   terms of every member, on the member's publication day. The article's own 20 heaviest terms are looked up
   within ``window_days`` (3) of its publication day, at most ``postings_per_term`` rows per term, and the
   ``candidates`` (20) stories hitting most of them are scored. So the work per article depends on how much
   news was published around its date, not on the size of the store.
4. **Score: average link.** Each story keeps the sum of its members' vectors (its 300 heaviest terms, in
   ``story_terms``); the score is the dot product of the article with that sum divided by the number of
   members, i.e. the article's mean cosine to the members. Unlike the cosine to the centroid it penalises loose
   topic clusters ("North Korea" over six years) that would otherwise swallow every new event of the topic.
5. **Rules.** A dated article may join a story when it was published within ``window_days`` of one of the
   story's members and the story would not span more than ``max_span_days`` (3) from its first to its last
   publication. The score a join needs grows with that span: ``threshold`` (0.10) for a story that stays
   within one day, plus ``span_penalty`` (0.02) per day it would span (0.16 at 3 days). The best-scoring
   candidate that reaches what it needs wins; otherwise the article starts a story. A story is one event:
   follow-ups days later must be clearly about it, and a run of related events (a primary, a candidate
   quitting the next day, Super Tuesday after that) cannot chain into one story through their shared names.
6. **Undated articles** (no publication date: some archives, pages without metadata) cannot be placed in time,
   so they are compared only with stories that have undated members (the ``UNDATED`` day bucket of the index)
   and need the stricter ``undated_threshold`` (0.20): without a window, a loose match would merge the same
   topic across years. A story is therefore either dated or undated, never both.
7. **Title.** A story's title is its most central headline: after each join, the new member and the current
   title article are compared with the updated centroid and the closer one titles the story.

**Languages.** An article's language is ``articles.language`` reduced to its primary subtag
(``textvec.language_of``); an article without one counts as English, which is what the rows of a store made
before languages were recorded are. Each language has its own document count and document frequencies, so a
French article is weighed against French articles: ``les`` and ``pour``, rare in a mostly English store, are
common in French (and with few French articles, when no IDF can tell them apart yet, the French stop words drop
them). Document frequencies are kept per language, not only the count, because the terms that do collide
across languages are names and numbers (``trump``, ``2023``): English counts of them would make them look
common in French. A story has the language of its first article (``stories.language``).

An article is compared with a story of its own language as in 4 and 5. With a story of another language it is
compared on **names and numbers only** (``textvec.carry_terms``: capitalised words in Latin script that do not
open a sentence, their bigrams, numbers of two or more digits, read from the article's original text since
terms are lower-cased): the score is step 4's restricted to those terms; it must share at least
``cross_names`` (4) distinct ones with the story (a bigram and its two words count once: "Xi Jinping" is one
name) and reach ``cross_threshold`` (0.15, plus the span penalty; undated: at least ``undated_threshold``).
Two articles that both mention Trump do not meet; a Japan-China summit reported in English and in Spanish
(Kishida, Xi Jinping, San Francisco, APEC, Fukushima, 2023, 90 minutes) does. The story keeps its language
and its centroid sums all members' vectors, so average link stays the mean similarity to every member.
The test is one-sided: only the article's case is known, the story's centroid terms are matched as they are.

Publication dates, not arrival times, drive all of it, so an archive imported in publication order (see
``newstilt.bulk``) clusters the way the same news would have live. ``match`` is the read-only form for a page
that is not stored (the analyze API).

The title article's vector (as it was weighed when the article arrived) is kept in ``story_title_vectors``.

Concurrency: on PostgreSQL ``add`` takes a transaction-scoped advisory lock (``pg_advisory_xact_lock``) before
reading anything, so concurrent ingestion processes assign stories one at a time; SQLite's ``BEGIN IMMEDIATE``
already serialises writers. ``add`` on an article that already has a story changes nothing, so an article is
never counted twice. Callers that insert and cluster in one transaction may call ``lock(conn)`` before the
insert to take the lock early (avoids waiting on each other's uncommitted rows).

Parameters were tuned on the development set (140 gold articles in 40 events among 33,711 other articles;
``bench/stories_bench.py``); see ``ClusterConfig``.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from functools import cached_property

import sqlalchemy as sa

from . import textvec
from .dedupe import Deduper
from .errors import NotFoundError
from .storage import articles, stories, utcnow
from .storage.fastsql import Statements

LOGGER = logging.getLogger(__name__)

#: The index's day bucket for articles without a publication date (real days are days since 1970-01-01).
UNDATED = -1_000_000
#: Key of the PostgreSQL advisory lock serialising story assignment ("newstilt" in ASCII, as an integer).
ADVISORY_LOCK_KEY = 0x6E657773_74696C74 & 0x7FFFFFFFFFFFFFFF
_EPOCH = date(1970, 1, 1)

_P = sa.bindparam
_Q_ARTICLE = sa.select(articles.c.title, articles.c.text, articles.c.published, articles.c.story_id,
                       articles.c.match_score, articles.c.syndicated_of, articles.c.language
                       ).where(articles.c.id == _P("id"))
_Q_STORY_OF = sa.select(articles.c.story_id, articles.c.published).where(articles.c.id == _P("id"))
_INSERT_STORY = (stories.insert().values(title=_P("title"), title_article_id=_P("aid"), first_published=_P("pub"),
                                         last_published=_P("pub"), article_count=1, created_at=_P("now"),
                                         updated_at=_P("now"), language=_P("lang")).returning(stories.c.id))
_UPDATE_STORY = (stories.update().where(stories.c.id == _P("sid"))
                 .values(article_count=stories.c.article_count + 1, updated_at=_P("now"), first_published=_P("first"),
                         last_published=_P("last"), title=sa.func.coalesce(_P("title", type_=sa.Text), stories.c.title),
                         title_article_id=sa.func.coalesce(_P("tid", type_=sa.Integer), stories.c.title_article_id),
                         counts_version=None))  # the listing columns are stale (``newstilt.storyrows``)
_LOCK = sa.select(sa.func.pg_advisory_xact_lock(ADVISORY_LOCK_KEY))
_Q_STORIES = (sa.select(stories.c.id, stories.c.first_published, stories.c.last_published, stories.c.article_count,
                        stories.c.title_article_id, stories.c.language)
              .where(stories.c.id.in_(_P("ids", expanding=True))))

#: The hot statements, run on the driver's cursor (``server.fastsql``). SQLite reads lists with json_each,
#: PostgreSQL with unnest/ANY; ``{list:x}`` is translated for each.
_SQL = {
    "documents": 'SELECT value FROM cluster_meta WHERE "key" = :key',
    # the language's count and the total (``documents``, kept for whoever reads it), in one statement
    "count_document": 'INSERT INTO cluster_meta ("key", value) VALUES (:key, 1), (\'documents\', 1) '
                      'ON CONFLICT ("key") DO UPDATE SET value = cluster_meta.value + 1 RETURNING "key", value',
    "df": "SELECT term, df FROM cluster_df WHERE language = :lang AND term IN {list:terms}",
    "overlap": "SELECT story_id, term, weight FROM story_terms WHERE story_id IN {list:ids} AND term IN {list:terms}",
    "centroid": "SELECT term, weight FROM story_terms WHERE story_id = :sid",
    "drop_terms": "DELETE FROM story_terms WHERE story_id = :sid AND term IN {list:terms}",
    "title_vector": "SELECT article_id, vector FROM story_title_vectors WHERE story_id = :sid",
    "write_title_vector": "INSERT INTO story_title_vectors (story_id, article_id, vector) VALUES (:sid, :aid, :vec) "
                          "ON CONFLICT (story_id) DO UPDATE SET article_id = excluded.article_id, "
                          "vector = excluded.vector",
    "place_article": "UPDATE articles SET story_id = :sid, match_score = :score, fingerprint = :fp, "
                     "syndicated_of = :orig WHERE id = :aid",
}
_SQL_BY_BACKEND = {
    "sqlite": {
        "count_terms": "INSERT INTO cluster_df (language, term, df) SELECT :lang, value, 1 FROM json_each(:terms) "
                       "WHERE true ON CONFLICT (language, term) DO UPDATE SET df = cluster_df.df + 1 "
                       "RETURNING term, df",
        "postings": "INSERT INTO story_postings (term, day, story_id) SELECT value, :day, :sid "
                    "FROM json_each(:terms) WHERE true ON CONFLICT DO NOTHING",
        "write_centroid": "INSERT INTO story_terms (story_id, term, weight) SELECT :sid, json_extract(value, '$[0]'), "
                          "json_extract(value, '$[1]') FROM json_each(:rows) WHERE true "
                          "ON CONFLICT (story_id, term) DO UPDATE SET weight = excluded.weight",
    },
    "postgresql": {
        "count_terms": "INSERT INTO cluster_df (language, term, df) SELECT :lang, t, 1 "
                       "FROM unnest(CAST(:terms AS text[])) AS u(t) "
                       "ON CONFLICT (language, term) DO UPDATE SET df = cluster_df.df + 1 RETURNING term, df",
        "postings": "INSERT INTO story_postings (term, day, story_id) SELECT t, :day, :sid "
                    "FROM unnest(CAST(:terms AS text[])) AS u(t) ON CONFLICT DO NOTHING",
        "write_centroid": "INSERT INTO story_terms (story_id, term, weight) SELECT :sid, t, w "
                          "FROM unnest(CAST(:terms AS text[]), CAST(:weights AS double precision[])) AS u(t, w) "
                          "ON CONFLICT (story_id, term) DO UPDATE SET weight = excluded.weight",
    },
}


def _candidates_sql(n_terms: int) -> str:
    """The candidate query for ``n_terms`` terms: per term at most ``:cap`` postings (newest stories first)
    within the day range, counted per story. Each branch is an index range scan, so the cost is bounded."""
    branch = ("SELECT story_id FROM (SELECT story_id FROM story_postings WHERE term = :t{i} "
              "AND day BETWEEN :lo AND :hi ORDER BY story_id DESC LIMIT :cap) AS p{i}")
    union = " UNION ALL ".join(branch.format(i=i) for i in range(n_terms))
    return (f"SELECT story_id, COUNT(*) AS hits FROM ({union}) AS hits "
            "GROUP BY story_id ORDER BY hits DESC, story_id DESC LIMIT :n")


@dataclass(frozen=True)
class ClusterConfig:
    """Clustering parameters; the defaults are the ones tuned on the development set.

    The thresholds are on the average-link score (mean cosine to the members). In a sweep on the development
    set (with an in-memory replica of this algorithm), dated thresholds 0.08-0.12 and undated ones 0.20-0.23
    kept pairwise F1 within about 0.02 of the best; at an undated threshold of 0.17 distinct undated events
    began to merge, at 0.26 they split. ``title_weight`` 1-3, ``vector_terms`` 50-120 and ``centroid_terms``
    80-300 moved F1 by at most 0.025. Without ``max_span_days`` a story chained for months (535 articles of
    "coronavirus"); with it the largest background story has 55.

    ``max_span_days`` was 7 with one threshold whatever the span: stories of the 2020 primaries chained through
    a week of related events (one held the Buttigieg plagiarism row, the South Carolina primary, Steyer's,
    Buttigieg's and Klobuchar's exits and Warren in Massachusetts, Feb 25 - Mar 3), because every article of
    the season shares the candidates' names and election words, and the 3-day window let each day's news
    join the story of the day before. Shorter spans and a threshold rising with the span keep the gold
    stories' F1 (0.902, precision 1.000) while a story can no longer run past 3 days, and on the invented
    primary season of ``tests/resources/stories/primaries.jsonl`` F1 goes from 0.49 to 0.83. Other causes
    were tried on an in-memory replica and rejected: discounting terms frequent in the window ("generic
    primary terms") lost gold recall without separating the events; a centroid of 1,000 terms instead of
    300 changed nothing; requiring a close nearest member or a close title article split gold stories.
    """

    window_days: int = 3  #: an article may join a story with a member published within this many days
    max_span_days: int = 3  #: a story spans at most this many days from first to last publication
    threshold: float = 0.10  #: minimum score to join a story (dated articles) that stays within one day
    span_penalty: float = 0.02  #: added to ``threshold`` per day the story would span with the article in it
    undated_threshold: float = 0.20  #: minimum score to join a story (undated articles)
    #: minimum score on names and numbers alone to join a story of another language (plus ``span_penalty`` per
    #: day; undated: the higher of this and ``undated_threshold``)
    cross_threshold: float = 0.15
    cross_names: int = 4  #: distinct names and numbers an article must share with a story of another language
    title_weight: float = 2.0  #: a headline term counts this many times
    max_words: int = 400  #: words of the text read (the lede and what follows)
    vector_terms: int = 80  #: heaviest terms kept per article
    centroid_terms: int = 300  #: heaviest terms kept per story centroid
    posting_terms: int = 20  #: an article's terms in the index, and looked up for candidates
    candidates: int = 20  #: stories scored per article
    postings_per_term: int = 500  #: index rows read per term (bounds the cost for very common terms)
    shared_terms: int = 8  #: terms given as the explanation of a match

    def __post_init__(self):
        if self.window_days < 0 or self.max_span_days < 0 or self.span_penalty < 0:
            raise ValueError("window_days, max_span_days and span_penalty must be >= 0")
        if not (0 < self.threshold <= 1 and 0 < self.undated_threshold <= 1 and 0 < self.cross_threshold <= 1):
            raise ValueError("thresholds must be in (0, 1]")
        if min(self.max_words, self.vector_terms, self.centroid_terms, self.posting_terms, self.candidates,
               self.postings_per_term, self.cross_names) < 1:
            raise ValueError("term and candidate counts must be >= 1")


@dataclass(frozen=True)
class Assignment:
    """Where an article went and why.

    ``score`` is the article's average-link similarity to the story it joined; for a new story, the best score
    it reached against any candidate (below the threshold, 0.0 when none was found). ``shared_terms`` are the
    terms contributing most to the score (empty for a new story), ``time_gap_hours`` the distance from the
    article's publication to the story's first-to-last span (0 inside it, None when either has no date), and
    ``candidates`` how many stories the index offered for comparison, ``syndicated_of`` the original when the
    article is a syndicated copy. ``add`` on an article already placed returns its stored story and score
    (0.0 for a story's founder) with ``new_story`` False.
    """

    story_id: int
    new_story: bool
    score: float
    shared_terms: tuple[str, ...] = ()
    time_gap_hours: float | None = None
    candidates: int = 0
    syndicated_of: int | None = None


@dataclass
class _Candidate:
    story_id: int
    score: float
    shared: tuple[str, ...]
    first: datetime | None
    last: datetime | None
    count: int
    title_article_id: int | None
    required: float = 0.0  #: the score this join needs (the threshold, raised with the span it would give)


@dataclass
class _Doc:
    """An article as the clusterer sees it."""

    vector: dict[str, float]
    published: datetime | None
    language: str = textvec.DEFAULT_LANGUAGE
    text: str = ""  #: read for ``carry`` only when a story of another language is a candidate
    max_words: int = 400
    day: int = field(init=False)

    def __post_init__(self):
        self.day = UNDATED if self.published is None else day_number(self.published)

    @cached_property
    def carry(self) -> frozenset[str]:
        """The names and numbers of the article (``textvec.carry_terms``)."""
        return textvec.carry_terms(self.text, max_words=self.max_words, language=self.language)


def _distinct_names(terms) -> int:
    """How many names and numbers ``terms`` hold: a bigram counts once with its parts (``xi``, ``jinping``,
    ``xi_jinping`` are one name)."""
    terms = set(terms)
    parts = {part for term in terms if "_" in term for part in term.split("_")}
    return len(terms - parts)


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes for ``DateTime(timezone=True)``: they are UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def day_number(value: datetime) -> int:
    return (as_utc(value).date() - _EPOCH).days


class Clusterer:
    """Assigns articles to stories. One instance may be shared by threads: all its state is in the database."""

    def __init__(self, store, *, window_days: int | None = None, threshold: float | None = None,
                 config: ClusterConfig | None = None, deduper: Deduper | None = None,
                 on_change: Callable[[sa.Connection, int, int], None] | None = None, **options):
        """``window_days``, ``threshold`` and any other ``ClusterConfig`` field override ``config``.

        ``on_change(conn, story_id, article_id)`` is called in the transaction of ``add`` once an article has
        been placed (a new story or a join): the facade keeps the story row's listing columns current with it.
        """
        if window_days is not None:
            options["window_days"] = window_days
        if threshold is not None:
            options["threshold"] = threshold
        self.store = store
        self.config = replace(config or ClusterConfig(), **options)
        self.deduper = deduper or Deduper()
        self.on_change = on_change
        self._pg = store.backend == "postgresql"
        statements = {**_SQL, **_SQL_BY_BACKEND["postgresql" if self._pg else "sqlite"]}
        statements.update({f"candidates_{n}": _candidates_sql(n) for n in range(1, self.config.posting_terms + 1)})
        self._sql = Statements(store.backend, statements)

    # -- public API ------------------------------------------------------------------------------------

    def lock(self, conn) -> None:
        """Serialise story assignment until the end of ``conn``'s transaction (PostgreSQL; no-op on SQLite)."""
        if self._pg:
            conn.execute(_LOCK)

    def add(self, conn, article_id: int) -> Assignment:
        """Place a stored article in a story (within the caller's transaction) and return why."""
        self.lock(conn)
        row = conn.execute(_Q_ARTICLE, {"id": article_id}).first()
        if row is None:
            raise NotFoundError(f"no article {article_id}")
        if row.story_id is not None:  # already placed: never count an article twice
            return Assignment(row.story_id, False, row.match_score or 0.0, syndicated_of=row.syndicated_of)

        language = textvec.language_of(row.language)
        counts = self._counts(row.title, row.text, language)
        n_docs, df = self._count_document(conn, counts, language)
        doc = self._doc(textvec.weigh(counts, df, n_docs, top=self.config.vector_terms), row.published, language,
                        row.text)

        copy, band_keys, digest = self.deduper.find(conn, row.text, exclude=article_id)
        self.deduper.index(conn, article_id, band_keys)
        chosen, best_rejected, n_candidates = None, 0.0, 0
        if copy is not None:  # a copy joins its original's story if the time rules allow, whatever the score
            original = conn.execute(_Q_STORY_OF, {"id": copy.original_id}).first()
            if original is not None and original.story_id is not None and \
                    (original.published is None) == (doc.published is None):
                found = self._score(conn, doc, [original.story_id])
                chosen = found[0] if found else None
        if chosen is None:
            chosen, best_rejected, n_candidates = self._best(conn, doc)

        if chosen is None:
            story_id = self._create_story(conn, article_id, row.title, doc)
            assignment = Assignment(story_id, True, round(best_rejected, 4), (), None, n_candidates,
                                    copy.original_id if copy else None)
            score = None
        else:
            story_id = chosen.story_id
            self._join_story(conn, chosen, article_id, row.title, doc)
            assignment = Assignment(story_id, False, round(chosen.score, 4), chosen.shared,
                                    _gap_hours(doc.published, chosen.first, chosen.last), n_candidates,
                                    copy.original_id if copy else None)
            score = assignment.score
        self._sql.run(conn, "place_article", {"aid": article_id, "sid": story_id, "score": score, "fp": digest,
                                              "orig": copy.original_id if copy else None})
        self._index(conn, story_id, doc)
        if self.on_change is not None:
            self.on_change(conn, story_id, article_id)
        return assignment

    def match(self, conn, title: str, text: str, published: datetime | None,
              language: str | None = None) -> Assignment | None:
        """The stored story an article that is not stored belongs to, or None. Reads only."""
        language = textvec.language_of(language)
        counts = self._counts(title, text, language)
        if not counts:
            return None
        # weighed as if it were counted, exactly as ``add`` would weigh it
        n_docs = self._documents(conn, language) + 1
        stored = self._df(conn, counts, language)
        df = {term: stored.get(term, 0) + 1 for term in counts}
        doc = self._doc(textvec.weigh(counts, df, n_docs, top=self.config.vector_terms), published, language, text)
        chosen, _, n_candidates = self._best(conn, doc)
        if chosen is None:
            return None
        return Assignment(chosen.story_id, False, round(chosen.score, 4), chosen.shared,
                          _gap_hours(doc.published, chosen.first, chosen.last), n_candidates)

    # -- terms and document frequencies ----------------------------------------------------------------

    def _doc(self, vector: dict[str, float], published: datetime | None, language: str, text: str | None) -> _Doc:
        return _Doc(vector, as_utc(published), language, text or "", self.config.max_words)

    def _counts(self, title: str, text: str, language: str) -> dict[str, float]:
        return textvec.term_counts(title or "", text or "", title_weight=self.config.title_weight,
                                   max_words=self.config.max_words, language=language)

    def _documents(self, conn, language: str) -> int:
        rows = self._sql.run(conn, "documents", {"key": _documents_key(language)})
        return rows[0][0] if rows else 0

    def _df(self, conn, terms, language: str) -> dict[str, int]:
        return dict(self._sql.run(conn, "df", {"terms": self._sql.array(sorted(terms)), "lang": language}))

    def _count_document(self, conn, counts, language: str) -> tuple[int, dict[str, int]]:
        """Count the article in its language's document frequencies; returns the language's new document count
        and its terms' df."""
        key = _documents_key(language)
        n_docs = dict(self._sql.run(conn, "count_document", {"key": key}))[key]
        terms = sorted(counts)  # a fixed order: concurrent writers (if unlocked) cannot deadlock
        if not terms:
            return n_docs, {}
        return n_docs, dict(self._sql.run(conn, "count_terms", {"terms": self._sql.array(terms), "lang": language}))

    def _vector(self, conn, title: str, text: str, language: str | None) -> dict[str, float]:
        language = textvec.language_of(language)
        counts = self._counts(title, text, language)
        return textvec.weigh(counts, self._df(conn, counts, language), self._documents(conn, language),
                             top=self.config.vector_terms)

    def _title_vector(self, conn, story_id: int, title_article_id: int) -> dict[str, float] | None:
        """The stored vector of a story's title article (recomputed for a store made before they were kept)."""
        rows = self._sql.run(conn, "title_vector", {"sid": story_id})
        if rows and rows[0][0] == title_article_id:
            return json.loads(rows[0][1])
        row = conn.execute(_Q_ARTICLE, {"id": title_article_id}).first()
        return None if row is None else self._vector(conn, row.title, row.text, row.language)

    def _keep_title_vector(self, conn, story_id: int, article_id: int, vector: dict[str, float]) -> None:
        self._sql.run(conn, "write_title_vector", {"sid": story_id, "aid": article_id,
                                                   "vec": json.dumps(vector, separators=(",", ":"))})

    # -- candidates and scores -------------------------------------------------------------------------

    def _candidate_ids(self, conn, doc: _Doc) -> list[int]:
        """Stories sharing most of the article's heaviest terms around its day: one bounded index query."""
        query_terms = list(textvec.top_terms(doc.vector, self.config.posting_terms))
        if not query_terms:
            return []
        if doc.day == UNDATED:
            low = high = UNDATED
        else:
            low, high = doc.day - self.config.window_days, doc.day + self.config.window_days
        params = {f"t{i}": term for i, term in enumerate(query_terms)}
        params.update(lo=low, hi=high, cap=self.config.postings_per_term, n=self.config.candidates)
        return [story_id for story_id, _ in self._sql.run(conn, f"candidates_{len(query_terms)}", params)]

    def _score(self, conn, doc: _Doc, story_ids: list[int]) -> list[_Candidate]:
        """Average-link scores of the article against ``story_ids``, best first (span rule applied)."""
        if not story_ids:
            return []
        info = {row.id: row for row in conn.execute(_Q_STORIES, {"ids": list(story_ids)})}
        dots: dict[int, list[tuple[float, str]]] = {sid: [] for sid in info}
        terms = sorted(doc.vector)
        rows = self._sql.run(conn, "overlap", {"ids": self._sql.array(info), "terms": self._sql.array(terms)}) \
            if info else ()
        for story_id, term, weight in rows:
            dots[story_id].append((doc.vector[term] * weight, term))
        out = []
        config = self.config
        for story_id, row in info.items():
            first, last = as_utc(row.first_published), as_utc(row.last_published)
            span = self._span_after(doc, first, last)
            if span is not None and span > config.max_span_days:
                continue
            products = dots[story_id]
            if doc.published is None:
                required = config.undated_threshold
            else:
                required = config.threshold + config.span_penalty * (span or 0)
            if (row.language or textvec.DEFAULT_LANGUAGE) != doc.language:  # names and numbers only
                products = [pt for pt in products if pt[1] in doc.carry]
                if _distinct_names(t for _, t in products) < config.cross_names:
                    continue
                required = max(required, config.cross_threshold + config.span_penalty * (span or 0))
            score = sum(x for x, _ in products) / max(row.article_count, 1)
            products.sort(key=lambda pt: (-pt[0], pt[1]))
            shared = tuple(t for _, t in products[:config.shared_terms])
            out.append(_Candidate(story_id, score, shared, first, last, row.article_count, row.title_article_id,
                                  required))
        out.sort(key=lambda c: (-c.score, c.story_id))
        return out

    @staticmethod
    def _span_after(doc: _Doc, first: datetime | None, last: datetime | None) -> int | None:
        """Days from first to last publication the story would span with the article in it (None: undated)."""
        if doc.published is None or first is None or last is None:
            return None
        days = (day_number(first), day_number(last), doc.day)
        return max(days) - min(days)

    def _best(self, conn, doc: _Doc) -> tuple[_Candidate | None, float, int]:
        """(the story to join or None, the best score seen, how many candidates were compared): the
        best-scoring candidate whose score reaches what it requires (``_Candidate.required``)."""
        candidate_ids = self._candidate_ids(conn, doc)
        scored = self._score(conn, doc, candidate_ids)
        for candidate in scored:
            if candidate.score >= candidate.required:
                return candidate, candidate.score, len(candidate_ids)
        return None, scored[0].score if scored else 0.0, len(candidate_ids)

    # -- writes --------------------------------------------------------------------------------------

    def _create_story(self, conn, article_id: int, title: str, doc: _Doc) -> int:
        story_id = conn.execute(_INSERT_STORY, {"title": title, "aid": article_id, "pub": doc.published,
                                                "now": utcnow(), "lang": doc.language}).scalar_one()
        self._write_centroid(conn, story_id, textvec.top_terms(doc.vector, self.config.centroid_terms))
        self._keep_title_vector(conn, story_id, article_id, doc.vector)
        return story_id

    def _write_centroid(self, conn, story_id: int, rows: dict[str, float]) -> None:
        """Insert or update centroid terms."""
        if not rows:
            return
        items = sorted(rows.items())
        if self._pg:
            params = {"sid": story_id, "terms": [t for t, _ in items], "weights": [w for _, w in items]}
        else:
            params = {"sid": story_id, "rows": json.dumps(items)}
        self._sql.run(conn, "write_centroid", params)

    def _join_story(self, conn, chosen: _Candidate, article_id: int, title: str, doc: _Doc) -> None:
        story_id = chosen.story_id
        old = dict(self._sql.run(conn, "centroid", {"sid": story_id}))
        summed = dict(old)
        for term, weight in doc.vector.items():
            summed[term] = summed.get(term, 0.0) + weight
        new = textvec.top_terms(summed, self.config.centroid_terms)
        dropped = sorted(set(old) - set(new))
        if dropped:
            self._sql.run(conn, "drop_terms", {"sid": story_id, "terms": self._sql.array(dropped)})
        self._write_centroid(conn, story_id, {t: w for t, w in new.items() if old.get(t) != w})

        first, last = chosen.first, chosen.last
        if doc.published is not None:
            first = doc.published if first is None or doc.published < first else first
            last = doc.published if last is None or doc.published > last else last
        central = self._central(conn, story_id, new, article_id, doc.vector, chosen.title_article_id) == article_id
        if central:
            self._keep_title_vector(conn, story_id, article_id, doc.vector)
        conn.execute(_UPDATE_STORY, {"sid": story_id, "now": utcnow(), "first": first, "last": last,
                                     "title": title if central else None, "tid": article_id if central else None})

    def _central(self, conn, story_id: int, centroid: dict[str, float], article_id: int, vector: dict[str, float],
                 title_article_id: int | None) -> int:
        """Whichever of the new member and the current title article is closer to the centroid."""
        if title_article_id is None:
            return article_id
        current = self._title_vector(conn, story_id, title_article_id)
        if current is None:
            return article_id
        return article_id if textvec.cosine(vector, centroid) > textvec.cosine(current, centroid) else title_article_id

    def _index(self, conn, story_id: int, doc: _Doc) -> None:
        terms = sorted(textvec.top_terms(doc.vector, self.config.posting_terms))
        if not terms:
            return
        self._sql.run(conn, "postings", {"terms": self._sql.array(terms), "day": doc.day, "sid": story_id})


def _documents_key(language: str) -> str:
    """The ``cluster_meta`` key of a language's document count."""
    return f"documents:{language}"


def _gap_hours(published: datetime | None, first: datetime | None, last: datetime | None) -> float | None:
    if published is None or first is None or last is None:
        return None
    if published < first:
        seconds = (first - published).total_seconds()
    elif published > last:
        seconds = (published - last).total_seconds()
    else:
        seconds = 0.0
    return round(seconds / 3600, 2)


