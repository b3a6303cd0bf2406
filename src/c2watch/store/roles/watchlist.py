"""The watchlist role: threats and their destinations, imported atomically."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

from c2watch.models import Target, WatchlistEntry
from c2watch.store import watchlist as _watchlist
from c2watch.store.database import Database
from c2watch.store.watchlist import ImportReport, ThreatRow

__all__ = ["Watchlist"]

T = TypeVar("T")


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

    def target_pages(
        self, threat: str | None = None, active_only: bool = False, size: int = 10_000
    ) -> Iterator[list[Target]]:
        """The targets in pages of ``size``, by id, each page read in a connection of its own (released before the
        page is yielded): a million targets are never in memory at once."""
        read = functools.partial(_watchlist.targets_page, limit=size, threat=threat, active_only=active_only)
        return self._keyset_pages(read, lambda target: target.id)

    def target_key_pages(
        self, threat: str | None = None, active_only: bool = False, size: int = 50_000
    ) -> Iterator[list[tuple[int, str, str]]]:
        """(id, threat ID, key) of the targets in pages, like :meth:`target_pages`."""
        read = functools.partial(_watchlist.target_keys_page, limit=size, threat=threat, active_only=active_only)
        return self._keyset_pages(read, lambda key: key[0])

    def _keyset_pages(self, read: Callable[..., list[T]], last_id: Callable[[T], int]) -> Iterator[list[T]]:
        """Pages of ``read(conn, after)`` by id, each read in a connection of its own (released before the page is
        yielded)."""
        after = 0
        while True:
            with self.db.connect() as conn:
                page = read(conn, after)
            if not page:
                return
            after = last_id(page[-1])
            yield page

    def count_targets(self, threat: str | None = None, active_only: bool = False) -> int:
        with self.db.connect() as conn:
            return _watchlist.count_targets(conn, threat, active_only)

    def threats(self) -> list[ThreatRow]:
        with self.db.connect() as conn:
            return _watchlist.list_threats(conn)
