"""Anti-fingerprinting: each observer starts its cycles at a stable offset derived from its name plus a random
jitter, inside the first half of the slot, so no two observers probe in the same second and no fixed period shows."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import random

from c2watch.config import ScheduleSettings
from c2watch.observer.agent import Agent
from c2watch.observer.schedule import Schedule

JST = dt.timezone(dt.timedelta(hours=9))
DEFAULT = Schedule.from_settings(ScheduleSettings())


def test_stagger_is_stable_distinct_and_inside_the_slot() -> None:
    names = [f"observer-{i:02d}" for i in range(50)]
    offsets = [DEFAULT.stagger(name) for name in names]
    assert offsets == [Schedule.from_settings(ScheduleSettings()).stagger(name) for name in names]
    assert all(dt.timedelta() <= off < dt.timedelta(seconds=1800) for off in offsets)
    seconds = sorted(int(off.total_seconds()) for off in offsets)
    assert len(set(seconds)) == len(seconds)  # no two of these observers in the same second
    assert Schedule.from_settings(ScheduleSettings(stagger_seconds=0)).stagger("tokyo-01") == dt.timedelta()


def test_stagger_and_jitter_shrink_to_fit_a_short_interval() -> None:
    short = Schedule.from_settings(ScheduleSettings(interval_minutes=10, stagger_seconds=1800, jitter_seconds=600))
    rng = random.Random(3)
    for name in ("a", "b", "c", "tokyo-01"):
        assert short.stagger(name) + short.jitter(rng) <= dt.timedelta(minutes=5)


class FakeTime:
    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def clock(self) -> dt.datetime:
        return self.now

    async def wait(self, stop: asyncio.Event, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


async def start_times(name: str, seed: int, slots: int = 6) -> list[dt.datetime]:
    fake = FakeTime(dt.datetime(2021, 1, 5, 0, 0, 1, tzinfo=JST))
    started: list[dt.datetime] = []
    stop = asyncio.Event()

    async def run_slot(slot: dt.datetime) -> None:
        started.append(fake.now)
        if len(started) == slots:
            stop.set()

    agent = Agent(
        DEFAULT,
        run_slot,
        fake.clock,
        fake.wait,
        rng=random.Random(seed),
        offset=DEFAULT.stagger(name),
        last_slot=dt.datetime(2021, 1, 5, 0, tzinfo=JST),
    )
    await asyncio.wait_for(agent.run(stop), timeout=10)
    return started


async def test_observers_never_start_in_the_same_second_and_no_fixed_period() -> None:
    tokyo, osaka = await start_times("tokyo-01", 1), await start_times("osaka-01", 2)
    for a, b in zip(tokyo, osaka, strict=True):
        slot = DEFAULT.slot_at_or_before(a)
        assert slot == DEFAULT.slot_at_or_before(b)  # both inside the same slot (the same verdict window)
        assert a - slot <= DEFAULT.interval / 2 and b - slot <= DEFAULT.interval / 2
        assert int(a.timestamp()) != int(b.timestamp())
    periods = {(b - a).total_seconds() for a, b in itertools.pairwise(tokyo)}
    assert len(periods) == len(tokyo) - 1  # every gap differs: no fixed period
    offsets = [t - DEFAULT.slot_at_or_before(t) for t in tokyo]
    assert min(offsets) >= DEFAULT.stagger("tokyo-01")
