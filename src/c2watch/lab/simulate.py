"""Fast-forwarded history: real cycles against the lab, one per schedule slot, under a fake clock.

Every probe really goes out (to loopback); only the clock jumps from slot to slot. The cycles are recorded as
simulated, so reports can tell them from field observations.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from c2watch.config import Settings
from c2watch.lab import FakeClock, Lab
from c2watch.observer.cycle import CycleOptions, CycleSummary, run_cycle
from c2watch.observer.schedule import Schedule
from c2watch.store import Store

__all__ = ["simulate_history", "slots_between"]


def slots_between(schedule: Schedule, start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    """Every slot that starts in ``[start, end)``."""
    slot = schedule.slot_at_or_before(start)
    slot = slot if slot >= start else slot + schedule.interval
    slots = []
    while slot < end:
        slots.append(slot)
        slot += schedule.interval
    return slots


async def simulate_history(
    store: Store,
    settings: Settings,
    data_dir: Path,
    lab: Lab,
    clock: FakeClock,
    slots: list[dt.datetime],
    on_cycle: Callable[[CycleSummary], None] | None = None,
) -> list[CycleSummary]:
    """Run one real cycle per slot with the lab and the probes reading ``clock``, set to each slot in turn."""
    summaries = []
    for slot in slots:
        clock.set(slot)
        await lab.sync()
        summary = await run_cycle(store, settings, data_dir, CycleOptions(slot_at=slot, simulated=True), clock)
        summaries.append(summary)
        if on_cycle is not None:
            on_cycle(summary)
    return summaries
