"""Which process runs a background job when several share one store: the hub's replicas on one PostgreSQL schema
elect, per job (the judge, the upkeep), the one that runs it.

On PostgreSQL a process leads a job while it holds a session advisory lock keyed by the schema and the job's name,
on a connection it keeps for that. A process that does not get the lock skips the step and asks again at its next
one; when the leader dies, PostgreSQL ends its session and frees the lock, and the next process to ask leads. On
SQLite one process writes a store file, and it always leads.

>>> judge = Leadership(store.engine, "judge")     # doctest: +SKIP
>>> if judge.held(): refresh()                    # doctest: +SKIP

The same keys guard the one-off steps every replica takes at start (:func:`schema_lock` in a transaction: the
migrations, the partitions ahead), so that two processes starting at once take them one after the other.
"""

from __future__ import annotations

import logging
import threading

import sqlalchemy as sa
from sqlalchemy.engine import Engine

__all__ = ["Leadership", "lock_key", "schema_lock"]

log = logging.getLogger(__name__)


def lock_key(name: str) -> sa.ColumnElement[int]:
    """The advisory lock key of ``name`` in the connection's schema (so that schemas of one database never
    contend)."""
    return sa.func.hashtext(sa.func.current_schema().concat(f".c2watch-{name}"))


def schema_lock(conn: sa.Connection, name: str) -> None:
    """PostgreSQL: wait for the transaction-scoped advisory lock ``name`` (released at commit or rollback); SQLite
    serialises writers already."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(lock_key(name))))


class Leadership:
    """Whether this process leads ``job``: :meth:`held` takes the lead when it is free and keeps it while the
    connection holding it lives; :meth:`release` gives it up (at a clean stop, so another process takes over at
    once)."""

    def __init__(self, engine: Engine, job: str) -> None:
        self.engine = engine
        self.job = job
        self.pid: int | None = None  # the PostgreSQL session holding the lead (for operators: pg_stat_activity)
        self._conn: sa.Connection | None = None
        self._guard = threading.Lock()

    def held(self) -> bool:
        if self.engine.dialect.name != "postgresql":
            return True
        with self._guard:
            if self._conn is not None and self._alive(self._conn):
                return True
            return self._take()

    def _alive(self, conn: sa.Connection) -> bool:
        """The session (and so the lock) is still there; a broken one is dropped."""
        try:
            conn.execute(sa.select(1))
            conn.commit()
            return True
        except sa.exc.DBAPIError:
            log.warning("lost the lead of %s: its connection broke", self.job)
            self._drop()
            return False

    def _take(self) -> bool:
        try:
            conn = self.engine.connect()
        except sa.exc.DBAPIError:
            return False  # the store is down: nobody here leads
        try:
            got = bool(conn.execute(sa.select(sa.func.pg_try_advisory_lock(lock_key(self.job)))).scalar())
            pid = conn.execute(sa.select(sa.func.pg_backend_pid())).scalar()
            conn.commit()
        except sa.exc.DBAPIError:
            conn.invalidate()
            conn.close()
            return False
        if not got:
            conn.close()
            return False
        self._conn, self.pid = conn, pid
        log.info("this process leads %s (PostgreSQL session %s)", self.job, pid, extra={"leads": self.job})
        return True

    def _drop(self) -> None:
        if self._conn is not None:
            self._conn.invalidate()  # never back to the pool: its session may still hold the lock
            self._conn.close()
            self._conn, self.pid = None, None

    def release(self) -> None:
        with self._guard:
            conn = self._conn
            if conn is None:
                return
            try:
                conn.execute(sa.select(sa.func.pg_advisory_unlock(lock_key(self.job))))
                conn.commit()
                conn.close()
                self._conn, self.pid = None, None
            except sa.exc.DBAPIError:
                self._drop()
