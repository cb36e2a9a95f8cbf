"""Story rows carry what a listing needs: source count, distribution, blindspot side, summary.

Listing stories computed each story's coverage with two queries per story; these columns let a page of
stories be one query (``newstilt.storyrows``). Existing stories get ``counts_version`` NULL, which marks them
stale: the first refresh (run by the facade before it lists) fills counts and summaries from the articles, so
nothing is computed inside the migration and no row is lost.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("stories") as batch:
        batch.add_column(sa.Column("source_count", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("distribution", sa.Text, nullable=True))
        batch.add_column(sa.Column("blindspot", sa.String(8), nullable=True))
        batch.add_column(sa.Column("counts_version", sa.String(32), nullable=True))
        batch.add_column(sa.Column("summary", sa.Text, nullable=True))
    op.create_index("ix_stories_counts_version", "stories", ["counts_version"])
    op.create_index("ix_stories_blindspot_last_published", "stories", ["blindspot", "last_published"])


def downgrade() -> None:
    op.drop_index("ix_stories_blindspot_last_published", table_name="stories")
    op.drop_index("ix_stories_counts_version", table_name="stories")
    with op.batch_alter_table("stories") as batch:
        for column in ("summary", "counts_version", "blindspot", "distribution", "source_count"):
            batch.drop_column(column)
