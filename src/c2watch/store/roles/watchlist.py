"""The watchlist role: threats and their destinations, imported atomically."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from c2watch.models import Target, WatchlistEntry
from c2watch.store import watchlist as _watchlist
from c2watch.store.database import Database
from c2watch.store.watchlist import ImportReport, ThreatRow

__all__ = ["Watchlist"]


class _DryRun(Exception):
    """Raised inside a transaction to roll a dry run back."""


class Watchlist:
    def __init__(self, db: Database) -> None:
        self.db = db

    def apply(
        self, entries: Sequence[WatchlistEntry], source: str, now: dt.datetime | None = None, dry_run: bool = False
    ) -> ImportReport:
        """Apply an import atomically; with ``dry_run`` compute the report and roll everything back."""
        report: ImportReport | None = None
        try:
            with self.db.begin() as conn:
                report = _watchlist.apply_entries(conn, entries, source, self.db.now(now))
                report.dry_run = dry_run
                if dry_run:
                    raise _DryRun
        except _DryRun:
            pass
        assert report is not None
        return report

    def targets(self, threat: str | None = None, active_only: bool = False) -> list[Target]:
        with self.db.connect() as conn:
            return _watchlist.list_targets(conn, threat, active_only)

    def threats(self) -> list[ThreatRow]:
        with self.db.connect() as conn:
            return _watchlist.list_threats(conn)
