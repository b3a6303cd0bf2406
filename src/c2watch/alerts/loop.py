"""The alert loop of the agent and the hub: after a cycle, a sync or an ingest (``kick``), refresh verdicts and events
in a worker thread, then deliver webhooks; while a webhook waits out its back-off the loop wakes at its retry time.
It never blocks a cycle, a sync or a request, and a failure in it is logged, not raised. With ``gather`` the refresh
waits that long after a kick, so that the kicks meanwhile make one refresh (a hub receives many pushes)."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from c2watch.alerts.webhooks import DeliveryReport, deliver
from c2watch.analysis.events import refresh
from c2watch.config import Settings
from c2watch.kickloop import KickLoop
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
    _loop: KickLoop = field(default_factory=KickLoop)
    refreshes: int = 0

    def kick(self) -> None:
        self._loop.kick()

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
        self._loop.settle = self.gather
        await self._loop.run(stop, self._step)

    async def _step(self, kicked: bool) -> float | None:
        """Refresh when kicked, deliver; wake again at the next webhook retry, if any."""
        report = await self.once(refresh=kicked)
        if report is None or report.next_attempt_at is None:
            return None
        return max(0.0, (report.next_attempt_at - self.clock()).total_seconds())


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
