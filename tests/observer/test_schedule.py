"""The schedule and the agent loop, driven by a fake clock: no sleeping."""

from __future__ import annotations

import asyncio
import datetime as dt
import random

from c2watch.config import ScheduleSettings
from c2watch.observer.agent import Agent
from c2watch.observer.schedule import Schedule

JST = dt.timezone(dt.timedelta(hours=9))
FOUR_HOURS = Schedule.from_settings(ScheduleSettings())


def jst(day: int, hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(2021, 1, day, hour, minute, second, tzinfo=JST)


def test_slots_are_every_four_hours_from_midnight_jst() -> None:
    assert FOUR_HOURS.slot_at_or_before(jst(5, 3, 59, 59)) == jst(5, 0)
    assert FOUR_HOURS.slot_at_or_before(jst(5, 4)) == jst(5, 4)
    assert FOUR_HOURS.next_slot_after(jst(5, 22, 30)) == jst(6, 0)
    utc_midnight = dt.datetime(2021, 1, 5, 0, 0, tzinfo=dt.UTC)  # = 09:00 JST
    assert FOUR_HOURS.slot_at_or_before(utc_midnight) == jst(5, 8)


def test_other_interval_anchor_and_zone() -> None:
    sched = Schedule.from_settings(ScheduleSettings(interval_minutes=90, anchor="00:30:00", zone="UTC"))
    at = dt.datetime(2021, 1, 5, 2, 0, tzinfo=dt.UTC)
    assert sched.slot_at_or_before(at) == dt.datetime(2021, 1, 5, 0, 30, tzinfo=dt.UTC) + dt.timedelta(minutes=90)


class FakeTime:
    """A clock that only moves when the agent waits."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start
        self.waits: list[float] = []

    def clock(self) -> dt.datetime:
        return self.now

    async def wait(self, stop: asyncio.Event, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += dt.timedelta(seconds=seconds)


async def run_until(agent: Agent, stop: asyncio.Event) -> None:
    await asyncio.wait_for(agent.run(stop), timeout=10)


async def test_agent_runs_each_slot_once() -> None:
    fake = FakeTime(jst(5, 1))
    ran: list[dt.datetime] = []
    stop = asyncio.Event()

    async def run_slot(slot: dt.datetime) -> None:
        ran.append(slot)
        if len(ran) == 4:
            stop.set()

    agent = Agent(FOUR_HOURS, run_slot, fake.clock, fake.wait, last_slot=jst(5, 0))
    await run_until(agent, stop)
    assert ran == [jst(5, 4), jst(5, 8), jst(5, 12), jst(5, 16)]
    assert max(fake.waits) <= agent.max_nap


async def test_missed_slots_run_once_on_wake() -> None:
    fake = FakeTime(jst(5, 1))
    ran: list[dt.datetime] = []
    stop = asyncio.Event()

    async def run_slot(slot: dt.datetime) -> None:
        ran.append(slot)
        if len(ran) == 1:
            fake.now = jst(6, 9, 15)  # the machine slept through five slots
        else:
            stop.set()

    agent = Agent(FOUR_HOURS, run_slot, fake.clock, fake.wait, last_slot=jst(4, 20))
    await run_until(agent, stop)
    assert ran == [jst(5, 0), jst(6, 8)]  # not once per missed slot


async def test_jitter_delays_inside_the_slot() -> None:
    sched = Schedule.from_settings(ScheduleSettings(jitter_seconds=600))
    fake = FakeTime(jst(5, 3, 59))
    started: list[dt.datetime] = []
    stop = asyncio.Event()

    async def run_slot(slot: dt.datetime) -> None:
        started.append(fake.now)
        stop.set()

    agent = Agent(sched, run_slot, fake.clock, fake.wait, rng=random.Random(7), last_slot=jst(5, 0))
    await run_until(agent, stop)
    delay = (started[0] - jst(5, 4)).total_seconds()
    assert 0 < delay <= 600


async def test_terminate_interrupts_the_running_cycle() -> None:
    fake = FakeTime(jst(5, 4))
    stop = asyncio.Event()
    entered = asyncio.Event()
    cancelled: list[bool] = []

    async def run_slot(slot: dt.datetime) -> None:
        entered.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    agent = Agent(FOUR_HOURS, run_slot, fake.clock, fake.wait)
    task = asyncio.create_task(agent.run(stop))
    await entered.wait()
    agent.terminate(stop)
    await asyncio.wait_for(task, timeout=5)
    assert cancelled == [True] and agent.last_slot == jst(5, 4)
