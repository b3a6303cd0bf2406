"""The alert loop of the agent and the hub: after a cycle, a sync or an ingest (``kick``), refresh verdicts and events
in a worker thread, then deliver webhooks; while a webhook waits out its back-off the loop wakes at its retry time.
It never blocks a cycle, a sync or a request, and a failure in it is logged, not raised. With ``gather`` the refresh
waits that long after a kick, so that the kicks meanwhile make one refresh (a hub receives many pushes)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from c2watch.alerts.webhooks import DeliveryReport, deliver
from c2watch.analysis.events import refresh
from c2watch.config import Settings
from c2watch.store import Store

__all__ = ["AlertLoop", "store_alert_loop"]

log = logging.getLogger(__name__)


@dataclass
class AlertLoop:
    """``refresh`` brings verdicts and events up to date; ``deliver`` sends what is pending."""

    refresh: Callable[[], Awaitable[object]]
    deliver: Callable[[], Awaitable[DeliveryReport]]
    clock: Callable[[], dt.datetime]
    on_report: Callable[[object], None] | None = None
    gather: float = 0.0  # seconds from a kick to its refresh
    _kicked: asyncio.Event = field(default_factory=asyncio.Event)
    refreshes: int = 0

    def kick(self) -> None:
        self._kicked.set()

    async def once(self, refresh: bool = True) -> DeliveryReport | None:
        """Refresh (when asked) and deliver; None when the refresh failed."""
        if refresh:
            try:
                result = await self.refresh()
            except Exception as exc:  # a broken store must not stop the agent: logged, retried on the next kick
                log.exception("verdict refresh failed")
                self._report(exc)
                return None
            self.refreshes += 1
            self._report(result)
        try:
            report = await self.deliver()
        except Exception as exc:
            log.exception("webhook delivery failed")
            self._report(exc)
            return None
        self._report(report)
        return report

    def _report(self, value: object) -> None:
        if self.on_report is not None:
            self.on_report(value)

    async def run(self, stop: asyncio.Event) -> None:
        retry_in: float | None = None
        while not stop.is_set():
            waiters = {asyncio.ensure_future(self._kicked.wait()), asyncio.ensure_future(stop.wait())}
            _, pending = await asyncio.wait(waiters, timeout=retry_in, return_when=asyncio.FIRST_COMPLETED)
            for task in pending:
                task.cancel()
            if stop.is_set():
                return
            if self._kicked.is_set() and not await self._gathered(stop):
                return
            kicked = self._kicked.is_set()
            self._kicked.clear()
            report = await self.once(refresh=kicked)
            retry_in = None
            if report is not None and report.next_attempt_at is not None:
                retry_in = max(0.0, (report.next_attempt_at - self.clock()).total_seconds())

    async def _gathered(self, stop: asyncio.Event) -> bool:
        """Wait ``gather`` seconds (the kicks meanwhile join this refresh); False when stopped meanwhile."""
        if self.gather > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.gather)
        return not stop.is_set()


def store_alert_loop(
    store: Store,
    settings: Settings,
    clock: Callable[[], dt.datetime],
    on_report: Callable[[object], None] | None = None,
    gather: float = 0.0,
) -> AlertLoop:
    """The loop over ``store``: its verdicts and events refreshed in a worker thread, then its ``[alerts]`` webhooks
    given the new events."""

    async def do_refresh() -> object:
        return await asyncio.to_thread(refresh, store, settings, clock())

    return AlertLoop(do_refresh, lambda: deliver(store, settings.alerts, clock), clock, on_report, gather)
