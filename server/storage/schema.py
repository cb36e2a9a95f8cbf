"""Every table of newstilt, on one ``MetaData``. Changing a table means writing a migration too
(``newstilt/storage/migrations/versions``); ``tests/test_migrations.py`` checks that the migrations build
exactly these tables."""
from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

#: One row per imported rater (``mbfc``, ``allsides``): what was imported last and a hash of its content.
raters = sa.Table(
    "raters",
    metadata,
    sa.Column("rater", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("source_file", sa.Text, nullable=False),
    sa.Column("file_sha256", sa.String(64), nullable=False),
    sa.Column("content_sha256", sa.String(64), nullable=False),
    sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
)

#: Each rater's own rating of an outlet, keyed by the rater's normalised key (host or host/path).
rater_ratings = sa.Table(
    "rater_ratings",
    metadata,
    sa.Column("rater", sa.String(32), primary_key=True),
    sa.Column("key", sa.String(512), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("bias_score", sa.Float, nullable=True),
    sa.Column("bias_raw", sa.String(100), nullable=True),
    sa.Column("factuality", sa.String(32), nullable=True),
    sa.Column("url", sa.Text, nullable=True),
    sa.Column("extra", sa.Text, nullable=True),
)

#: Aliases a rater declares (MBFC's ``aliases`` map): alias key -> the rater's key.
rater_aliases = sa.Table(
    "rater_aliases",
    metadata,
    sa.Column("rater", sa.String(32), primary_key=True),
    sa.Column("alias", sa.String(512), primary_key=True),
    sa.Column("target", sa.String(512), nullable=False),
)

#: The feed registry. ``outlet`` is the key of the rated outlet the feed belongs to.
feeds = sa.Table(
    "feeds",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("url", sa.String(2048), nullable=False, unique=True),
    sa.Column("outlet", sa.String(512), nullable=True),
    sa.Column("title", sa.Text, nullable=True),
    sa.Column("enabled", sa.Boolean, nullable=False, default=True),
    sa.Column("etag", sa.Text, nullable=True),
    sa.Column("last_modified", sa.Text, nullable=True),
    sa.Column("last_fetched_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("last_status", sa.Text, nullable=True),
    sa.Column("error_count", sa.Integer, nullable=False, default=0),
    sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
    #: ``user`` (added or imported by the user) or ``default`` (the bundled list, used while there is no
    #: user feed: the first feed the user adds replaces them).
    sa.Column("origin", sa.String(16), nullable=False, server_default="user"),
    #: A feed that failed is not fetched again before this time (exponential backoff); None: due now.
    sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
)

#: One row per article, by normalised canonical URL. ``story_id`` is set by clustering.
articles = sa.Table(
    "articles",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("url", sa.String(2048), nullable=False, unique=True),
    sa.Column("outlet", sa.String(512), nullable=True, index=True),
    sa.Column("feed_id", sa.Integer, sa.ForeignKey("feeds.id", ondelete="SET NULL"), nullable=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("published", sa.DateTime(timezone=True), nullable=True),
    sa.Column("authors", sa.Text, nullable=True),
    sa.Column("language", sa.String(16), nullable=True),
    sa.Column("origin", sa.String(16), nullable=False),  # feed, import, analyze
    sa.Column("fingerprint", sa.String(64), nullable=True, index=True),  # syndicated copies share it
    sa.Column("syndicated_of", sa.Integer, nullable=True),
    sa.Column("story_id", sa.Integer, nullable=True, index=True),
    sa.Column("match_score", sa.Float, nullable=True),
    sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
    #: Where the text came from: ``page`` (the article's page, extracted), ``feed`` (the feed's own text,
    #: standing in for a page that could not be fetched: replaced when a later fetch of the page succeeds),
    #: ``import`` or ``analyze``.
    sa.Column("text_source", sa.String(16), nullable=False, server_default="page"),
)

#: Every URL an article is known by: its canonical URL, the feed's link, the address a reader analysed, the
#: final address after redirects. One article, one row in ``articles``, however many addresses lead to it.
article_urls = sa.Table(
    "article_urls",
    metadata,
    sa.Column("url", sa.String(2048), primary_key=True),
    sa.Column("article_id", sa.Integer, sa.ForeignKey("articles.id", ondelete="CASCADE"), nullable=False,
              index=True),
)

#: Feed entries whose page could not be fetched or extracted (or that raised): retried with backoff on later
#: passes, given up after a few attempts. A row goes when its page is stored.
entry_failures = sa.Table(
    "entry_failures",
    metadata,
    sa.Column("url", sa.String(2048), primary_key=True),
    sa.Column("feed_id", sa.Integer, sa.ForeignKey("feeds.id", ondelete="CASCADE"), nullable=True, index=True),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("last_error", sa.Text, nullable=False),
    sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
)

#: A story: articles about the same event. The listing columns (``source_count`` .. ``summary``) are kept
#: current by ``newstilt.storyrows``: a listing reads them with one query.
stories = sa.Table(
    "stories",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("title_article_id", sa.Integer, nullable=True),
    sa.Column("first_published", sa.DateTime(timezone=True), nullable=True, index=True),
    sa.Column("last_published", sa.DateTime(timezone=True), nullable=True, index=True),
    sa.Column("article_count", sa.Integer, nullable=False, default=0),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, index=True),
    #: Distinct outlets counted (``coverage.distribution``'s ``total``).
    sa.Column("source_count", sa.Integer, nullable=False, server_default="0"),
    #: ``coverage.distribution`` as JSON.
    sa.Column("distribution", sa.Text, nullable=True),
    #: The side the story is a blindspot for (``left``/``right``), else NULL.
    sa.Column("blindspot", sa.String(8), nullable=True),
    #: Stamp of the ratings and blindspot rule the three columns above were computed with; NULL when the
    #: story's membership changed since (the row is then recomputed, summary included).
    sa.Column("counts_version", sa.String(32), nullable=True, index=True),
    #: The extractive summary: JSON list of ``{"text", "article_id", "url", "outlet"}``; NULL below 2 sources.
    sa.Column("summary", sa.Text, nullable=True),
    #: The language of its first article (``textvec.language_of``): articles of other languages are compared
    #: with it on names and numbers only (``newstilt.cluster``).
    sa.Column("language", sa.String(8), nullable=False, server_default="en"),
    sa.Index("ix_stories_blindspot_last_published", "blindspot", "last_published"),
)


# -- story clustering (``newstilt.cluster``) ----------------------------------------------------------------

#: Document frequency of every term seen (in headline or the first ``max_words`` words of a clustered article),
#: per language (``textvec.language_of``): names and numbers are the same terms in every language, and a
#: language's IDF needs its own counts of them.
cluster_df = sa.Table(
    "cluster_df",
    metadata,
    sa.Column("language", sa.String(8), primary_key=True),
    sa.Column("term", sa.String(100), primary_key=True),
    sa.Column("df", sa.Integer, nullable=False),
)

#: Counters of the clusterer: ``documents:<language>`` (articles of that language counted in ``cluster_df``,
#: ``documents:en`` for instance) and ``documents`` (all of them).
cluster_meta = sa.Table(
    "cluster_meta",
    metadata,
    sa.Column("key", sa.String(32), primary_key=True),
    sa.Column("value", sa.BigInteger, nullable=False),
)

#: A story's centroid: the sum of its members' term vectors, its ``centroid_terms`` heaviest terms.
story_terms = sa.Table(
    "story_terms",
    metadata,
    sa.Column("story_id", sa.Integer, primary_key=True),
    sa.Column("term", sa.String(100), primary_key=True),
    sa.Column("weight", sa.Float, nullable=False),
)

#: The vector of each story's title article (JSON ``{term: weight}``), so choosing the most central headline
#: never re-reads and re-weighs an old article's text.
story_title_vectors = sa.Table(
    "story_title_vectors",
    metadata,
    sa.Column("story_id", sa.Integer, primary_key=True),
    sa.Column("article_id", sa.Integer, nullable=False),
    sa.Column("vector", sa.Text, nullable=False),
)

#: The candidate index: a member's heaviest terms on its publication day (``UNDATED`` when it has none).
story_postings = sa.Table(
    "story_postings",
    metadata,
    sa.Column("term", sa.String(100), primary_key=True),
    sa.Column("day", sa.Integer, primary_key=True),
    sa.Column("story_id", sa.Integer, primary_key=True),
)


# -- syndicated copies (``newstilt.dedupe``) ---------------------------------------------------------------

#: LSH band keys of every fingerprinted article: articles sharing a key are near-duplicate candidates.
syndication_bands = sa.Table(
    "syndication_bands",
    metadata,
    sa.Column("band_key", sa.BigInteger, primary_key=True),
    sa.Column("article_id", sa.Integer, primary_key=True),
)
