"""Story clustering per language: document frequencies and counts per language, and each story's language.

``cluster_df`` gets a ``language`` column in its key and ``cluster_meta`` a ``documents:<language>`` count per
language, so an article's terms are weighed with its own language's IDF (``newstilt.cluster``); ``stories``
gets ``language``, the language of its first article, against which articles of other languages are compared
on names and numbers only.

The backfill counts the clustered articles per language (``textvec.language_of``: no language counts as
English, which is what an old store's articles are). The existing document frequencies were counted for all
articles together; they become English's. The few articles of other languages are read again to count their
languages' document frequencies (with this release's ``newstilt.textvec``, as the clusterer would), so each
language's counts agree with its document count from the start. Their terms stay in English's counts too:
they are words English articles hardly use, so English weights do not move. Each story's language is its
first (lowest id) member's.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""
from __future__ import annotations

from collections import Counter, defaultdict

import sqlalchemy as sa
from alembic import op

from newstilt import textvec

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

#: ``ClusterConfig.max_words``: the words of an article counted in the document frequencies.
_MAX_WORDS = 400
_BATCH = 1000


def upgrade() -> None:
    conn = op.get_bind()
    op.create_table(
        "cluster_df_by_language",
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("term", sa.String(100), nullable=False),
        sa.Column("df", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("language", "term", name="pk_cluster_df_language_term"),
    )
    conn.execute(sa.text("INSERT INTO cluster_df_by_language (language, term, df) "
                         "SELECT :lang, term, df FROM cluster_df"), {"lang": textvec.DEFAULT_LANGUAGE})
    op.drop_table("cluster_df")
    op.rename_table("cluster_df_by_language", "cluster_df")

    with op.batch_alter_table("stories") as batch:
        batch.add_column(sa.Column("language", sa.String(8), nullable=False,
                                   server_default=textvec.DEFAULT_LANGUAGE))

    # document counts per language, over the articles the clusterer counted (those placed in a story)
    documents: Counter[str] = Counter()
    for code, n in conn.execute(sa.text("SELECT language, COUNT(*) FROM articles WHERE story_id IS NOT NULL "
                                        "GROUP BY language")):
        documents[textvec.language_of(code)] += n
    if documents:
        conn.execute(sa.text('INSERT INTO cluster_meta ("key", value) VALUES (:key, :value)'),
                     [{"key": f"documents:{lang}", "value": n} for lang, n in sorted(documents.items())])

    # each story's language: its first member's
    first = conn.execute(sa.text(
        "SELECT a.story_id, a.language FROM articles a JOIN (SELECT story_id, MIN(id) AS id FROM articles "
        "WHERE story_id IS NOT NULL GROUP BY story_id) f ON a.id = f.id WHERE a.language IS NOT NULL")).all()
    updates = [{"sid": sid, "lang": textvec.language_of(code)} for sid, code in first
               if textvec.language_of(code) != textvec.DEFAULT_LANGUAGE]
    for start in range(0, len(updates), _BATCH):
        conn.execute(sa.text("UPDATE stories SET language = :lang WHERE id = :sid"), updates[start:start + _BATCH])

    # document frequencies of the other languages, from their articles
    others = sorted(lang for lang in documents if lang != textvec.DEFAULT_LANGUAGE)
    if not others:
        return
    df: dict[str, Counter[str]] = defaultdict(Counter)
    rows = conn.execute(sa.text("SELECT language, title, text FROM articles WHERE story_id IS NOT NULL "
                                "AND language IS NOT NULL"), execution_options={"yield_per": _BATCH})
    for code, title, text in rows:
        lang = textvec.language_of(code)
        if lang != textvec.DEFAULT_LANGUAGE:
            df[lang].update(textvec.term_counts(title or "", text or "", max_words=_MAX_WORDS, language=lang).keys())
    counted = [{"lang": lang, "term": term, "df": n} for lang in others for term, n in sorted(df[lang].items())]
    for start in range(0, len(counted), _BATCH):
        conn.execute(sa.text("INSERT INTO cluster_df (language, term, df) VALUES (:lang, :term, :df)"),
                     counted[start:start + _BATCH])


def downgrade() -> None:
    conn = op.get_bind()
    with op.batch_alter_table("stories") as batch:
        batch.drop_column("language")
    conn.execute(sa.text("DELETE FROM cluster_meta WHERE \"key\" LIKE 'documents:%'"))
    op.create_table(
        "cluster_df_single",
        sa.Column("term", sa.String(100), nullable=False),
        sa.Column("df", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("term", name="pk_cluster_df_term"),
    )
    conn.execute(sa.text("INSERT INTO cluster_df_single (term, df) SELECT term, SUM(df) FROM cluster_df "
                         "GROUP BY term"))
    op.drop_table("cluster_df")
    op.rename_table("cluster_df_single", "cluster_df")
