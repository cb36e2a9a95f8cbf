"""Alembic migrations of newstilt's schema. ``newstilt db upgrade`` (and every command that opens the database,
``serve`` first of all) brings a database to the newest revision; see ``newstilt.storage.migrate``.

Revision 0001 is the schema of release 0.1.0 exactly, written out table by table (never from the current
metadata, which moves on): a 0.1.0 database, which has no ``alembic_version`` table, is stamped 0001 and
upgraded from there. Write every later change as a new revision whose ``down_revision`` is the last one;
``tests/test_migrations.py`` checks that the migrations build exactly ``newstilt.storage.schema``.
"""
