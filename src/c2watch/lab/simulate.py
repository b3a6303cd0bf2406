"""Fast-forwarded history: real cycles against the lab, one per schedule slot, under a fake clock.

Every probe really goes out (to loopback); only the clock jumps from slot to slot. The cycles are recorded as
simulated, so reports can tell them from field observations.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path

from c2watch.analysis.events import refresh
from c2watch.config import Settings
from c2watch.lab import FakeClock, Lab
from c2watch.observer.cycle import CycleOptions, CycleSummary, run_cycle
from c2watch.observer.schedule import Schedule
from c2watch.store import Store

__all__ = ["as_observer", "simulate_history", "simulate_observers", "slots_between"]


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


def as_observer(settings: Settings, name: str, source_address: str) -> Settings:
    """``settings`` for another observer: its name and the local address its probes leave from."""
    data = settings.model_dump()
    data["observer"].update(name=name, source_address=source_address)
    return Settings(**data)


async def simulate_observers(
    store: Store,
    observers: Sequence[Settings],
    data_dir: Path,
    lab: Lab,
    clock: FakeClock,
    slots: list[dt.datetime],
    *,
    judge_every: dt.timedelta | None = dt.timedelta(days=1),
    on_slot: Callable[[list[CycleSummary]], None] | None = None,
) -> list[CycleSummary]:
    """Per slot, one real cycle of every observer at once (each under its own name, from its own source address),
    into one store; every ``judge_every`` of simulated time the verdicts and events are brought up to date as an
    agent's refresh would, so the changes of the history are recorded as events when they happen."""
    summaries: list[CycleSummary] = []
    judged = slots[0] if slots else None
    for slot in slots:
        clock.set(slot)
        await lab.sync()
        options = [CycleOptions(slot_at=slot, simulated=True) for _ in observers]
        done = await asyncio.gather(
            *(
                run_cycle(store, settings, data_dir, opts, clock)
                for settings, opts in zip(observers, options, strict=True)
            )
        )
        summaries += done
        if judge_every is not None and judged is not None and slot - judged >= judge_every:
            refresh(store, observers[0], slot)
            judged = slot
        if on_slot is not None:
            on_slot(list(done))
    return summaries
