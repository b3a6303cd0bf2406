"""Retention and the dashboard's month query on a partitioned PostgreSQL store (goals: retention over 10 million
observations in < 1 min; the month view < 300 ms with 100 million observations).

Creates its own database (``c2watch_retention_bench`` next to the one of the URL given, dropped at the end), fills
it server-side with ``generate_series`` (one INSERT per month; keys, foreign keys and indexes dropped while loading
and rebuilt after): THREATS x 50 destinations x 3 observers, one observation each every 4 h, over ``--months``
months ending at the bench's clock, the threat count chosen to give ``--rows``. Then it times:

- the month view of one threat (~27,000 points): the store queries it makes, the whole ``month_view()`` call, and
  ``GET /api/threats/T/month/M`` through the served dashboard;
- ``retention run`` with ``--keep-days`` (every monthly partition before the cutoff rolled up and dropped), with
  the verdicts' fold watermark set to the newest row first, as a hub that folds after each sync has it;
- the month view again, of a month now held by rollups only, and of the same raw month.

    python bench/retention_bench.py                                  # 10 million rows, retention and month view
    python bench/retention_bench.py --rows 100000000 --no-retention  # the month view at 100 million rows
    python bench/retention_bench.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from measure import timed
from sqlalchemy.engine import make_url

from c2watch.analysis import Month, month_view
from c2watch.config import Settings
from c2watch.models import WatchlistEntry
from c2watch.store import Scope, Store, open_store, partitions
from c2watch.store.retention import RetentionPolicy, run_retention
from c2watch.web import create_app
from c2watch.web.server import ServedApp

DESTINATIONS, OBSERVERS, PER_DAY = 50, 3, 6
NOW = dt.datetime(2026, 1, 20, tzinfo=dt.UTC)
ZONE = "Asia/Tokyo"
DATABASE = "c2watch_retention_bench"

_STATUS = (
    "CASE (t.id * 7 + s / 36) % 8 WHEN 0 THEN 200 WHEN 1 THEN 200 WHEN 2 THEN 200 WHEN 3 THEN 404 WHEN 4 THEN 500 END"
)
_FILL = f"""
INSERT INTO observations (observer_pk, target_pk, threat_id, observed_at, simulated, outcome, probed_kind,
    probed_value, http_outcome, http_status, ping_sent, ping_received, ping_loss_pct, ping_rtt_avg_ms)
SELECT observer_pk, target_pk, threat_id, at, true,
    CASE WHEN seen IS NOT NULL THEN 'responding' WHEN received > 0 THEN 'ping-only' ELSE 'silent' END,
    'url', url, CASE WHEN seen IS NOT NULL THEN 'responding' ELSE 'error' END, seen, 4, received,
    100.0 - 25 * received, CASE WHEN received > 0 THEN 20.0 + target_pk % 50 END
FROM (
    SELECT o.id AS observer_pk, t.id AS target_pk, h.threat_id, t.url,
        CAST(:start AS timestamp) + s * interval '4 hours' AS at,
        CASE WHEN (s + o.id) % 9 <> 0 THEN {_STATUS} END AS seen,
        CASE WHEN (s + o.id) % 9 <> 0 AND {_STATUS} IS NOT NULL OR (s + t.id) % 3 = 0 THEN 4 ELSE 0 END AS received
    FROM generate_series(CAST(:first AS integer), CAST(:last AS integer)) AS s
    CROSS JOIN targets t JOIN threats h ON h.id = t.threat_pk
    CROSS JOIN observers o
    ORDER BY s, t.id, o.id
) AS g
"""
_CONSTRAINTS = (
    "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
    "WHERE conrelid = 'observations'::regclass AND contype IN ('p', 'u', 'f') ORDER BY contype DESC"
)
_INDEXES = "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'observations' AND indexname LIKE 'ix_%'"


def step(label: str) -> Callable[[], None]:
    began = time.perf_counter()
    print(f"  {label} …", end="", flush=True)
    return lambda: print(f" {time.perf_counter() - began:.1f} s", flush=True)


@contextmanager
def bench_database(base: str, keep: bool = False) -> Iterator[str]:
    """A fresh database next to ``base``'s, dropped afterwards (whatever happens) unless ``keep``."""
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))
        conn.execute(sa.text(f"CREATE DATABASE {DATABASE}"))
    try:
        yield make_url(base).set(database=DATABASE).render_as_string(hide_password=False)
    finally:
        if not keep:
            with admin.connect() as conn:
                conn.execute(sa.text(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))
        admin.dispose()


