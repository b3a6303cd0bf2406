"""A cycle whose size does not show in its memory: targets streamed in pages (each page filtered by the shard and
shuffled), a bounded writer queue, the bundle split into several complete files above ``[cycle] bundle_max_mb``,
and those files handled by retention and read back whole."""

from __future__ import annotations

import asyncio
import datetime as dt
import gzip
import json
import random
import sqlite3
import time
from collections import Counter
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from stix2validator import ValidationOptions, validate_file

from c2watch.lab import Lab, Scenario
from c2watch.models import WatchlistEntry
from c2watch.observer.cycle import CycleOptions, run_cycle
from c2watch.observer.feed import TargetFeed
from c2watch.observer.shard import Shard
from c2watch.observer.writer import ObservationWriter, WriterTarget
from c2watch.stix.bundle import bundle_parts
from c2watch.store import Store, open_store
from c2watch.store.cyclefiles import expire_cycle_files
from c2watch.store.tables import cycles
from c2watch.taxii.backfill import _bundle_groups
from tests.helpers.observing import destination, import_lab, lab_settings
from tests.helpers.stix_factory import T0, observation, producer

_REF_TYPES = ("identity", "campaign", "extension-definition")


def _refs(value: Any) -> set[str]:
    """Every id an object refers to (``*_ref`` and ``*_refs`` properties, extension keys)."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if key.endswith("_ref") and isinstance(item, str):
                found.add(item)
            elif key.endswith("_refs") and isinstance(item, list):
                found.update(ref for ref in item if isinstance(ref, str))
            elif key == "extensions" and isinstance(item, dict):
                found.update(name for name in item if name.startswith("extension-definition--"))
            found |= _refs(item)
    elif isinstance(value, list):
        for item in value:
            found |= _refs(item)
    return found


async def _cycle(store: Store, tmp_path: Path, count: int, bundle_max_mb: float) -> tuple[Any, Scenario]:
    scenario = Scenario([destination(i, "status:200" if i % 2 else "status:404") for i in range(1, count + 1)])
    settings = lab_settings(cycle={"probes": ["icmp", "http"], "bundle_max_mb": bundle_max_mb})
    async with Lab(scenario, control_icmp=False) as lab:
        import_lab(store, lab, scenario, tmp_path)
        summary = await run_cycle(store, settings, tmp_path, CycleOptions(rng=random.Random(5)))
    return summary, scenario


def test_a_bundle_above_its_size_is_split_into_complete_bundles(store: Store, tmp_path: Path) -> None:
    summary, scenario = asyncio.run(_cycle(store, tmp_path, 12, bundle_max_mb=0.004))  # about 4 KB a file
    first = Path(summary.stix_path)
    parts = bundle_parts(first)
    assert len(parts) >= 3 and parts[0] == first and parts[1].name == first.name.replace(".json", ".2.json")
    assert sorted(first.parent.iterdir()) == sorted(parts)  # no partial file left behind
    observed: Counter[str] = Counter()
    for part in parts:
        assert validate_file(str(part), ValidationOptions(version="2.1", disabled=["103", "301"])).is_valid
        objects = json.loads(part.read_text(encoding="utf-8"))["objects"]
        ids = {obj["id"] for obj in objects}
        dangling = {ref for obj in objects for ref in _refs(obj) if ref.split("--")[0] in _REF_TYPES} - ids
        assert not dangling, f"{part.name} refers to objects it does not hold: {dangling}"
        observed.update(obj["id"] for obj in objects if obj["type"] == "observed-data")
    stored = store.observations.rows()
    assert len(stored) == len(scenario.destinations) == len(observed) and set(observed.values()) == {1}
    groups = _bundle_groups(str(first))  # read back whole, as `c2watch sync --backfill` does
    assert groups is not None and len(groups) == len(scenario.destinations)


def test_retention_compresses_and_deletes_every_file_of_a_split_bundle(store: Store, tmp_path: Path) -> None:
    summary, _scenario = asyncio.run(_cycle(store, tmp_path, 8, bundle_max_mb=0.004))
    first = Path(summary.stix_path)
    plain = bundle_parts(first)
    texts = [path.read_bytes() for path in plain]
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    with store.db.begin() as conn:
        report = expire_cycle_files(conn, tmp_path / "observations", "compress", later)
    assert report.compressed == len(plain) > 1
    packed = bundle_parts(first.with_name(first.name + ".gz"))
    assert [path.name for path in packed] == [path.name + ".gz" for path in plain]
    assert [gzip.decompress(path.read_bytes()) for path in packed] == texts
    with store.connect() as conn:
        assert conn.scalar(sa.select(cycles.c.stix_path).where(cycles.c.id == summary.cycle_id)) == str(packed[0])
    groups = _bundle_groups(str(packed[0]))
    assert groups is not None and len(groups) == 8
    with store.db.begin() as conn:
        report = expire_cycle_files(conn, tmp_path / "observations", "delete", later)
    assert report.deleted == len(plain) and not any(path.exists() for path in packed)
    with store.connect() as conn:
        assert conn.scalar(sa.select(cycles.c.stix_path).where(cycles.c.id == summary.cycle_id)) is None


def _watchlist(store: Store, count: int) -> None:
    entries = [WatchlistEntry(threat_id=f"T{i % 3}", ip=f"192.0.2.{i}", port=80) for i in range(1, count + 1)]
    store.watchlist.apply(entries, "test", dt.datetime(2026, 1, 1, tzinfo=dt.UTC))


async def _take_all(store: Store, shard: Shard | None = None) -> list[Any]:
    feed = TargetFeed(store.watchlist.target_pages(active_only=True, size=7), random.Random(3), shard)
    taken = []
    while (target := await feed.take()) is not None:
        taken.append(target)
    return taken


def test_targets_stream_in_pages_each_shuffled_and_filtered_by_the_shard(store: Store) -> None:
    _watchlist(store, 40)
    every = store.watchlist.targets(active_only=True)
    pages = list(store.watchlist.target_pages(active_only=True, size=7))
    assert [len(page) for page in pages] == [7, 7, 7, 7, 7, 5]
    assert [t.id for page in pages for t in page] == sorted(t.id for t in every)
    assert store.watchlist.count_targets(active_only=True) == 40 and store.watchlist.count_targets("T1") == 14

    taken = asyncio.run(_take_all(store))
    ids = [t.id for t in taken]
    assert sorted(ids) == sorted(t.id for t in every)
    by_page = [ids[start : start + 7] for start in range(0, 40, 7)]  # each page is probed before the next one
    assert [sorted(chunk) for chunk in by_page] == [[t.id for t in page] for page in pages]
    assert any(chunk != sorted(chunk) for chunk in by_page)  # shuffled within the page

    shard = Shard(2, 3)
    mine = asyncio.run(_take_all(store, shard))
    assert sorted(t.id for t in mine) == sorted(t.id for t in every if shard.owns(t)) and 0 < len(mine) < 40
    keys = [key for page in store.watchlist.target_key_pages(active_only=True, size=9) for key in page]
    assert sorted(keys) == sorted((t.id, t.threat_id, t.key) for t in every)


async def test_workers_wait_for_the_writer_only_when_its_queue_is_full(tmp_path: Path) -> None:
    store = open_store(tmp_path / "c2watch.db")
    entries = [WatchlistEntry(threat_id="TID-1", ip=f"198.51.100.{i}", port=8080) for i in range(1, 4)]
    store.watchlist.apply(entries, "test", T0)
    p = producer("Org A")
    observer = store.observations.ensure_observer("observer-01", "Org A", p.org_identity, p.system_identity, T0)
    cycle = store.observations.start_cycle(observer, T0, T0, simulated=False)
    held = sqlite3.connect(tmp_path / "c2watch.db")
    held.execute("BEGIN IMMEDIATE")  # the database is busy: the writer's first batch waits for it
    async with ObservationWriter(WriterTarget(store, observer, cycle, False, p, T0), bound=1) as writer:
        await writer.put(observation(1, T0))
        await asyncio.create_task(writer.put(observation(2, T0)))  # the writer took the first: room for this one
        third = asyncio.create_task(writer.put(observation(3, T0)))
        await asyncio.wait({third}, timeout=0.3)
        assert not third.done() and writer.waits == 1  # the queue is full and the database still busy
        held.rollback()
        await asyncio.wait_for(third, 30)
    assert sorted(row["target_pk"] for row in store.observations.rows()) == [1, 2, 3]
    held.close()
    store.close()


async def test_a_burst_of_starts_stops_once_the_loop_turn_runs_long() -> None:
    from c2watch.observer.cycle import _LAG_LIMIT_S, _Admission

    admission = _Admission()
    try:
        await admission.enter()
        time.sleep(_LAG_LIMIT_S + 0.05)  # this turn keeps the CPU, as thousands of starts at once would
        late = asyncio.ensure_future(admission.enter())
        done, _ = await asyncio.wait({late}, timeout=0)  # one step of the new worker, in this same long turn
        assert not done and admission.waits == 1 and admission.running == 1
        admission.leave()
        await asyncio.wait_for(late, 5)  # released by the next tick of the gate's timer
        assert admission.running == 1
    finally:
        admission.close()
