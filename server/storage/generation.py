"""A token that changes whenever anything is committed to the database: what the in-memory answers of a web
process are checked against, at the cost of one trivial statement instead of the queries they stand for.

- SQLite: ``PRAGMA data_version`` on a connection of its own that never writes. SQLite changes the value it
  returns whenever another connection (of any process) has committed since the last call, and only then.
- PostgreSQL: the server's current snapshot (``pg_current_snapshot()``: the oldest running transaction, the
  next transaction id, the ones in progress). It changes whenever a writing transaction starts or ends
  anywhere on the server: conservative (a write to another database also counts) but never blind to a
  commit, which is all a cache needs.

``None`` means "unknown" (an in-memory SQLite database, a lost connection): nothing may then be served from
memory. A token read *before* an answer is computed and unchanged when the answer is asked for again proves
the answer current: nothing was committed in between.
"""
from __future__ import annotations

import logging
import os
import threading

import sqlalchemy as sa

LOGGER = logging.getLogger(__name__)


class Generation:
    """The database's change token, read on a connection of its own (opened on first use, per process)."""

    def __init__(self, engine: sa.Engine):
        self.engine = engine
        self.backend = engine.dialect.name
        database = engine.url.database
        self.available = self.backend == "postgresql" or (
            self.backend == "sqlite" and bool(database) and database != ":memory:"
            and "mode=memory" not in str(engine.url))
        self._connection = None
        self._pid = 0
        self._lock = threading.Lock()
        # PostgreSQL: one read in flight, shared (see ``_shared``)
        self._turn = threading.Condition()
        self._reading = False
        self._started = 0          # reads started so far
        self._finished = (0, None)  # (number, value) of the last read that succeeded

    def current(self) -> str | int | None:
        """The token now (read after this call began), or None when it cannot be known."""
        if not self.available:
            return None
        if self.backend == "sqlite":  # a few microseconds, no round trip: read it
            with self._lock:
                return self._read_or_none()
        return self._shared()

    def _shared(self):
        """PostgreSQL: a round trip, so the threads of a process share reads. A caller may use the value of a
        read that *started* after it arrived (such a read sees every commit made before the call), so it waits
        for the read in flight to end, then takes the next one, started by it or by another caller that
        arrived meanwhile: under load one round trip serves every request that arrived during the last."""
        with self._turn:
            need = self._started + 1  # the first read that starts after this call arrived
            while True:
                number, value = self._finished
                if number >= need:
                    return value
                if not self._reading:
                    self._reading = True
                    self._started += 1
                    mine = self._started
                    break
                self._turn.wait()
        value = None
        try:
            with self._lock:
                value = self._read_or_none()
        finally:
            with self._turn:
                self._reading = False
                if value is not None:
                    self._finished = (mine, value)
                self._turn.notify_all()
        return value

    def _read_or_none(self):
        for attempt in (1, 2):
            try:
                return self._read()
            except Exception as exc:  # noqa: BLE001 - any failure: reopen once, then say "unknown"
                self._drop()
                if attempt == 2:
                    LOGGER.warning("could not read the database's change token: %s", exc)
        return None

    def _read(self):
        if self._connection is None or self._pid != os.getpid():
            raw = self.engine.raw_connection()  # opened as the pool opens its own (same settings, pragmas)
            driver = raw.driver_connection
            raw.detach()  # never returned to the pool: the pool's connections are the ones that write
            self._connection, self._pid = driver, os.getpid()
            if self.backend == "postgresql":
                driver.autocommit = True
        if self.backend == "sqlite":
            return self._connection.execute("PRAGMA data_version").fetchone()[0]
        # libpq directly: a third of the client CPU of a cursor's execute (22 against 59 us a call), and this
        # runs on every answer served from memory
        from psycopg import OperationalError, pq

        result = self._connection.pgconn.exec_(b"SELECT pg_current_snapshot()::text")
        if result.status != pq.ExecStatus.TUPLES_OK:
            raise OperationalError(result.error_message.decode(errors="replace") or "no result")
        return result.get_value(0, 0)

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None and self._pid == os.getpid():
            try:
                connection.close()
            except Exception:  # noqa: BLE001 - already broken
                pass

    def close(self) -> None:
        with self._lock:
            self._drop()
