"""PostgreSQL only: monthly partitions of ``observations``, made ahead, filled from the DEFAULT partition, dropped
by retention only when every row has been folded and no other run is going on."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from c2watch.store import Store, open_store, partitions
from c2watch.store.retention import RetentionPolicy, RetentionReport, _Budget, _drop_months, exclusive, run_retention
from c2watch.store.shared import insert_ignoring_duplicates
from c2watch.store.tables import observations
from tests.helpers.seed import add_observers, add_threat, row

MAY = dt.datetime(2020, 5, 3, tzinfo=dt.UTC)


@pytest.fixture
def pg(postgres_url: str) -> Iterator[Store]:
    store = open_store(postgres_url)
    yield store
    store.close()


def may_rows(store: Store, count: int = 12) -> list[dict[str, object]]:
    [observer] = add_observers(store, 1)
    [target] = add_threat(store, "P", 1)
    return [row("P", target, observer, MAY + dt.timedelta(hours=4 * i), 200, 0.0) for i in range(count)]


def counts(store: Store) -> dict[str, int]:
    with store.connect() as conn:
        return {
            p.name: int(
                conn.execute(sa.select(sa.func.count()).select_from(partitions.partition_table(p.name))).scalar_one()
            )
            for p in partitions.list_partitions(conn)
        }


def test_a_new_month_takes_its_rows_from_the_default_partition(pg: Store) -> None:
    rows = may_rows(pg)
    pg.observations.insert(rows)
    assert counts(pg)[partitions.DEFAULT] == 12  # no partition for May 2020: nothing refused
    with pg.begin() as conn:
        assert partitions.ensure_partitions(conn, MAY, MAY) == ["observations_p202005"]
        assert partitions.ensure_partitions(conn, MAY, MAY) == []
    found = counts(pg)
    assert (found["observations_p202005"], found[partitions.DEFAULT]) == (12, 0)
    with pg.begin() as conn:  # the unique key still holds across the partitioned table
        insert_ignoring_duplicates(conn, observations, rows[:3])
    assert len(pg.observations.rows()) == 12


def test_retention_makes_the_coming_months(pg: Store) -> None:
    now = dt.datetime(2030, 11, 20, tzinfo=dt.UTC)
    report = run_retention(pg, RetentionPolicy(keep_days=400, partitions_ahead=2), now)
    assert report.partitions_created == ["observations_p203011", "observations_p203012", "observations_p203101"]
    assert run_retention(pg, RetentionPolicy(keep_days=400, partitions_ahead=2), now).partitions_created == []


def test_a_month_with_rows_not_yet_folded_is_kept(pg: Store) -> None:
    pg.observations.insert(may_rows(pg))
    with pg.begin() as conn:
        partitions.ensure_partitions(conn, MAY, MAY)
    now = dt.datetime(2021, 1, 1, tzinfo=dt.UTC)
    report = RetentionReport(now, now, "UTC", dry_run=False)
    _drop_months(pg, RetentionPolicy(keep_days=1, zone="UTC"), now, 0, report, _Budget(None))  # fold mark 0
    assert report.partitions_dropped == [] and "not yet folded" in report.skipped[0] and not report.complete
    assert counts(pg)["observations_p202005"] == 12
    assert run_retention(pg, RetentionPolicy(keep_days=1, zone="UTC"), now).partitions_dropped == [
        "observations_p202005"
    ]  # a run folds first
    assert "observations_p202005" not in counts(pg)


def test_one_run_at_a_time(pg: Store) -> None:
    pg.observations.insert(may_rows(pg))
    now = dt.datetime(2021, 1, 1, tzinfo=dt.UTC)
    with exclusive(pg) as alone:
        assert alone
        report = run_retention(pg, RetentionPolicy(keep_days=1, zone="UTC"), now)
    assert report.skipped == ["another retention run is in progress"] and report.observations_rolled_up == 0
    assert run_retention(pg, RetentionPolicy(keep_days=1, zone="UTC"), now).observations_rolled_up == 12
