"""Retention: raw observations older than ``keep_days`` are rolled up into per-day summaries (see
:mod:`c2watch.store.rollups`), then removed; STIX cycle files past ``stix_keep_days`` are compressed or deleted.

One run, safe to repeat and to interrupt at any point (each step is one transaction that writes the rollups and
removes the rows they summarise, so a crash loses nothing and a rerun picks up where it stopped):

1. PostgreSQL: create the monthly partitions of the coming ``partitions_ahead`` months;
2. fold the observations not yet folded into the verdicts' answer summaries (rows are removed only once folded);
3. PostgreSQL: each monthly partition that ends on or before the cutoff is rolled up and dropped whole; the rows of
   the month holding the cutoff stay until that month is past too;
4. the rows older than the cutoff that are left (SQLite: all of them; PostgreSQL: those of the DEFAULT partition)
   are rolled up and deleted one local day per transaction;
5. STIX cycle files.

The cutoff is the local midnight (in the report zone) ``keep_days`` before ``now``.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from c2watch.errors import StoreError
from c2watch.identity import Rule, configured_rules, shipped_rules
from c2watch.identity.judge import IdentityRules
from c2watch.store import partitions as parts
from c2watch.store.answers import watermark
from c2watch.store.cyclefiles import FileMode, FilesReport, expire_cycle_files
from c2watch.store.identities import IDENTITY_MARK
from c2watch.store.leader import lock_key, schema_lock
from c2watch.store.rollups import Source, pg_day_start, roll_up, roll_up_counting
from c2watch.store.tables import UTCDateTime, observations, threats

if TYPE_CHECKING:
    from c2watch.config import Settings
    from c2watch.store import Store

__all__ = ["RetentionPolicy", "RetentionReport", "local_day_start", "run_retention"]

_MAX_NAMED = 5000
_LOCK_NOT_AVAILABLE = "55P03"


@dataclass(frozen=True)
class RetentionPolicy:
    """What to keep (see ``[retention]`` in docs/configuration.md); days are read in ``zone``, the report zone."""

    keep_days: int = 400
    zone: str = "Asia/Tokyo"
    stix_files: FileMode = "keep"
    stix_keep_days: int = 30
    partitions_ahead: int = 3
    signatures: tuple[Rule, ...] = ()
    identity: IdentityRules = field(default_factory=IdentityRules)

    @classmethod
    def from_settings(cls, settings: Settings, keep_days: int | None = None) -> RetentionPolicy:
        r = settings.retention
        return cls(
            keep_days if keep_days is not None else r.keep_days,
            settings.observer.zone,
            r.stix_files,
            r.stix_keep_days,
            r.partitions_ahead,
            configured_rules(settings),
            IdentityRules.from_settings(settings),
        )

    def cutoff(self, now: dt.datetime) -> dt.datetime:
        return local_day_start(now - dt.timedelta(days=self.keep_days), self.zone)


def local_day_start(when: dt.datetime, zone: str) -> dt.datetime:
    """The first instant (UTC) of the local day in ``zone`` holding ``when``."""
    tz = ZoneInfo(zone)
    local = when.astimezone(tz)
    return dt.datetime(local.year, local.month, local.day, tzinfo=tz).astimezone(dt.UTC)


def _next_day(day_start: dt.datetime, zone: str) -> dt.datetime:
    tz = ZoneInfo(zone)
    following = day_start.astimezone(tz).date() + dt.timedelta(days=1)
    return dt.datetime(following.year, following.month, following.day, tzinfo=tz).astimezone(dt.UTC)


@dataclass
class RetentionReport:
    now: dt.datetime
    cutoff: dt.datetime
    zone: str
    dry_run: bool
    partitions_created: list[str] = field(default_factory=list)
    partitions_dropped: list[str] = field(default_factory=list)
    days_rolled_up: int = 0
    observations_rolled_up: int = 0
    skipped: list[str] = field(default_factory=list)
    complete: bool = True
    files: FilesReport | None = None
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "now": self.now.isoformat(),
            "cutoff": self.cutoff.isoformat(),
            "zone": self.zone,
            "dry_run": self.dry_run,
            "partitions_created": self.partitions_created,
            "partitions_dropped": self.partitions_dropped,
            "days_rolled_up": self.days_rolled_up,
            "observations_rolled_up": self.observations_rolled_up,
            "skipped": self.skipped,
            "complete": self.complete,
            "stix_files": self.files.as_dict() if self.files else None,
            "seconds": round(self.seconds, 3),
        }


@contextmanager
def exclusive(store: Store) -> Iterator[bool]:
    """One retention run at a time per PostgreSQL schema (a session advisory lock); SQLite serialises writers."""
    if store.engine.dialect.name != "postgresql":
        yield True
        return
    key = lock_key("retention")
    with store.engine.connect() as conn:
        got = bool(conn.execute(sa.select(sa.func.pg_try_advisory_lock(key))).scalar())
        conn.commit()
        try:
            yield got
        finally:
            if got:
                conn.execute(sa.select(sa.func.pg_advisory_unlock(key)))
                conn.commit()


class _Budget:
    """How many transactions a run may still use (``None``: no limit)."""

    def __init__(self, limit: int | None) -> None:
        self.left = limit

    def take(self) -> bool:
        if self.left is None:
            return True
        if self.left <= 0:
            return False
        self.left -= 1
        return True


def create_ahead(store: Store, now: dt.datetime, months: int, dry_run: bool = False) -> list[str]:
    """PostgreSQL: the monthly partitions from ``now``'s month to ``months`` ahead that were missing."""
    with store.begin() as conn:
        if not parts.is_partitioned(conn):
            return []
        if not dry_run:
            schema_lock(conn, "partitions")  # replicas starting at once: one creates, the next finds them
        if dry_run:
            have = {p.name for p in parts.list_partitions(conn)}
            wanted = parts.months_between(now, parts.add_months(parts.month_floor(now), months))
            return [name for name in map(parts.partition_name, wanted) if name not in have]
        return parts.ensure_partitions(conn, now, parts.add_months(parts.month_floor(now), months))


