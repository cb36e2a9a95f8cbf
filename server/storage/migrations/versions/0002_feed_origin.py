"""Feeds say whether the user added them or newstilt registered its default list.

Release 0.1.0 wrote the 191 default feeds into the database on the first ``serve`` like any other feed, so an
OPML the user imported later was added to them instead of used. ``feeds.origin`` tells them apart; in a 0.1.0
database the feeds whose URL is one of the defaults 0.1.0 registered (``default-feeds-0.1.0.txt``) are marked
``default``, every other feed ``user``.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""
from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

DEFAULTS_010 = Path(__file__).with_name("default-feeds-0.1.0.txt")


def upgrade() -> None:
    with op.batch_alter_table("feeds") as batch:
        batch.add_column(sa.Column("origin", sa.String(16), nullable=False, server_default="user"))
    urls = [line for line in DEFAULTS_010.read_text(encoding="utf-8").splitlines()
            if line and not line.startswith("#")]
    feeds = sa.table("feeds", sa.column("url", sa.String), sa.column("origin", sa.String))
    op.execute(feeds.update().where(feeds.c.url.in_(urls)).values(origin="default"))


def downgrade() -> None:
    with op.batch_alter_table("feeds") as batch:
        batch.drop_column("origin")
