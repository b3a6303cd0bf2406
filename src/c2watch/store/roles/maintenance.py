"""The maintenance role: monthly partitions ahead (PostgreSQL) and retention runs (:mod:`c2watch.store.retention`)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

from c2watch.store.leader import Leadership
from c2watch.store.retention import RetentionPolicy, RetentionReport, create_ahead, run_retention

if TYPE_CHECKING:
    from c2watch.store import Store

__all__ = ["Maintenance"]


class Maintenance:
    def __init__(self, store: Store) -> None:
        self.store = store

    def partitions_ahead(self, months: int, now: dt.datetime | None = None, dry_run: bool = False) -> list[str]:
        """PostgreSQL: the monthly partitions from now to ``months`` ahead that were missing (created unless
        ``dry_run``)."""
        return create_ahead(self.store, self.store.db.now(now), months, dry_run)

    def leadership(self, job: str) -> Leadership:
        """Whether this process leads ``job`` among those sharing the store (:mod:`c2watch.store.leader`)."""
        return Leadership(self.store.engine, job)

    def retention(
        self,
        policy: RetentionPolicy,
        now: dt.datetime | None = None,
        data_dir: Path | None = None,
        dry_run: bool = False,
        max_steps: int | None = None,
    ) -> RetentionReport:
        """One retention run (see :func:`c2watch.store.retention.run_retention`)."""
        return run_retention(self.store, policy, self.store.db.now(now), data_dir, dry_run, max_steps)
