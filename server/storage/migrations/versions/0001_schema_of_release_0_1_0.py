"""The schema of release 0.1.0, table by table: what ``metadata.create_all`` made in 0.1.0.

A 0.1.0 database has exactly these tables and no ``alembic_version``; ``newstilt.storage.migrate`` stamps it
with this revision instead of running it.

Revision ID: 0001
Revises:
Create Date: 2026-12-02
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('cluster_df',
    sa.Column('term', sa.String(length=100), nullable=False),
    sa.Column('df', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('term')
    )
    op.create_table('cluster_meta',
    sa.Column('key', sa.String(length=32), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('feeds',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('url', sa.String(length=2048), nullable=False),
    sa.Column('outlet', sa.String(length=512), nullable=True),
    sa.Column('title', sa.Text(), nullable=True),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('etag', sa.Text(), nullable=True),
    sa.Column('last_modified', sa.Text(), nullable=True),
    sa.Column('last_fetched_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_status', sa.Text(), nullable=True),
    sa.Column('error_count', sa.Integer(), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('url')
    )
    op.create_table('rater_aliases',
    sa.Column('rater', sa.String(length=32), nullable=False),
    sa.Column('alias', sa.String(length=512), nullable=False),
    sa.Column('target', sa.String(length=512), nullable=False),
    sa.PrimaryKeyConstraint('rater', 'alias')
    )
    op.create_table('rater_ratings',
    sa.Column('rater', sa.String(length=32), nullable=False),
    sa.Column('key', sa.String(length=512), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('bias_score', sa.Float(), nullable=True),
    sa.Column('bias_raw', sa.String(length=100), nullable=True),
    sa.Column('factuality', sa.String(length=32), nullable=True),
    sa.Column('url', sa.Text(), nullable=True),
    sa.Column('extra', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('rater', 'key')
    )
    op.create_table('raters',
    sa.Column('rater', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('source_file', sa.Text(), nullable=False),
    sa.Column('file_sha256', sa.String(length=64), nullable=False),
    sa.Column('content_sha256', sa.String(length=64), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('rater')
    )
    op.create_table('stories',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('title_article_id', sa.Integer(), nullable=True),
    sa.Column('first_published', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_published', sa.DateTime(timezone=True), nullable=True),
    sa.Column('article_count', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('stories', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stories_first_published'), ['first_published'], unique=False)
        batch_op.create_index(batch_op.f('ix_stories_last_published'), ['last_published'], unique=False)
        batch_op.create_index(batch_op.f('ix_stories_updated_at'), ['updated_at'], unique=False)

    op.create_table('story_postings',
    sa.Column('term', sa.String(length=100), nullable=False),
    sa.Column('day', sa.Integer(), nullable=False),
    sa.Column('story_id', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('term', 'day', 'story_id')
    )
    op.create_table('story_terms',
    sa.Column('story_id', sa.Integer(), nullable=False),
    sa.Column('term', sa.String(length=100), nullable=False),
    sa.Column('weight', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('story_id', 'term')
    )
    op.create_table('story_title_vectors',
    sa.Column('story_id', sa.Integer(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('vector', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('story_id')
    )
    op.create_table('syndication_bands',
    sa.Column('band_key', sa.BigInteger(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('band_key', 'article_id')
    )
    op.create_table('articles',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('url', sa.String(length=2048), nullable=False),
    sa.Column('outlet', sa.String(length=512), nullable=True),
    sa.Column('feed_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('published', sa.DateTime(timezone=True), nullable=True),
    sa.Column('authors', sa.Text(), nullable=True),
    sa.Column('language', sa.String(length=16), nullable=True),
    sa.Column('origin', sa.String(length=16), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=True),
    sa.Column('syndicated_of', sa.Integer(), nullable=True),
    sa.Column('story_id', sa.Integer(), nullable=True),
    sa.Column('match_score', sa.Float(), nullable=True),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['feed_id'], ['feeds.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('url')
    )
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_articles_fingerprint'), ['fingerprint'], unique=False)
        batch_op.create_index(batch_op.f('ix_articles_outlet'), ['outlet'], unique=False)
        batch_op.create_index(batch_op.f('ix_articles_story_id'), ['story_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_articles_story_id'))
        batch_op.drop_index(batch_op.f('ix_articles_outlet'))
        batch_op.drop_index(batch_op.f('ix_articles_fingerprint'))

    op.drop_table('articles')
    op.drop_table('syndication_bands')
    op.drop_table('story_title_vectors')
    op.drop_table('story_terms')
    op.drop_table('story_postings')
    with op.batch_alter_table('stories', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stories_updated_at'))
        batch_op.drop_index(batch_op.f('ix_stories_last_published'))
        batch_op.drop_index(batch_op.f('ix_stories_first_published'))

    op.drop_table('stories')
    op.drop_table('raters')
    op.drop_table('rater_ratings')
    op.drop_table('rater_aliases')
    op.drop_table('feeds')
    op.drop_table('cluster_meta')
    op.drop_table('cluster_df')
