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
from c2watch.store import access as _access
from c2watch.store import dashboard as _dashboard
from c2watch.store import events as _events
from c2watch.store import observations as _observations
from c2watch.store import outbox as _outbox
from c2watch.store import queries as _queries
from c2watch.store import rollup_reads as _rollup_reads
from c2watch.store import shared as _shared
from c2watch.store import tables
from c2watch.store import taxii as _taxii
from c2watch.store import verdicts as _verdicts
from c2watch.store import watchlist as _watchlist
from c2watch.store.engine import create_engine, migrate, sqlite_url
from c2watch.store.isolate import Refusal
from c2watch.store.queries import Bucket, Scope
from c2watch.store.watchlist import ImportReport, ThreatRow

__all__ = ["Bucket", "ImportReport", "Scope", "Store", "ThreatRow", "open_store", "sqlite_url"]


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

    def insert_observations(self, rows: Sequence[dict[str, Any]], outbox: Sequence[str] = ()) -> list[Refusal]:
        """Store observations, and their STIX objects (JSON, one group per row) in the outbox, in one transaction.
        A row the database refuses costs only its refused values; the refusals are returned (a ``lost`` row, one
        refused whatever its values, is not stored and its group not queued)."""
        with self.begin() as conn:
            refusals = _observations.insert_observations(conn, rows)
            lost = {refusal.index for refusal in refusals if refusal.lost}
            if outbox:
                _outbox.enqueue(conn, [group for i, group in enumerate(outbox) if i not in lost], self.clock())
        return refusals

    def last_slot(self, system_identity: str) -> dt.datetime | None:
        with self.connect() as conn:
            return _observations.last_slot(conn, system_identity)

    def observations(self, threat: str | None = None) -> list[dict[str, Any]]:
        """Every raw observation (optionally of one threat), oldest first, as plain dicts (days that retention has
        rolled up are in ``daily_rollups``, read through the report queries)."""
        query = sa.select(tables.observations).order_by(tables.observations.c.observed_at, tables.observations.c.id)
        if threat is not None:
            query = query.where(tables.observations.c.threat_id == threat)
        with self.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(query)]

    # Read queries for reports and the dashboard (SQL in c2watch.store.queries).

    def monthly_counts(
        self, scope: Scope, buckets: Sequence[Bucket], by_target: bool = False
    ) -> list[_queries.MonthlyCount]:
        with self.connect() as conn:
            return _queries.monthly_counts(conn, scope, buckets, by_target)

    def pairings(self, scope: Scope, buckets: Sequence[Bucket]) -> list[_queries.Pairing]:
        with self.connect() as conn:
            return _queries.pairings(conn, scope, buckets)

    def points(self, scope: Scope) -> list[_queries.Point]:
        with self.connect() as conn:
            return _queries.points(conn, scope)

    def rollup_runs(self, scope: Scope) -> list[_rollup_reads.RolledRun]:
        """The status runs of rolled-up days in ``scope`` (by destination, observer and time), with their day's
        mean ping loss (see :func:`c2watch.store.rollup_reads.points_of` for chart points)."""
        with self.connect() as conn:
            return _rollup_reads.rolled_runs(conn, *scope)

    def status_runs(self, scope: Scope) -> list[_queries.Run]:
        with self.connect() as conn:
            return _queries.status_runs(conn, scope)

    def revivals(self, scope: Scope, min_gap_seconds: int, min_silent: int) -> list[_queries.Revival]:
        with self.connect() as conn:
            return _queries.revivals(conn, scope, min_gap_seconds, min_silent)

    def target_windows(
        self, threats: Sequence[str], start: dt.datetime, end: dt.datetime
    ) -> list[_queries.TargetWindow]:
        with self.connect() as conn:
            return _queries.target_windows(conn, threats, start, end)

    def span(self, scope: Scope) -> tuple[dt.datetime, dt.datetime] | None:
        with self.connect() as conn:
            return _queries.span(conn, scope)

    def observer_names(self) -> dict[int, str]:
        with self.connect() as conn:
            return _queries.observer_names(conn)

    # --- hub: organisations, tokens, TAXII objects ---

    def add_organization(self, name: str) -> _access.Organization:
        with self.begin() as conn:
            return _access.add_organization(conn, name, self.clock())

    def create_token(self, org: str, name: str, role: str) -> tuple[str, _access.TokenInfo]:
        with self.begin() as conn:
            return _access.create_token(conn, org, name, role, self.clock())

    def list_tokens(self, org: str | None = None) -> list[_access.TokenInfo]:
        with self.connect() as conn:
            return _access.list_tokens(conn, org)

    def revoke_token(self, public_id: str) -> _access.TokenInfo:
        with self.begin() as conn:
            return _access.revoke_token(conn, public_id, self.clock())

    def token_by_id(self, public_id: str) -> _access.TokenInfo | None:
        with self.connect() as conn:
            return _access.token_by_id(conn, public_id)

    def verify_token(self, token: str) -> _access.TokenInfo | None:
        with self.connect() as conn:
            return _access.verify_token(conn, token)

    def taxii_objects(self, query: _taxii.ObjectQuery) -> tuple[list[_taxii.StoredObject], bool]:
        with self.connect() as conn:
            return _taxii.query_objects(conn, query)

    def taxii_add(self, collection: Any, token: _access.TokenInfo, objects: list[Any], now: dt.datetime) -> Any:
        """Store a posted envelope (see :func:`c2watch.taxii.ingest.store_envelope`)."""
        from c2watch.taxii.ingest import store_envelope

        with self.begin() as conn:
            return store_envelope(conn, collection, token, objects, now)

    def taxii_status(self, status_id: str, org_pk: int | None) -> dict[str, Any] | None:
        with self.connect() as conn:
            return _taxii.get_status(conn, status_id, org_pk)

    def index_shared(self, objects: dict[str, dict[str, Any]]) -> int:
        """Index the observation records among ``objects`` (pulled or imported); returns new observations."""
        from c2watch.stix.ingest import records_from_objects

        with self.begin() as conn:
            return _shared.index_records(conn, records_from_objects(objects), self.clock())

    # --- agent: outbox and pull cursors ---

    def outbox_pending(self, limit: int) -> list[tuple[int, str]]:
        with self.connect() as conn:
            return _outbox.pending(conn, limit)

    def outbox_ack(self, ids: Sequence[int]) -> None:
        with self.begin() as conn:
            _outbox.ack(conn, ids, self.clock())

    def outbox_depth(self) -> int:
        with self.connect() as conn:
            return _outbox.depth(conn)

    def sync_cursor(self, hub: str, collection: str) -> dt.datetime | None:
        with self.connect() as conn:
            return _outbox.get_cursor(conn, hub, collection)

    def set_sync_cursor(self, hub: str, collection: str, added_after: dt.datetime) -> None:
        with self.begin() as conn:
            _outbox.set_cursor(conn, hub, collection, added_after, self.clock())

    # --- verdicts across observers, events, webhook delivery (c2watch.store.verdicts and .events) ---

    def fold_summaries(self, now: dt.datetime) -> int:
        """Fold the observations stored since the last call into the per-observer answer summaries; returns how
        many. The aggregation is read without a write lock; the result is written in a short transaction that
        moves the watermark by compare-and-set, so concurrent callers never fold a row twice."""
        with self.begin() as conn:
            top = _verdicts.safe_top(conn)
        while True:
            with self.begin() as conn:
                mark = _verdicts.watermark(conn, now)
            if mark >= top:
                return 0
            with self.connect() as conn:
                plan = _verdicts.plan_fold(conn, mark, top)
            with self.begin() as conn:
                if _verdicts.apply_fold(conn, plan, now):
                    return plan.observations

    def answer_summaries(self, target_pks: Sequence[int] | None = None) -> list[_verdicts.Summary]:
        with self.connect() as conn:
            return _verdicts.summaries(conn, target_pks)

    def blocking_streaks(
        self,
        since: dt.datetime,
        now: dt.datetime,
        probes: Sequence[str],
        origin: int,
        window_seconds: int,
        threat: str | None = None,
    ) -> list[_verdicts.Streak]:
        with self.connect() as conn:
            return _verdicts.blocking_streaks(conn, since, now, probes, origin, window_seconds, threat)

    def verdict_changes(
        self, since: dt.datetime, now: dt.datetime, ttl_tolerance: int, threat: str | None = None
    ) -> list[_verdicts.Change]:
        with self.connect() as conn:
            return _verdicts.changes(conn, since, now, ttl_tolerance, threat)

    def revival_candidates(
        self, since: dt.datetime, now: dt.datetime, probes: Sequence[str], min_silent: int, threat: str | None = None
    ) -> list[_verdicts.Revival]:
        with self.connect() as conn:
            return _verdicts.revival_candidates(conn, since, now, probes, min_silent, threat)

    def last_answers_before(
        self, target_pks: Sequence[int], before: dt.datetime, probes: Sequence[str]
    ) -> dict[int, dt.datetime]:
        if not target_pks:
            return {}
        with self.connect() as conn:
            return _verdicts.last_answers_before(conn, target_pks, before, probes)

    def save_verdicts(self, verdicts: Sequence[Any], now: dt.datetime) -> dict[int, dt.datetime]:
        """Store :class:`c2watch.analysis.verdicts.Verdict` values; returns each one's ``since``."""
        rows = [(v.target.id, v.status, v.last_answer_at, v.evidence()) for v in verdicts]
        with self.begin() as conn:
            return _events.save_verdicts(conn, rows, now)

    def stored_verdicts(self, threat: str | None = None) -> list[_events.StoredVerdict]:
        with self.connect() as conn:
            return _events.stored_verdicts(conn, threat)

    def record_events(self, candidates: Sequence[_events.EventCandidate], now: dt.datetime) -> list[int]:
        with self.begin() as conn:
            return _events.record_events(conn, candidates, now)

    def list_events(
        self,
        since: dt.datetime | None = None,
        threat: str | None = None,
        kinds: Sequence[str] = (),
        limit: int | None = None,
        ids: Sequence[int] = (),
    ) -> list[_events.StoredEvent]:
        with self.connect() as conn:
            return _events.list_events(conn, since, threat, kinds, limit, ids)

    def verdict_counts(self) -> list[_dashboard.VerdictCount]:
        with self.connect() as conn:
            return _dashboard.verdict_counts(conn)

    def find_events(self, window: _dashboard.EventWindow) -> tuple[list[_events.StoredEvent], int]:
        """The events of ``window`` (oldest first) and how many there are in all (ignoring its limit)."""
        with self.connect() as conn:
            return _dashboard.find_events(conn, window), _dashboard.count_events(conn, window)

    def events_after(self, event_id: int, limit: int = 100) -> list[_events.StoredEvent]:
        with self.connect() as conn:
            return _events.events_after(conn, event_id, limit)

    def ensure_webhook_cursors(self, urls: Sequence[str], now: dt.datetime) -> None:
        with self.begin() as conn:
            _events.ensure_cursors(conn, urls, now)

    def webhook_cursor(self, url: str) -> _events.Cursor | None:
        with self.connect() as conn:
            return _events.cursor(conn, url)

    def webhook_delivered(self, url: str, event_id: int, now: dt.datetime) -> None:
        with self.begin() as conn:
            _events.webhook_delivered(conn, url, event_id, now)

    def webhook_failed(self, url: str, error: str, next_attempt_at: dt.datetime, now: dt.datetime) -> None:
        with self.begin() as conn:
            _events.webhook_failed(conn, url, error, next_attempt_at, now)

    def close(self) -> None:
        self.engine.dispose()


def open_store(url: str | Path, upgrade: bool = True) -> Store:
    """Open the store at ``url`` (a SQLAlchemy URL, or a path to a SQLite file) and migrate it to head."""
    engine = create_engine(sqlite_url(url) if isinstance(url, Path) else url)
    if upgrade:
        migrate(engine)
    return Store(engine)
