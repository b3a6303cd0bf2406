"""One database: the engine every role of the store shares, its transactions, and the one clock rule.

The clock rule: a method that stamps a time takes it as ``now`` and, when left out, reads the store's clock
(:meth:`Database.now`); a method that asks about a moment (``since``, ``before``) is always given it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from c2watch.errors import StoreError

__all__ = ["Clock", "Database"]

Clock = Callable[[], dt.datetime]


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Database:
    """The engine and the clock; ``begin()`` a write transaction, ``connect()`` a read."""

    def __init__(self, engine: Engine, clock: Clock | None = None) -> None:
        self.engine = engine
        self.clock = clock or _utcnow

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    def now(self, now: dt.datetime | None = None) -> dt.datetime:
        """The time to stamp a write with: the one given, else the store's clock."""
        return self.clock() if now is None else now

    @contextmanager
    def begin(self) -> Iterator[sa.Connection]:
        try:
            with self.engine.begin() as conn:
                yield conn
        except sa.exc.DBAPIError as exc:
            raise StoreError(f"store {self.url}: {exc.orig}") from exc

    @contextmanager
    def connect(self) -> Iterator[sa.Connection]:
        with self.engine.connect() as conn:
            yield conn