def _fold(store: Store, policy: RetentionPolicy, now: dt.datetime, dry_run: bool) -> int:
    """Fold what the verdicts and identity tracks have not yet (a dry run supposes it done); the id up to which rows
    may be removed."""
    if not dry_run:
        store.verdicts.fold_summaries(now)
        store.verdicts.fold_identities(policy.signatures or shipped_rules(), policy.identity, now)
    with store.begin() as conn:
        top = int(conn.execute(sa.select(sa.func.max(observations.c.id))).scalar() or 0)
        mark = top if dry_run else min(watermark(conn, now), watermark(conn, now, IDENTITY_MARK))
        if conn.dialect.name == "sqlite":  # SQLite reuses the largest id once its row is gone: never remove it
            mark = min(mark, top - 1)
    return mark


def _drop_month(store: Store, partition: parts.Partition, policy: RetentionPolicy, mark: int, dry_run: bool) -> int:
    """Roll up and drop one monthly partition in one transaction; returns its rows (-1: not every row folded)."""
    table = parts.partition_table(partition.name)
    with store.begin() as conn:
        conn.execute(sa.text("SET LOCAL work_mem = '256MB'"))
        name = conn.dialect.identifier_preparer.quote(partition.name)
        conn.execute(sa.text(f"LOCK TABLE {name} IN SHARE MODE"))  # no writer adds rows meanwhile
        top = conn.execute(sa.select(sa.func.max(table.c.id))).scalar()
        if top is not None and top > mark:
            return -1
        if dry_run:
            return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())
        rows = roll_up_counting(conn, Source(table, [], pg_day_start(table.c.observed_at, policy.zone)), policy.zone)
        conn.execute(sa.text("SET LOCAL lock_timeout = '30s'"))
        parts.drop_partition(conn, partition.name)
    return rows


def _drop_months(
    store: Store, policy: RetentionPolicy, cutoff: dt.datetime, mark: int, report: RetentionReport, budget: _Budget
) -> None:
    with store.begin() as conn:
        if not parts.is_partitioned(conn):
            return
        expired = [p for p in parts.list_partitions(conn) if p.end is not None and p.end <= cutoff]
    for partition in expired:
        if not budget.take():
            report.complete = False
            return
        try:
            rows = _drop_month(store, partition, policy, mark, report.dry_run)
        except StoreError as exc:
            if getattr(getattr(exc.__cause__, "orig", None), "sqlstate", None) != _LOCK_NOT_AVAILABLE:
                raise
            report.skipped.append(f"{partition.name}: readers kept the table busy; the next run tries again")
            report.complete = False
            continue
        if rows < 0:
            report.skipped.append(f"{partition.name}: holds observations not yet folded into the verdicts")
            report.complete = False
            continue
        report.partitions_dropped.append(partition.name)
        report.observations_rolled_up += rows


