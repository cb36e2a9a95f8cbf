"""One identity per article across feed link, canonical URL and redirects; retries of failed entries.

``article_urls`` maps every address an article is known by to its row (filled with each article's own URL);
``articles.text_source`` says whether its text is the page's or the feed's stand-in (0.1.0 could not tell:
its rows are taken as pages); ``entry_failures`` remembers feed entries whose page failed, for retries with
backoff; ``feeds.next_attempt_at`` is a failing feed's backoff.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "article_urls",
        sa.Column("url", sa.String(2048), primary_key=True),
        sa.Column("article_id", sa.Integer, sa.ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
    )
    op.create_index("ix_article_urls_article_id", "article_urls", ["article_id"])
    op.execute("INSERT INTO article_urls (url, article_id) SELECT url, id FROM articles")
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("text_source", sa.String(16), nullable=False, server_default="page"))
    op.create_table(
        "entry_failures",
        sa.Column("url", sa.String(2048), primary_key=True),
        sa.Column("feed_id", sa.Integer, sa.ForeignKey("feeds.id", ondelete="CASCADE"), nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text, nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_entry_failures_feed_id", "entry_failures", ["feed_id"])
    with op.batch_alter_table("feeds") as batch:
        batch.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("feeds") as batch:
        batch.drop_column("next_attempt_at")
    op.drop_index("ix_entry_failures_feed_id", "entry_failures")
    op.drop_table("entry_failures")
    with op.batch_alter_table("articles") as batch:
        batch.drop_column("text_source")
    op.drop_index("ix_article_urls_article_id", "article_urls")
    op.drop_table("article_urls")