def prepare(store: Store, threats: int, start: dt.datetime) -> None:
    entries = [
        WatchlistEntry(f"T{t:03d}", ip=f"127.{18 + t // 250}.{t % 250}.{d}", url=f"http://t{t}.example/{d}/gate.php")
        for t in range(threats)
        for d in range(DESTINATIONS)
    ]
    store.watchlist.apply(entries, "bench", start)
    for i in range(OBSERVERS):
        store.observations.ensure_observer(f"obs-{i}", f"Org {i}", f"identity--o{i}", f"identity--s{i}", start)


def fill(store: Store, start: dt.datetime, slots: int) -> int:
    """Load every slot, one UTC month per statement, without keys and indexes (rebuilt after)."""
    raw = store.engine.raw_connection()
    try:
        with raw.cursor() as cursor:  # type: ignore[attr-defined]
            cursor.execute("SET maintenance_work_mem = '1GB'")
            cursor.execute("SET work_mem = '512MB'")
            constraints = cursor.execute(_CONSTRAINTS).fetchall()
            indexes = cursor.execute(_INDEXES).fetchall()
            for name, _ in constraints:
                cursor.execute(f'ALTER TABLE observations DROP CONSTRAINT "{name}"')
            for name, _ in indexes:
                cursor.execute(f'DROP INDEX "{name}"')
            raw.commit()
            done = step(f"loading {slots} slots")
            first = 0
            while first < slots:
                month_end = partitions.add_months(partitions.month_floor(start + dt.timedelta(hours=4 * first)), 1)
                last = min(slots, math.ceil((month_end - start) / dt.timedelta(hours=4))) - 1
                cursor.execute(_pg_fill(), {"start": start.replace(tzinfo=None), "first": first, "last": last})
                raw.commit()
                first = last + 1
            done()
            done = step("keys, foreign keys and indexes")
            for name, definition in reversed(constraints):
                cursor.execute(f'ALTER TABLE observations ADD CONSTRAINT "{name}" {definition}')
            for _, definition in indexes:  # ON ONLY would make the parent's index alone, not the partitions'
                cursor.execute(definition.replace(" ON ONLY ", " ON "))
            raw.commit()
            done()
        driver = raw.driver_connection
        driver.autocommit = True  # type: ignore[union-attr]
        with raw.cursor() as cursor:  # type: ignore[attr-defined]
            done = step("VACUUM ANALYZE (visibility map for index-only scans)")
            cursor.execute("VACUUM (ANALYZE) observations")
            done()
            count = int(cursor.execute("SELECT count(*) FROM observations").fetchone()[0])
        driver.autocommit = False  # type: ignore[union-attr]
    finally:
        raw.close()
    return count


def _pg_fill() -> str:
    """The fill statement with psycopg's named placeholders."""
    return (
        _FILL.replace("%", "%%")
        .replace(":start", "%(start)s")
        .replace(":first", "%(first)s")
        .replace(":last", "%(last)s")
    )


def month_queries(store: Store, threat: str, month: Month) -> None:
    """Exactly the store calls ``month_view`` makes."""
    start, end = month.bounds(ZONE)
    scope = Scope(threat=threat, start=start, end=end)
    store.watchlist.threats()
    store.reports.span(Scope(threat=threat))
    store.watchlist.targets(threat)
    store.reports.points(scope)
    store.reports.rollup_runs(scope)
    store.reports.observer_names()