def _row_table(conn: sa.Connection) -> sa.Table | None:
    """Where rows are removed one by one: the table on SQLite, the DEFAULT partition on PostgreSQL."""
    if not parts.is_partitioned(conn):
        return observations
    if any(p.is_default for p in parts.list_partitions(conn)):
        return parts.partition_table(parts.DEFAULT)
    return None


def _older(table: sa.Table, names: list[str], end: dt.datetime, mark: int) -> list[sa.ColumnElement[bool]]:
    """Rows before ``end`` folded already, naming every threat (up to a few thousand) so that the
    (threat_id, observed_at) index serves."""
    named = [table.c.threat_id.in_(names)] if len(names) <= _MAX_NAMED else []
    return [*named, table.c.observed_at < end, table.c.id <= mark]


def _next_left(
    conn: sa.Connection, table: sa.Table, names: list[str], after: dt.datetime | None, end: dt.datetime, mark: int
) -> Any:
    """The oldest removable row's time in ``[after, end)``, if any."""
    where = _older(table, names, end, mark) + ([table.c.observed_at >= after] if after is not None else [])
    return conn.execute(sa.select(sa.func.min(table.c.observed_at)).where(*where)).scalar()


def _roll_day(
    conn: sa.Connection, table: sa.Table, where: list[Any], day: dt.datetime, policy: RetentionPolicy, dry: bool
) -> int:
    """Roll up and delete the rows of one day (in the caller's transaction); returns how many."""
    if dry:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table).where(*where)).scalar_one())
    roll_up(conn, Source(table, where, sa.literal(day, UTCDateTime())), policy.zone)
    return int(conn.execute(table.delete().where(*where)).rowcount or 0)


def _delete_days(
    store: Store, policy: RetentionPolicy, cutoff: dt.datetime, mark: int, report: RetentionReport, budget: _Budget
) -> None:
    with store.begin() as conn:
        table = _row_table(conn)
        names = list(conn.execute(sa.select(threats.c.threat_id)).scalars())
        first = _next_left(conn, table, names, None, cutoff, mark) if table is not None and names else None
    day = None if first is None else local_day_start(first, policy.zone)
    while day is not None and table is not None and day < cutoff:
        if not budget.take():
            report.complete = False
            return
        end = min(_next_day(day, policy.zone), cutoff)
        with store.begin() as conn:
            where = [*_older(table, names, end, mark), table.c.observed_at >= day]
            rows = _roll_day(conn, table, where, day, policy, report.dry_run)
            following = _next_left(conn, table, names, end, cutoff, mark)
        report.days_rolled_up += int(rows > 0)
        report.observations_rolled_up += rows
        day = None if following is None else local_day_start(following, policy.zone)


def run_retention(
    store: Store,
    policy: RetentionPolicy,
    now: dt.datetime,
    data_dir: Path | None = None,
    dry_run: bool = False,
    max_steps: int | None = None,
) -> RetentionReport:
    """One retention run (see the module's documentation). ``max_steps`` bounds the transactions that remove rows
    (a partition or a day each); the report says whether the run got through (``complete``)."""
    began = time.perf_counter()
    cutoff = policy.cutoff(now)
    report = RetentionReport(now, cutoff, policy.zone, dry_run)
    with exclusive(store) as alone:
        if not alone:
            report.skipped.append("another retention run is in progress")
            report.complete = False
            return report
        report.partitions_created = create_ahead(store, now, policy.partitions_ahead, dry_run)
        mark = _fold(store, policy, now, dry_run)
        budget = _Budget(max_steps)
        _drop_months(store, policy, cutoff, mark, report, budget)
        _delete_days(store, policy, cutoff, mark, report, budget)
        if data_dir is not None:
            with store.begin() as conn:
                files_cutoff = now - dt.timedelta(days=policy.stix_keep_days)
                report.files = expire_cycle_files(
                    conn, data_dir / "observations", policy.stix_files, files_cutoff, dry_run
                )
    report.seconds = time.perf_counter() - began
    return report
