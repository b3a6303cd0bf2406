"""Dashboard and report speed over a large store (goal: month view < 300 ms, full monthly report < 5 s).

Builds a store of synthetic observations (default 10 million: 30 threats x 50 destinations x 3 observers, one
observation every 4 h for ~370 days), bulk-loaded (SQLite executemany, PostgreSQL COPY), then times:

- the month-view data request (``GET /api/threats/T/month/M``, ~27,000 points) through the served app;
- the full ``report monthly`` (every threat, every month).

    python bench/dashboard_bench.py                        # SQLite file, and PostgreSQL if the URL is set
    python bench/dashboard_bench.py --rows 1000000 --backend sqlite
    C2WATCH_TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test python bench/dashboard_bench.py
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from measure import timed

from c2watch.analysis import monthly_report, overview
from c2watch.config import Settings
from c2watch.models import WatchlistEntry
from c2watch.store import Store, open_store, sqlite_url
from c2watch.store.partitions import ensure_partitions
from c2watch.web import create_app
from c2watch.web.server import ServedApp

THREATS, DESTINATIONS, OBSERVERS, PER_DAY = 30, 50, 3, 6
START = dt.datetime(2020, 6, 30, 15, tzinfo=dt.UTC)  # 2020-07-01 00:00 JST
COLUMNS = (
    "observer_pk",
    "target_pk",
    "threat_id",
    "observed_at",
    "simulated",
    "outcome",
    "probed_kind",
    "probed_value",
    "http_outcome",
    "http_status",
    "ping_sent",
    "ping_received",
    "ping_loss_pct",
)
STATUSES = (200, 200, 200, 404, 500, None, None, None)


def prepare(store: Store) -> tuple[list[tuple[int, str, str]], list[int]]:
    """The watchlist and observers; returns (target id, threat, url) and observer ids."""
    now = START
    entries = [
        WatchlistEntry(f"T{t:02d}", ip=f"127.18.{t}.{d}", url=f"http://127.18.{t}.{d}/gate.php", port=80)
        for t in range(THREATS)
        for d in range(DESTINATIONS)
    ]
    store.watchlist.apply(entries, "bench", now)
    observers = [
        store.observations.ensure_observer(f"obs-{i}", f"Org {i}", f"identity--o{i}", f"identity--s{i}", now)
        for i in range(OBSERVERS)
    ]
    return [(t.id, t.threat_id, t.url or "") for t in store.watchlist.targets()], observers


def rows(targets: list[tuple[int, str, str]], observers: list[int], slots: int) -> Iterator[tuple[Any, ...]]:
    """Observations in time order; each destination cycles through statuses, with ping loss to match."""
    step = dt.timedelta(hours=24 // PER_DAY)
    for slot in range(slots):
        at = (START + step * slot).strftime("%Y-%m-%d %H:%M:%S.000000")
        for target_pk, threat, url in targets:
            status = STATUSES[(target_pk * 7 + slot // 36) % len(STATUSES)]
            for index, observer_pk in enumerate(observers):
                seen = status if (slot + index) % 9 else None
                received = 4 if seen is not None or (slot + target_pk) % 3 == 0 else 0
                outcome = "responding" if seen is not None else "ping-only" if received else "silent"
                http = "responding" if seen is not None else "error"
                yield (
                    observer_pk,
                    target_pk,
                    threat,
                    at,
                    True,
                    outcome,
                    "url",
                    url,
                    http,
                    seen,
                    4,
                    received,
                    100.0 - 25 * received,
                )


def load_sqlite(store: Store, data: Iterator[tuple[Any, ...]]) -> None:
    """executemany in large transactions; secondary indexes dropped while loading and rebuilt after."""
    sql = f"INSERT INTO observations ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
    raw = store.engine.raw_connection()
    try:
        cursor = raw.cursor()
        for pragma in ("synchronous=OFF", "foreign_keys=OFF", "cache_size=-1000000"):
            cursor.execute(f"PRAGMA {pragma}")
        found = "SELECT name, sql FROM sqlite_master WHERE type='index' AND tbl_name='observations' AND sql IS NOT NULL"
        indexes = cursor.execute(found).fetchall()
        for name, _sql in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        for batch in batched(data, 200_000):
            cursor.executemany(sql, batch)
            raw.commit()
        for _name, ddl in indexes:
            cursor.execute(ddl)
        cursor.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()


def batched(data: Iterator[tuple[Any, ...]], size: int) -> Iterator[list[tuple[Any, ...]]]:
    batch: list[tuple[Any, ...]] = []
    for row in data:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


_PG_CONSTRAINTS = (
    "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
    "WHERE conrelid = 'observations'::regclass AND contype IN ('u', 'f')"
)
_PG_INDEXES = "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'observations' AND indexname LIKE 'ix_%'"


def load_postgres(store: Store, data: Iterator[tuple[Any, ...]]) -> None:
    """COPY; unique/foreign-key constraints and secondary indexes dropped while loading and restored after."""
    raw = store.engine.raw_connection()
    try:
        with raw.cursor() as cursor:  # type: ignore[attr-defined]
            constraints = cursor.execute(_PG_CONSTRAINTS).fetchall()
            indexes = cursor.execute(_PG_INDEXES).fetchall()
            for name, _ in constraints:
                cursor.execute(f'ALTER TABLE observations DROP CONSTRAINT "{name}"')
            for name, _ in indexes:
                cursor.execute(f'DROP INDEX "{name}"')
            with cursor.copy(f"COPY observations ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for batch in batched(data, 100_000):
                    copy.write("".join("\t".join(map(_pg_text, row)) + "\n" for row in batch))
            for name, definition in constraints:
                cursor.execute(f'ALTER TABLE observations ADD CONSTRAINT "{name}" {definition}')
            for _, definition in indexes:  # ON ONLY (partitioned table) would leave the partitions unindexed
                cursor.execute(definition.replace(" ON ONLY ", " ON "))
            cursor.execute("ANALYZE observations")
        raw.commit()
    finally:
        raw.close()


def _pg_text(value: Any) -> str:
    return r"\N" if value is None else str(value)


def build(store: Store, backend: str, total: int) -> tuple[str, str]:
    """Fill ``store`` with about ``total`` observations; returns the threat and month the view is timed on."""
    targets, observers = prepare(store)
    slots = max(total // (len(targets) * len(observers)), 1)
    last = START + dt.timedelta(hours=4 * (slots - 1))
    with store.begin() as conn:
        ensure_partitions(conn, START, last)  # PostgreSQL: the months of the data (else all in the default one)
    began = time.perf_counter()
    (load_sqlite if backend == "sqlite" else load_postgres)(store, rows(targets, observers, slots))
    count = len(targets) * len(observers) * slots
    print(f"  loaded {count:,} observations in {time.perf_counter() - began:.0f} s")
    month = (last + dt.timedelta(hours=9)).replace(day=1) - dt.timedelta(days=1)  # the last complete month (JST)
    return "T07", month.strftime("%Y-%m")


def measure(store: Store, threat: str, month: str) -> None:
    settings = Settings()
    with ServedApp(create_app(store, settings)) as app:
        url = f"{app.url}api/threats/{threat}/month/{month}"

        def month_view() -> None:
            with urllib.request.urlopen(url, timeout=60) as response:
                assert response.status == 200
                response.read()

        with urllib.request.urlopen(url, timeout=60) as response:
            size = len(response.read())
        first, median = timed(month_view, 6)
        print(f"  month view {threat} {month} ({size / 1e6:.1f} MB JSON): first {first:.0f} ms, median {median:.0f} ms")
    first, median = timed(lambda: overview(store), 3)
    print(f"  overview (30 threats, 30-day window): first {first:.0f} ms, median {median:.0f} ms")
    first, median = timed(lambda: monthly_report(store, settings.observer.zone), 3)
    report = monthly_report(store, settings.observer.zone)
    print(
        f"  report monthly ({len(report.threats)} threats x {len(report.months)} months): "
        f"first {first:.0f} ms, median {median:.0f} ms"
    )


def postgres_store(base: str, schema: str) -> tuple[Store, sa.Engine]:
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    return open_store(f"{base}{sep}options={quote(f'-csearch_path={schema}')}"), admin


#: Proposed index (not in the migrations): lets ``report monthly`` count answers from the index alone.
COVERING = "CREATE INDEX ix_bench_threat_time_status ON observations (threat_id, observed_at, http_status)"


def run(backend: str, total: int, directory: Path, postgres: str | None, covering: bool) -> None:
    print(f"{backend}:")
    admin = None
    if backend == "sqlite":
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / "bench.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        store = open_store(sqlite_url(path))
    else:
        assert postgres, "--postgres URL (or C2WATCH_TEST_POSTGRES_URL) is needed"
        store, admin = postgres_store(postgres, "c2watch_bench")
    try:
        threat, month = build(store, backend, total)
        measure(store, threat, month)
        if covering:
            began = time.perf_counter()
            with store.begin() as conn:
                conn.execute(sa.text(COVERING))
            print(f"  with the proposed covering index (built in {time.perf_counter() - began:.0f} s):")
            measure(store, threat, month)
    finally:
        store.close()
        if admin is not None:
            with admin.begin() as conn:
                conn.execute(sa.text('DROP SCHEMA IF EXISTS "c2watch_bench" CASCADE'))
            admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--dir", type=Path, default=Path("/tmp/c2watch-bench"))
    parser.add_argument("--postgres", default=os.environ.get("C2WATCH_TEST_POSTGRES_URL"))
    parser.add_argument("--covering-index", action="store_true", help="measure again with the proposed index")
    args = parser.parse_args()
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    for backend in backends:
        if backend == "postgres" and not args.postgres:
            print("postgres: skipped (no --postgres URL)")
            continue
        run(backend, args.rows, args.dir, args.postgres, args.covering_index)


if __name__ == "__main__":
    main()
