"""The building block of every background loop (the alert loop, the agent's sync, the store's upkeep): it sleeps
until it is kicked, until the time its step asked for has passed, or until it is stopped, then runs one step.

>>> loop = KickLoop()                                     # doctest: +SKIP
>>> task = asyncio.create_task(loop.run(stop, step))      # doctest: +SKIP
>>> loop.kick()                                           # after a cycle: the step runs soon, once per burst

``step(kicked)`` is told whether a kick woke it (else its timeout did) and returns how many seconds to wait at most
before the next step without a kick (None: until kicked). With ``settle`` a kick waits that long before its step,
so that the kicks meanwhile make one step.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

__all__ = ["KickLoop", "Step"]

Step = Callable[[bool], Awaitable[float | None]]


class KickLoop:
    def __init__(self, settle: float = 0.0) -> None:
        self.settle = settle
        self._kicked = asyncio.Event()

    def kick(self) -> None:
        self._kicked.set()

    @property
    def kicked(self) -> bool:
        return self._kicked.is_set()

    async def _wake(self, stop: asyncio.Event, timeout: float | None) -> None:
        waiters = {asyncio.ensure_future(self._kicked.wait()), asyncio.ensure_future(stop.wait())}
        _, pending = await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()

    async def _settled(self, stop: asyncio.Event) -> bool:
        """Wait ``settle`` seconds after a kick (the kicks meanwhile join it); False when stopped meanwhile."""
        if self.settle > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.settle)
        return not stop.is_set()

    async def run(self, stop: asyncio.Event, step: Step, timeout: float | None = None) -> None:
        """Run ``step`` on every wake until ``stop`` is set; the first wait lasts at most ``timeout`` seconds."""
        while not stop.is_set():
            await self._wake(stop, timeout)
            if stop.is_set():
                return
            if self._kicked.is_set() and not await self._settled(stop):
                return
            kicked = self._kicked.is_set()
            self._kicked.clear()
            timeout = await step(kicked)