def measure_month(store: Store, threat: str, month: Month, label: str) -> None:
    view = month_view(store, ZONE, threat, month)
    points = sum(len(t.times) for t in view.traces)
    first, median = timed(lambda: month_queries(store, threat, month))
    print(f"  {label} {threat} {month} ({points:,} chart points)")
    print(f"    store queries: first {first:.0f} ms, median {median:.0f} ms")
    first, median = timed(lambda: month_view(store, ZONE, threat, month))
    print(f"    month_view(): first {first:.0f} ms, median {median:.0f} ms")
    with ServedApp(create_app(store, Settings())) as app:
        url = f"{app.url}api/threats/{threat}/month/{month}"

        def request() -> None:
            with urllib.request.urlopen(url, timeout=60) as response:
                response.read()

        first, median = timed(request)
    print(f"    GET /api/threats/{threat}/month/{month}: first {first:.0f} ms, median {median:.0f} ms")


def retention(store: Store, keep_days: int) -> None:
    with store.begin() as conn:  # as a hub that folds after each sync: every row folded already
        conn.execute(
            sa.text(
                "INSERT INTO analysis_state (name, value, updated_at) "
                "SELECT 'answer_summaries', coalesce(max(id), 0), now() FROM observations"
            )
        )
    before = store.engine.connect()
    size = before.execute(sa.text("SELECT pg_size_pretty(pg_database_size(current_database()))")).scalar()
    before.close()
    report = run_retention(store, RetentionPolicy(keep_days=keep_days, zone=ZONE), NOW)
    with store.connect() as conn:
        after = conn.execute(sa.text("SELECT pg_size_pretty(pg_database_size(current_database()))")).scalar()
        rollups = conn.execute(sa.text("SELECT count(*) FROM daily_rollups")).scalar_one()
    print(
        f"  retention run (keep {keep_days} days): {report.seconds:.1f} s,"
        f" {report.observations_rolled_up:,} observations in {len(report.partitions_dropped)} partitions dropped,"
        f" {report.days_rolled_up} days row by row;"
        f" {rollups:,} daily rollups; database {size} -> {after}"
    )


def run(base: str, rows: int, months: int, keep_days: int | None, keep: bool = False) -> None:
    days = months * 30.4
    threats = max(1, round(rows / (DESTINATIONS * OBSERVERS * PER_DAY * days)))
    start = (NOW - dt.timedelta(days=days)).replace(minute=0, second=0, microsecond=0)
    start = start.replace(hour=start.hour - start.hour % 4)
    slots = int((NOW - start) / dt.timedelta(hours=4))
    print(f"postgres: {threats} threats x {DESTINATIONS} destinations x {OBSERVERS} observers, {slots} slots")
    with bench_database(base, keep) as url:
        store = open_store(url)
        try:
            with store.begin() as conn:
                partitions.ensure_partitions(conn, start, partitions.add_months(NOW, 3))
            prepare(store, threats, start)
            count = fill(store, start, slots)
            print(f"  {count:,} observations in {len(store_partitions(store))} partitions")
            latest, threat = Month.of(NOW, ZONE).previous(), f"T{min(7, threats - 1):03d}"
            measure_month(store, threat, latest, "month view, raw month")
            if keep_days is not None:
                retention(store, keep_days)
                measure_month(store, threat, Month.of(start, ZONE).next(), "month view, rolled-up month")
                measure_month(store, threat, latest, "month view, raw month")
        finally:
            store.close()


def store_partitions(store: Store) -> list[partitions.Partition]:
    with store.connect() as conn:
        return partitions.list_partitions(conn)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--months", type=int, default=13)
    parser.add_argument("--keep-days", type=int, default=92)
    parser.add_argument("--no-retention", action="store_true")
    parser.add_argument("--postgres", default=os.environ.get("C2WATCH_TEST_POSTGRES_URL"))
    parser.add_argument("--keep", action="store_true", help=f"keep the database {DATABASE} (drop it yourself)")
    args = parser.parse_args()
    if not args.postgres:
        raise SystemExit("--postgres URL (or C2WATCH_TEST_POSTGRES_URL) is needed")
    run(args.postgres, args.rows, args.months, None if args.no_retention else args.keep_days, args.keep)


if __name__ == "__main__":
    main()
