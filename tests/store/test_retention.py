"""Retention on both backends: a year of history rolled up leaves every report and month view the same; runs are
repeatable, resumable after an interruption or a failed transaction, and leave the verdict fold working."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa

from c2watch.analysis import Month, month_view, monthly_report
from c2watch.errors import StoreError
from c2watch.store import Store, open_store, partitions
from c2watch.store.retention import RetentionPolicy, run_retention
from tests.helpers.history import END, START, ZONE, snapshot, year_of_history
from tests.helpers.seed import add_observers, row

NOW = dt.datetime(2021, 1, 20, tzinfo=dt.UTC)
POLICY = RetentionPolicy(keep_days=100, zone=ZONE)
CUTOFF = dt.datetime(2020, 10, 11, 15, tzinfo=dt.UTC)  # 2020-10-12 00:00 in Tokyo = NOW - 100 days, at midnight


def raw_times(store: Store) -> list[dt.datetime]:
    return [r["observed_at"] for r in store.observations.rows()]


def partition_months(store: Store, first: dt.datetime, last: dt.datetime) -> list[str]:
    """PostgreSQL: monthly partitions for ``[first, last]`` (rows of other months stay in the DEFAULT partition)."""
    with store.begin() as conn:
        return partitions.ensure_partitions(conn, first, last)


def test_a_year_rolled_up_leaves_every_report_the_same(store: Store) -> None:
    seeded = year_of_history(store)
    postgres = store.engine.dialect.name == "postgresql"
    made = partition_months(store, START, dt.datetime(2020, 8, 1, tzinfo=dt.UTC)) if postgres else []
    before = snapshot(store, seeded["A"] + seeded["B"])
    assert len(before["table1"]["months"]) == 12
    total = len(store.observations.rows())

    report = run_retention(store, POLICY, NOW)

    assert report.cutoff == CUTOFF and report.complete and report.skipped == []
    assert report.partitions_dropped == made  # PostgreSQL: Dec 2019 - Aug 2020 dropped whole
    assert report.days_rolled_up == (41 if postgres else 285)  # the rest one local day at a time
    left = raw_times(store)
    assert min(left) >= CUTOFF and report.observations_rolled_up == total - len(left)
    assert snapshot(store, seeded["A"] + seeded["B"]) == before

    again = run_retention(store, POLICY, NOW)
    assert (again.observations_rolled_up, again.partitions_dropped, again.days_rolled_up) == (0, [], 0)
    assert snapshot(store, seeded["A"] + seeded["B"]) == before


def test_dry_run_changes_nothing_and_tells_what_a_run_does(store: Store) -> None:
    year_of_history(store)
    total = len(store.observations.rows())
    dry = run_retention(store, POLICY, NOW, dry_run=True)
    assert dry.dry_run and len(store.observations.rows()) == total
    real = run_retention(store, POLICY, NOW)
    assert (dry.observations_rolled_up, dry.days_rolled_up) == (real.observations_rolled_up, real.days_rolled_up)
    assert real.observations_rolled_up > 0


def _crash_on_delete_before(store: Store, when: str) -> None:
    """A trigger that fails the transaction deleting rows older than ``when``, as a crash would."""
    with store.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.execute(
                sa.text(
                    f"CREATE TRIGGER crash BEFORE DELETE ON observations WHEN old.observed_at < '{when}' "
                    "BEGIN SELECT RAISE(ABORT, 'simulated crash'); END"
                )
            )
            return
        conn.execute(
            sa.text(
                "CREATE FUNCTION crash() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                f"IF OLD.observed_at < '{when}' THEN RAISE EXCEPTION 'simulated crash'; END IF; RETURN OLD; END $$"
            )
        )
        conn.execute(
            sa.text(f"CREATE TRIGGER crash BEFORE DELETE ON {partitions.DEFAULT} FOR EACH ROW EXECUTE FUNCTION crash()")
        )


def _repair(store: Store) -> None:
    with store.begin() as conn:
        conn.execute(
            sa.text("DROP TRIGGER crash" + ("" if conn.dialect.name == "sqlite" else f" ON {partitions.DEFAULT}"))
        )


def test_interrupted_and_failed_runs_lose_nothing_and_resume(store: Store) -> None:
    seeded = year_of_history(store)  # PostgreSQL: no monthly partition for 2020, every row in DEFAULT, row by row
    before = snapshot(store, seeded["A"])

    first = run_retention(store, POLICY, NOW, max_steps=5)
    assert not first.complete and first.days_rolled_up == 5
    assert snapshot(store, seeded["A"]) == before

    _crash_on_delete_before(store, "2020-03-01 00:00:00")
    with pytest.raises(StoreError, match="simulated crash"):
        run_retention(store, POLICY, NOW)  # the day of the failing delete is rolled back with its rollups
    assert snapshot(store, seeded["A"]) == before
    assert min(raw_times(store)) < dt.datetime(2020, 3, 1, tzinfo=dt.UTC)

    _repair(store)
    last = run_retention(store, POLICY, NOW)
    assert last.complete and min(raw_times(store)) >= CUTOFF
    assert snapshot(store, seeded["A"]) == before


def _late_rows(store: Store, seeded: dict[str, list[int]]) -> list[dict[str, object]]:
    """Another observer's records of March 2020 (rolled up already), arriving late; the last one gets the top id."""
    [late] = add_observers(store, 3)[2:]
    at = dt.datetime(2020, 3, 2, 1, tzinfo=dt.UTC)
    return [
        row("A", seeded["A"][0], late, at + dt.timedelta(hours=4 * i), 404 if i % 2 else None, 25.0) for i in range(30)
    ]


