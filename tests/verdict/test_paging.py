"""The refresh in pages of destinations gives what one page gives (SQLite and PostgreSQL): the same verdicts, ``since``
values and events, with changes, a reactivation, a blocking streak (judged on another page's answers) and a death on
both sides of page boundaries, across two threats whose destinations interleave."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest

from c2watch.analysis.events import RefreshReport, list_events, refresh
from c2watch.analysis.verdicts import BLOCKED, DEAD, evaluate, stored_verdicts
from c2watch.store import Store
from tests.conftest import backend_store
from tests.verdict.world import RULES, SETTINGS, World, slot

NAMES = ("alive", "changing", "blocked", "revived", "dead", "silent", "unseen", "ttl", "late")


def twin_store(store_url: str, tmp_path: Path) -> contextlib.AbstractContextManager[Store]:
    """A second, empty store on the same backend."""
    return backend_store("sqlite" if store_url.startswith("sqlite") else "postgres", tmp_path, "twin.db")


def build(world: World, last: int) -> None:
    """Nine destinations, ids 1 to 9 alternating between two threats, observed by tokyo and osaka up to slot
    ``last``."""
    for n, name in enumerate(NAMES):
        world.target(name, "TID-1" if n % 2 == 0 else "TID-2")
    rows: list[dict[str, Any]] = []
    for n in range(last + 1):
        rows += [world.row("alive", "tokyo", slot(n), status=200), world.row("alive", "osaka", slot(n, 9), status=200)]
        rows.append(world.row("changing", "tokyo", slot(n), status=200 if n < last - 1 else 404))
        rows.append(world.row("blocked", "tokyo", slot(n), status=200))
        rows.append(world.row("blocked", "osaka", slot(n, 9), status=200 if n < last - 5 else None))
        answered = n == 0 or n == last - 2
        rows += [world.row("revived", observer, slot(n, m), status=200 if answered else None) for observer, m in OBS]
        rows += [world.row("dead", observer, slot(n, m), status=200 if n == 0 else None) for observer, m in OBS]
        rows.append(world.row("silent", "tokyo", slot(n)))
        rows.append(world.row("ttl", "osaka", slot(n, 9), status=200, ttl=50 if n < last - 1 else 116))
    world.add(*rows)


OBS = (("tokyo", 0), ("osaka", 9))


def outcome(store: Store, report: RefreshReport) -> dict[str, Any]:
    """What a refresh left: every stored verdict (with ``since``), every event but its id, the report's counts."""
    verdicts = [v.as_dict() for v in stored_verdicts(store)]
    events = sorted(
        (e.kind, e.target_pk, e.subject, e.at, e.detected_at, e.summary, e.observer, repr(e.evidence))
        for e in list_events(store)
    )
    new = sorted((e.uid, e.kind) for e in report.new_events)
    return {"verdicts": verdicts, "events": events, "counts": report.counts(), "new": new}


def twice(store: Store, page_size: int | None, threat: str | None = None) -> list[dict[str, Any]]:
    """Refresh at two moments (the second after late records), each outcome."""
    world = World(store)
    build(world, 12)
    found = [outcome(store, refresh(store, SETTINGS, slot(12, 30), threat, page_size=page_size))]
    world.add(world.row("late", "tokyo", slot(13), status=200), world.row("alive", "tokyo", slot(13), status=500))
    found.append(outcome(store, refresh(store, SETTINGS, slot(13, 30), threat, page_size=page_size)))
    return found


@pytest.mark.parametrize("page_size", [1, 2, 4])
def test_pages_give_what_one_page_gives(store: Store, store_url: str, tmp_path: Path, page_size: int) -> None:
    paged = twice(store, page_size)
    with twin_store(store_url, tmp_path) as twin:
        whole = twice(twin, None)
    assert paged == whole
    statuses = {v["url"]: v["status"] for v in whole[0]["verdicts"]}
    assert statuses["http://192.0.2.3/gate.php"] == BLOCKED  # osaka's health comes from "alive", on another page
    assert statuses["http://192.0.2.5/gate.php"] == DEAD
    kinds = {event[0] for state in whole for event in state["events"]}
    assert {"status-changed", "ttl-changed", "reactivated", "blocking-suspected", "dead"} <= kinds
    assert whole[1]["new"] and whole[1]["counts"] != whole[0]["counts"]


def test_pages_of_one_threat_give_what_one_page_gives(store: Store, store_url: str, tmp_path: Path) -> None:
    paged = twice(store, 1, threat="TID-1")
    with twin_store(store_url, tmp_path) as twin:
        whole = twice(twin, None, threat="TID-1")
    assert paged == whole
    assert sum(whole[0]["counts"].values()) == 5 and len(whole[0]["verdicts"]) == 5


def test_report_keeps_verdicts_only_when_asked(store: Store) -> None:
    world = World(store)
    build(world, 12)
    now = slot(12, 30)
    counted = refresh(store, SETTINGS, now, page_size=2)
    assert counted.verdicts == [] and sum(counted.counts().values()) == len(NAMES)
    kept = refresh(store, SETTINGS, now, keep_verdicts=True, page_size=2)
    assert [v.target.id for v in kept.verdicts] == [v.target.id for v in evaluate(store, RULES, now)]
    assert [v.threat_id for v in kept.verdicts] == ["TID-1"] * 5 + ["TID-2"] * 4  # watchlist order
    assert {v.target.id: v.since for v in kept.verdicts} == {v.target_pk: v.since for v in store.verdicts.stored()}
    assert kept.counts() == counted.counts() and list(kept.counts()) == list(counted.counts())


def test_unchanged_verdicts_carry_the_latest_computation_time(store: Store) -> None:
    world = World(store)
    build(world, 12)
    refresh(store, SETTINGS, slot(12, 30), page_size=2)
    later = slot(12, 50)
    refresh(store, SETTINGS, later, page_size=2)
    assert {v.computed_at for v in stored_verdicts(store)} == {later}
