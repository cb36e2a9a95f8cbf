"""Hot-path SQL run straight on the database driver's cursor, inside the caller's SQLAlchemy transaction.

Clustering runs a dozen small statements per article; through SQLAlchemy's execution machinery (compiled
cache lookup, execution context, result wrapping) that overhead was about a third of the time per article.
These statements are written once per backend and executed on the DBAPI cursor of the connection the caller's
transaction already uses, so they commit and roll back with it. Only integers, floats and strings cross this
boundary (datetimes stay with SQLAlchemy, which stores them differently per backend).

Statements use ``:name`` parameters; lists are passed with ``array()`` and read in SQL as
``{list:name}``, which becomes ``(SELECT value FROM json_each(:name))`` on SQLite and ``ANY(:name)``-ready
arrays on PostgreSQL (write ``IN {list:name}`` and it becomes ``= ANY(...)``).
"""
from __future__ import annotations

import json
import re

_PARAM = re.compile(r"(?<![:\w]):(\w+)")
_IN_LIST = re.compile(r"IN \{list:(\w+)\}")


class Statements:
    """Named SQL statements for one backend (``sqlite`` or ``postgresql``)."""

    def __init__(self, backend: str, statements: dict[str, str]):
        self.pg = backend == "postgresql"
        self.sql = {name: self._translate(sql) for name, sql in statements.items()}

    def _translate(self, sql: str) -> str:
        if self.pg:
            sql = _IN_LIST.sub(r"= ANY(:\1)", sql)
            return _PARAM.sub(r"%(\1)s", sql)
        return _IN_LIST.sub(r"IN (SELECT value FROM json_each(:\1))", sql)

    def array(self, values) -> list | str:
        """A list as one parameter: a PostgreSQL array, or JSON text for SQLite's ``json_each``."""
        return list(values) if self.pg else json.dumps(list(values))

    def run(self, conn, name: str, params: dict | None = None) -> list[tuple]:
        """Execute statement ``name`` in ``conn``'s transaction; its rows (empty for statements without)."""
        cursor = conn.connection.dbapi_connection.cursor()
        try:
            cursor.execute(self.sql[name], params or {})
            return cursor.fetchall() if cursor.description else []
        finally:
            cursor.close()
