"""The garbage collector during a cycle: automatic collection paused while probing, the younger generations
collected every so many destinations, and everything as it was afterwards."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path
from typing import Any

import pytest

from c2watch.lab import Lab, Scenario
from c2watch.observer import cycle as cycle_module
from c2watch.observer.cycle import run_cycle
from c2watch.store import open_store
from tests.helpers.observing import destination, import_lab, lab_settings


def test_collections_come_every_n_destinations_and_the_collector_is_restored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cycle_module, "_COLLECT_EVERY", 4)
    scenario = Scenario([destination(i, "status:200") for i in range(1, 13)])
    settings = lab_settings(cycle={"probes": ["http"], "concurrency": 1})
    store = open_store(tmp_path / "c2watch.db")
    seen: list[tuple[int, bool]] = []

    def watch(phase: str, info: dict[str, Any]) -> None:
        if phase == "stop":
            seen.append((info["generation"], gc.isenabled()))

    async def go() -> int:
        async with Lab(scenario, control_icmp=False) as lab:
            import_lab(store, lab, scenario, tmp_path)
            gc.callbacks.append(watch)
            try:
                summary = await run_cycle(store, settings, tmp_path)
            finally:
                gc.callbacks.remove(watch)
        return summary.destinations

    try:
        assert asyncio.run(go()) == 12
    finally:
        store.close()
    paused = [generation for generation, enabled in seen if not enabled]
    assert paused == [1, 1, 1]  # 12 destinations, one at a time: every 4th, and no automatic collection between
    assert gc.isenabled() and gc.get_freeze_count() == 0