def test_late_rows_for_rolled_up_days_are_counted_once(store: Store, tmp_path: Path) -> None:
    seeded = year_of_history(store)
    if store.engine.dialect.name == "postgresql":  # late rows then land in DEFAULT, their month being dropped
        partition_months(store, START, dt.datetime(2020, 8, 1, tzinfo=dt.UTC))
    reference = open_store(tmp_path / "reference.db")  # the same records, never rolled up
    year_of_history(reference)
    run_retention(store, POLICY, NOW)

    rows = _late_rows(store, seeded)
    store.observations.insert(rows)
    reference.observations.insert(_late_rows(reference, seeded))
    expected = monthly_report(reference, ZONE).as_dict()
    march = month_view(reference, ZONE, "A", Month(2020, 3), with_traces=False).as_dict()
    assert monthly_report(store, ZONE).as_dict() == expected  # raw late rows + rollups
    assert month_view(store, ZONE, "A", Month(2020, 3), with_traces=False).as_dict() == march

    run_retention(store, POLICY, NOW)
    assert monthly_report(store, ZONE).as_dict() == expected  # now rolled up into the same days
    assert month_view(store, ZONE, "A", Month(2020, 3), with_traces=False).as_dict() == march
    still_raw = [t for t in raw_times(store) if t < CUTOFF]
    if store.engine.dialect.name == "sqlite":
        assert still_raw == [rows[-1]["observed_at"]]  # SQLite would reuse the top id once its row is gone
    else:
        assert still_raw == []
    reference.close()


def test_the_verdict_fold_goes_on_after_retention(store: Store) -> None:
    seeded = year_of_history(store)
    total = len(store.observations.rows())
    assert store.verdicts.fold_summaries(NOW) == total
    run_retention(store, POLICY, NOW)
    summaries = store.verdicts.answer_summaries()
    assert sum(s.observations for s in summaries) == total  # the summaries keep what was folded
    new = [
        row("A", seeded["A"][0], seeded["observers"][0], END + dt.timedelta(hours=4 * i), 200, 0.0) for i in range(7)
    ]
    store.observations.insert(new)
    assert store.verdicts.fold_summaries(NOW) == 7  # only the new rows, although old ones were removed
    assert sum(s.observations for s in store.verdicts.answer_summaries()) == total + 7


def test_month_view_charts_of_rolled_up_days(store: Store) -> None:
    year_of_history(store)
    before = month_view(store, ZONE, "A", Month(2020, 5))
    run_retention(store, POLICY, NOW)
    after = month_view(store, ZONE, "A", Month(2020, 5))
    assert [(t.destination, t.observer) for t in after.traces] == [(t.destination, t.observer) for t in before.traces]
    for old, new in zip(before.traces, after.traces, strict=True):
        status_at = dict(zip(old.times, old.http_status, strict=True))
        losses: dict[str, list[float]] = {}
        for at, loss in zip(old.times, old.ping_loss_pct, strict=True):
            losses.setdefault(at[:10], []).extend([] if loss is None else [loss])
        assert new.times[0] == old.times[0] and new.times[-1] == old.times[-1]  # each run at its first and last
        for at, status, loss in zip(new.times, new.http_status, new.ping_loss_pct, strict=True):
            day = losses[at[:10]]
            assert status == status_at[at] and loss == (round(sum(day) / len(day), 1) if day else None)
    assert after.pie == before.pie and after.as_dict()["destinations"] == before.as_dict()["destinations"]


def test_recent_history_is_left_alone(store: Store) -> None:
    year_of_history(store)
    report = run_retention(store, RetentionPolicy(keep_days=400, zone=ZONE), NOW)
    assert report.observations_rolled_up == 0 and report.complete
    with store.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM daily_rollups")).scalar() == 0
