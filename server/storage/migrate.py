"""Schema versions: bring a database to the newest revision with Alembic, keeping every row.

``upgrade(engine)`` is what ``newstilt db upgrade`` runs, and what every command does when it opens the
database (``serve`` first): an empty database gets every revision; a database made by release 0.1.0 (tables,
no ``alembic_version``) is recognised, stamped as revision 0001 (the 0.1.0 schema) and upgraded from there; a
database at a revision this release does not know (made by a newer newstilt) is refused rather than touched.
The whole upgrade runs in one transaction (both SQLite and PostgreSQL have transactional DDL), under
PostgreSQL's advisory lock or SQLite's write lock, so two processes starting at once upgrade once.
"""
from __future__ import annotations

import logging
from importlib import resources

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from ..errors import StorageError

LOGGER = logging.getLogger(__name__)

#: The revision a database made by release 0.1.0 (which had no version table) is at.
BASELINE = "0001"
#: A table every 0.1.0 database has: its presence without a version table means "0.1.0".
_LEGACY_MARKER = "articles"
_LOCK_KEY = 0x6E657773_6D696772  # "newsmigr"


def alembic_config(connection: sa.Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("newstilt.storage") / "migrations"))
    config.attributes["connection"] = connection
    return config


def head() -> str:
    """The newest revision this release knows."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current(connection: sa.Connection) -> str | None:
    """The database's revision: None for an empty database, ``BASELINE`` for a 0.1.0 one."""
    revision = MigrationContext.configure(connection).get_current_revision()
    if revision is None and sa.inspect(connection).has_table(_LEGACY_MARKER):
        return BASELINE
    return revision


def upgrade(engine: sa.Engine) -> tuple[str | None, str]:
    """Bring the database at ``engine`` to :func:`head`; returns (revision before, revision after)."""
    target = head()
    known = {rev.revision for rev in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(sa.select(sa.func.pg_advisory_xact_lock(_LOCK_KEY)))
        before = current(connection)
        if before == target:
            return before, target
        if before is not None and before not in known:
            raise StorageError(
                f"the database is at schema revision {before}, which this release of newstilt does not know "
                "(it was made by a newer release); upgrade newstilt, or point it at another database")
        config = alembic_config(connection)
        if before == BASELINE and MigrationContext.configure(connection).get_current_revision() is None:
            LOGGER.warning("database made by newstilt 0.1.0: upgrading it in place to revision %s", target)
            command.stamp(config, BASELINE)
        command.upgrade(config, target)
        LOGGER.info("database schema upgraded from %s to %s", before or "nothing", target)
        return before, target
