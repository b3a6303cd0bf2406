"""The judging role: when the hub's judge refreshes, as every replica sees it (SQL in
:mod:`c2watch.store.gathering`)."""

from __future__ import annotations

import datetime as dt

from c2watch.store import gathering as _gathering
from c2watch.store.database import Database

__all__ = ["Judging"]


class Judging:
    def __init__(self, db: Database) -> None:
        self.db = db

    def arrived(self, now: dt.datetime | None = None) -> None:
        """Observations arrived (an ingest marks this in its own transaction; here on its own)."""
        with self.db.begin() as conn:
            _gathering.arrived(conn, self.db.now(now))

    def gathering(self) -> _gathering.Gathering:
        with self.db.connect() as conn:
            return _gathering.read(conn)

    def claim(self, now: dt.datetime | None = None) -> bool:
        """Claim the due gathering for a refresh (only the process leading the judge calls this)."""
        with self.db.begin() as conn:
            return _gathering.claim(conn, self.db.now(now))

    def close(self, now: dt.datetime | None = None) -> None:
        """The claimed refresh is done."""
        with self.db.begin() as conn:
            _gathering.close(conn, self.db.now(now))

    def refreshes(self) -> int:
        """How many gatherings were refreshed in this store."""
        with self.db.connect() as conn:
            return _gathering.refreshes(conn)
