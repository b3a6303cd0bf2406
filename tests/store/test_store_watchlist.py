"""Store behaviour for watchlists, run on SQLite and PostgreSQL alike."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa

from c2watch.errors import StoreError
from c2watch.models import WatchlistEntry
from c2watch.store import Store, open_store
from c2watch.store.engine import current_revision, head_revision
from c2watch.store.tables import targets

HEAD = head_revision()

NOW = dt.datetime(2026, 1, 5, 3, 0, tzinfo=dt.UTC)
LATER = NOW + dt.timedelta(days=1)

ENTRIES = [
    WatchlistEntry("TID-A", ip="198.51.100.7", port=80, reported_on=dt.date(2020, 10, 1)),
    WatchlistEntry("TID-A", domain="c2.bad.example", port=443, reported_on=dt.date(2020, 9, 30)),
    WatchlistEntry("TID-B", url="http://gate.bad.example/a.php", domain="gate.bad.example", port=80),
]


def test_open_migrates_to_head_and_is_idempotent(store: Store, store_url: str) -> None:
    assert current_revision(store.engine) == HEAD
    store.watchlist.apply(ENTRIES, "list.csv", NOW)
    again = open_store(store_url)
    assert len(again.watchlist.targets()) == 3
    assert current_revision(again.engine) == HEAD
    again.close()


def test_import_adds_threats_and_targets(store: Store) -> None:
    report = store.watchlist.apply(ENTRIES, "list.csv", NOW)
    assert len(report.added) == 3 and report.threats_added == ["TID-A", "TID-B"]
    threats = {row.threat_id: row for row in store.watchlist.threats()}
    assert threats["TID-A"].reported_on == dt.date(2020, 9, 30)
    assert threats["TID-A"].active_targets == 2
    assert [t.domain for t in store.watchlist.targets("TID-B")] == ["gate.bad.example"]


def test_reimport_changes_nothing(store: Store) -> None:
    store.watchlist.apply(ENTRIES, "list.csv", NOW)
    before = store.watchlist.targets()
    report = store.watchlist.apply(ENTRIES, "list.csv", LATER)
    assert not report.changed and report.unchanged == 3
    assert store.watchlist.targets() == before


def test_dropped_destination_is_retired_not_deleted_and_comes_back(store: Store) -> None:
    store.watchlist.apply(ENTRIES, "list.csv", NOW)
    report = store.watchlist.apply(ENTRIES[1:], "list.csv", LATER)
    assert report.retired == ["TID-A ||198.51.100.7|80"]
    assert len(store.watchlist.targets(active_only=True)) == 2
    retired = [t for t in store.watchlist.targets() if not t.active]
    assert [t.ip for t in retired] == ["198.51.100.7"]
    with store.connect() as conn:
        row = conn.execute(sa.text("SELECT retired_at FROM targets WHERE ip = '198.51.100.7'")).one()
    assert row.retired_at is not None
    back = store.watchlist.apply(ENTRIES, "list.csv", LATER)
    assert back.reactivated == ["TID-A ||198.51.100.7|80"]
    assert len(store.watchlist.targets(active_only=True)) == 3


def test_other_source_does_not_retire(store: Store) -> None:
    store.watchlist.apply(ENTRIES, "list.csv", NOW)
    report = store.watchlist.apply(ENTRIES[:1], "other.csv", LATER)
    assert report.retired == [] and report.unchanged == 1
    assert len(store.watchlist.targets(active_only=True)) == 3


def test_overlapping_sources_keep_a_destination_until_neither_lists_it(store: Store) -> None:
    """Two feeds list one destination: dropping it from one keeps it active; from both retires it."""
    shared, only_a = ENTRIES[0], ENTRIES[1]
    store.watchlist.apply([shared, only_a], "feed-a", NOW)
    both = store.watchlist.apply([shared], "feed-b", NOW)
    assert (both.added, both.unchanged) == ([], 1)
    [target] = store.watchlist.targets("TID-A", active_only=True)[:1]
    assert (target.extra["source"], target.extra["sources"]) == ("feed-a", "feed-a, feed-b")
    without = store.watchlist.apply([only_a], "feed-a", LATER)
    assert (without.retired, without.released) == ([], ["TID-A ||198.51.100.7|80"])
    assert len(store.watchlist.targets(active_only=True)) == 2
    again_b = store.watchlist.apply([shared], "feed-b", LATER)
    assert (again_b.reactivated, again_b.unchanged) == ([], 1)
    gone = store.watchlist.apply([ENTRIES[2]], "feed-b", LATER)
    assert (gone.retired, gone.released) == (["TID-A ||198.51.100.7|80"], [])
    [retired] = [t for t in store.watchlist.targets() if not t.active]
    assert retired.ip == "198.51.100.7" and "sources" not in retired.extra
    back = store.watchlist.apply([shared, only_a], "feed-a", LATER)
    assert back.reactivated == ["TID-A ||198.51.100.7|80"]
    assert store.watchlist.targets("TID-A")[0].extra["sources"] == "feed-a"


def test_a_dry_run_lists_nothing(store: Store) -> None:
    store.watchlist.apply(ENTRIES[:1], "feed-a", NOW)
    store.watchlist.apply(ENTRIES[:1], "feed-b", NOW, dry_run=True)
    assert store.watchlist.targets()[0].extra["sources"] == "feed-a"
    assert store.watchlist.apply([], "feed-a", LATER).retired == ["TID-A ||198.51.100.7|80"]


def test_releasing_many_destinations_at_once(store: Store) -> None:
    many = [WatchlistEntry("TID-M", ip=f"198.51.100.{n % 250 + 1}", port=1000 + n) for n in range(1200)]
    store.watchlist.apply(many, "feed-a", NOW)
    store.watchlist.apply(many[:600], "feed-b", NOW)
    report = store.watchlist.apply([], "feed-a", LATER)
    assert (len(report.released), len(report.retired)) == (600, 600)
    assert len(store.watchlist.targets(active_only=True)) == 600


def test_changed_fields_are_updated(store: Store) -> None:
    store.watchlist.apply(ENTRIES, "list.csv", NOW)
    changed = [WatchlistEntry("TID-A", ip="198.51.100.7", port=80, summary="now with a note")]
    report = store.watchlist.apply(changed + ENTRIES[1:], "list.csv", LATER)
    assert report.updated == ["TID-A ||198.51.100.7|80"]
    assert store.watchlist.targets("TID-A")[0].extra["summary"] == "now with a note"


def test_dry_run_stores_nothing(store: Store) -> None:
    report = store.watchlist.apply(ENTRIES, "list.csv", NOW, dry_run=True)
    assert len(report.added) == 3 and report.dry_run
    assert store.watchlist.targets() == [] and store.watchlist.threats() == []


def test_failed_import_rolls_back(store: Store) -> None:
    store.watchlist.apply(ENTRIES[:1], "list.csv", NOW)
    new = [*ENTRIES, WatchlistEntry("TID-C", ip="198.51.100.9", port=80)]
    with pytest.raises(StoreError):  # a NOT NULL violation after the new threats were inserted
        store.watchlist.apply(new, None, LATER)  # type: ignore[arg-type]
    assert [t.ip for t in store.watchlist.targets()] == ["198.51.100.7"]
    assert [row.threat_id for row in store.watchlist.threats()] == ["TID-A"]


def test_times_round_trip_as_utc(store: Store) -> None:
    store.watchlist.apply(ENTRIES, "list.csv", NOW)
    with store.connect() as conn:
        value = conn.execute(sa.select(targets.c.first_imported_at)).scalars().first()
    assert value == NOW and value.tzinfo is dt.UTC


def test_sqlite_store_uses_wal(tmp_path: Path) -> None:
    opened = open_store(tmp_path / "wal.db")
    with opened.connect() as conn:
        assert conn.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1
    opened.close()
