"""Background sync for the agent: runs after each cycle, never blocks one, and backs off while the hub is down."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from c2watch.kickloop import KickLoop
from c2watch.taxii.client import HubRefused, HubUnavailable
from c2watch.taxii.sync import SyncReport

__all__ = ["SyncLoop"]

log = logging.getLogger(__name__)


@dataclass
class SyncLoop:
    """``kick()`` after a cycle; failures retry after ``min_backoff`` doubling up to ``max_backoff`` seconds."""

    do_sync: Callable[[], Awaitable[SyncReport]]
    min_backoff: float = 30.0
    max_backoff: float = 1800.0
    on_report: Callable[[SyncReport | Exception], None] | None = None
    _loop: KickLoop = field(default_factory=KickLoop)
    failures: int = 0

    def kick(self) -> None:
        self._loop.kick()

    def backoff(self) -> float:
        return float(min(self.max_backoff, self.min_backoff * 2 ** max(self.failures - 1, 0)))

    async def once(self) -> bool:
        """One attempt; True on success."""
        try:
            report = await self.do_sync()
        except (HubUnavailable, HubRefused) as exc:
            self.failures += 1
            log.warning("sync failed (%s); retrying in %.0f s", exc, self.backoff())
            if self.on_report:
                self.on_report(exc)
            return False
        self.failures = 0
        if self.on_report:
            self.on_report(report)
        return True

    async def run(self, stop: asyncio.Event) -> None:
        await self._loop.run(stop, self._step, self._retry_in())

    async def _step(self, kicked: bool) -> float | None:
        await self.once()
        return self._retry_in()

    def _retry_in(self) -> float | None:
        return self.backoff() if self.failures else None
