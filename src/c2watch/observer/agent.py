"""The agent: run a cycle for every slot of the schedule until stopped.

A slot missed while the machine slept (or the agent was down) runs once on wake, not once per missed slot. The
clock and the wait are injected, so the loop is tested without sleeping. Waits are capped (``max_nap``) because
the monotonic clock stops during suspend: the wall clock is re-read at least that often.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from c2watch.observer.schedule import Schedule
from c2watch.probes.base import Clock, utcnow

__all__ = ["Agent", "wait_or_stop"]

RunSlot = Callable[[dt.datetime], Awaitable[None]]
Wait = Callable[[asyncio.Event, float], Awaitable[None]]


async def wait_or_stop(stop: asyncio.Event, seconds: float) -> None:
    """Sleep ``seconds`` or until ``stop`` is set, whichever comes first."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=max(seconds, 0))


@dataclass
class Agent:
    """Calls ``run_slot(slot)`` once per due slot; ``last_slot`` is the latest slot already observed.

    A cycle starts ``offset`` (this observer's :meth:`Schedule.stagger`) plus a random jitter after its slot.
    """

    schedule: Schedule
    run_slot: RunSlot
    clock: Clock = utcnow
    wait: Wait = wait_or_stop
    rng: random.Random = field(default_factory=random.Random)
    last_slot: dt.datetime | None = None
    max_nap: float = 60.0
    offset: dt.timedelta = dt.timedelta()
    _current: asyncio.Task[None] | None = field(default=None, init=False, repr=False)

    def terminate(self, stop: asyncio.Event) -> None:
        """Stop scheduling and interrupt the running cycle (which stores what it finished)."""
        stop.set()
        if self._current is not None:
            self._current.cancel()

    def due(self, now: dt.datetime) -> dt.datetime | None:
        """The slot to run now, if any (the latest started slot, when it has not run yet)."""
        slot = self.schedule.slot_at_or_before(now)
        return slot if self.last_slot is None or slot > self.last_slot else None

    async def run(self, stop: asyncio.Event) -> None:
        start_at: dt.datetime | None = None
        while not stop.is_set():
            now = self.clock()
            slot = self.due(now)
            if slot is not None and start_at is None:
                start_at = max(now, slot + self.offset + self.schedule.jitter(self.rng))
            if slot is not None and start_at is not None and now >= start_at:
                await self._run(slot, stop)
                self.last_slot, start_at = slot, None
                continue
            target = start_at or self.schedule.next_slot_after(now)
            await self.wait(stop, min((target - now).total_seconds(), self.max_nap))

    async def _run(self, slot: dt.datetime, stop: asyncio.Event) -> None:
        self._current = asyncio.ensure_future(self.run_slot(slot))
        try:
            await self._current
        except asyncio.CancelledError:
            if not stop.is_set():
                raise
        finally:
            self._current = None
