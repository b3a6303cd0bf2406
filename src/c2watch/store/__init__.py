"""The store: SQLite (default, WAL) or PostgreSQL (``postgresql+psycopg://``), same schema, same code.

>>> store = open_store("sqlite+pysqlite:///:memory:")   # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from c2watch.errors import StoreError
from c2watch.models import Target, WatchlistEntry
from c2watch.store import observations as _observations
from c2watch.store import outbox as _outbox
from c2watch.store import tables
from c2watch.store import watchlist as _watchlist
from c2watch.store.engine import create_engine, migrate, sqlite_url
from c2watch.store.watchlist import ImportReport, ThreatRow

__all__ = ["ImportReport", "Store", "ThreatRow", "open_store", "sqlite_url"]


class _DryRun(Exception):
    """Raised inside a transaction to roll a dry run back."""


class Store:
    """Typed access to one database. Build it with :func:`open_store`."""

    def __init__(self, engine: Engine, clock: Callable[[], dt.datetime] | None = None) -> None:
        self.engine = engine
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

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

    def apply_watchlist(
        self, entries: Sequence[WatchlistEntry], source: str, now: dt.datetime, dry_run: bool = False
    ) -> ImportReport:
        """Apply an import atomically; with ``dry_run`` compute the report and roll everything back."""
        report: ImportReport | None = None
        try:
            with self.begin() as conn:
                report = _watchlist.apply_entries(conn, entries, source, now)
                report.dry_run = dry_run
                if dry_run:
                    raise _DryRun
        except _DryRun:
            pass
        assert report is not None
        return report

    def targets(self, threat: str | None = None, active_only: bool = False) -> list[Target]:
        with self.connect() as conn:
            return _watchlist.list_targets(conn, threat, active_only)

    def threats(self) -> list[ThreatRow]:
        with self.connect() as conn:
            return _watchlist.list_threats(conn)

    def ensure_observer(
        self, name: str, organization: str, org_identity: str, system_identity: str, now: dt.datetime
    ) -> int:
        with self.begin() as conn:
            return _observations.ensure_observer(conn, name, organization, org_identity, system_identity, now)

    def start_cycle(self, observer_pk: int, slot_at: dt.datetime, started_at: dt.datetime, simulated: bool) -> int:
        with self.begin() as conn:
            return _observations.start_cycle(conn, observer_pk, slot_at, started_at, simulated)

    def finish_cycle(
        self, cycle_pk: int, finished_at: dt.datetime, stix_path: str | None, summary: dict[str, Any]
    ) -> None:
        with self.begin() as conn:
            _observations.finish_cycle(conn, cycle_pk, finished_at, stix_path, summary)

    def insert_observations(self, rows: Sequence[dict[str, Any]], outbox: Sequence[str] = ()) -> None:
        """Store observations, and their STIX objects (JSON) in the outbox, in one transaction."""
        with self.begin() as conn:
            _observations.insert_observations(conn, rows)
            if outbox:
                _outbox.enqueue(conn, outbox, self.clock())

    def last_slot(self, system_identity: str) -> dt.datetime | None:
        with self.connect() as conn:
            return _observations.last_slot(conn, system_identity)

    def observations(self, threat: str | None = None) -> list[dict[str, Any]]:
        """Every observation (optionally of one threat), oldest first, as plain dicts."""
        query = sa.select(tables.observations).order_by(tables.observations.c.observed_at, tables.observations.c.id)
        if threat is not None:
            query = query.where(tables.observations.c.threat_id == threat)
        with self.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(query)]

    def close(self) -> None:
        self.engine.dispose()


def open_store(url: str | Path, upgrade: bool = True) -> Store:
    """Open the store at ``url`` (a SQLAlchemy URL, or a path to a SQLite file) and migrate it to head."""
    engine = create_engine(sqlite_url(url) if isinstance(url, Path) else url)
    if upgrade:
        migrate(engine)
    return Store(engine)
