"""Alembic's entry point: runs migrations on the connection ``newstilt.storage.migrate`` hands it."""
from __future__ import annotations

from alembic import context

from newstilt.storage.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
