"""The reports role: the read queries behind reports and the dashboard (SQL in :mod:`c2watch.store.queries` and
:mod:`c2watch.store.rollup_reads`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from c2watch.store import queries as _queries
from c2watch.store import rollup_reads as _rollup_reads
from c2watch.store.database import Database
from c2watch.store.queries import Bucket, Scope

__all__ = ["Reports"]


class Reports:
    def __init__(self, db: Database) -> None:
        self.db = db

    def monthly_counts(
        self, scope: Scope, buckets: Sequence[Bucket], by_target: bool = False
    ) -> list[_queries.MonthlyCount]:
        with self.db.connect() as conn:
            return _queries.monthly_counts(conn, scope, buckets, by_target)

    def pairings(self, scope: Scope, buckets: Sequence[Bucket]) -> list[_queries.Pairing]:
        with self.db.connect() as conn:
            return _queries.pairings(conn, scope, buckets)

    def points(self, scope: Scope) -> list[_queries.Point]:
        with self.db.connect() as conn:
            return _queries.points(conn, scope)

    def rollup_runs(self, scope: Scope) -> list[_rollup_reads.RolledRun]:
        """The status runs of rolled-up days in ``scope`` (by destination, observer and time), with their day's
        mean ping loss (see :func:`c2watch.store.rollup_reads.points_of` for chart points)."""
        with self.db.connect() as conn:
            return _rollup_reads.rolled_runs(conn, *scope)

    def status_runs(self, scope: Scope) -> list[_queries.Run]:
        with self.db.connect() as conn:
            return _queries.status_runs(conn, scope)

    def revivals(self, scope: Scope, min_gap_seconds: int, min_silent: int) -> list[_queries.Revival]:
        with self.db.connect() as conn:
            return _queries.revivals(conn, scope, min_gap_seconds, min_silent)

    def target_windows(
        self, threats: Sequence[str], start: dt.datetime, end: dt.datetime
    ) -> list[_queries.TargetWindow]:
        with self.db.connect() as conn:
            return _queries.target_windows(conn, threats, start, end)

    def span(self, scope: Scope) -> tuple[dt.datetime, dt.datetime] | None:
        with self.db.connect() as conn:
            return _queries.span(conn, scope)

    def observer_names(self) -> dict[int, str]:
        with self.db.connect() as conn:
            return _queries.observer_names(conn)
