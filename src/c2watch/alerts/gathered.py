"""The hub's judge, once across its replicas. Observations stored by any replica open a gathering in the store
(``store.judging``); the replica leading the judge (``store.maintenance.leadership("judge")``, a PostgreSQL advisory
lock) looks at it every ``poll`` seconds, and at once when an ingest on this replica kicks it. When the gathering is
``gather`` seconds old it claims it, refreshes verdicts and events, delivers the webhooks and closes it. The other
replicas only ask for the lead at each step: when the leader dies, the next one to ask leads, and a refresh the dead
one left claimed runs again at once.

>>> alerts = store_alert_loop(store, settings, clock)                                       # doctest: +SKIP
>>> judge = GatheredJudge(store, alerts, 300, store.maintenance.leadership("judge"))      # doctest: +SKIP
>>> task = asyncio.create_task(judge.run(stop))      # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass, field

from c2watch.alerts.loop import AlertLoop
from c2watch.alerts.webhooks import DeliveryReport
from c2watch.kickloop import KickLoop
from c2watch.store import Leadership, Store

__all__ = ["POLL", "GatheredJudge"]

log = logging.getLogger(__name__)

POLL = 15.0  # seconds between two looks at the gathering (or two asks for the lead)


@dataclass
class GatheredJudge:
    store: Store
    alerts: AlertLoop
    gather: float  # seconds from a gathering's first arrival to its refresh
    leadership: Leadership
    poll: float = POLL
    leading: bool = False
    _retry_at: dt.datetime | None = None
    _loop: KickLoop = field(default_factory=KickLoop)

    def kick(self) -> None:
        """Observations arrived here: the leader looks at once (a replica that does not lead waits for its step)."""
        if self.leading:
            self._loop.kick()

    async def run(self, stop: asyncio.Event) -> None:
        try:
            await self._loop.run(stop, self.step, 0.0)
        finally:
            await asyncio.to_thread(self.leadership.release)

    async def step(self, _kicked: bool = False) -> float:
        """Lead or skip; refresh a due gathering, deliver webhooks due for a retry; the seconds to the next step."""
        try:
            self.leading = await asyncio.to_thread(self.leadership.held)
            return await self._lead() if self.leading else self.poll
        except Exception:  # the store is down: the hub goes on serving, the next step tries again
            log.exception("hub judge step failed")
            return self.poll

    async def _lead(self) -> float:
        gathering = await asyncio.to_thread(self.store.judging.gathering)
        due = gathering.due_at(dt.timedelta(seconds=self.gather))
        now = self.alerts.clock()
        if due is not None and due <= now:
            return 0.0 if await self._refresh(now) else self.poll  # 0: look again for arrivals meanwhile
        if self._retry_at is not None and self._retry_at <= now:
            self._note(await self.alerts.once(refresh=False))
        return self._wait(due, now)

    async def _refresh(self, now: dt.datetime) -> bool:
        """Claim, refresh and deliver, close; False when the refresh failed (the claim stays: retried)."""
        if not await asyncio.to_thread(self.store.judging.claim, now):
            return True
        before = self.alerts.refreshes
        self._note(await self.alerts.once(refresh=True))
        if self.alerts.refreshes == before:
            return False
        await asyncio.to_thread(self.store.judging.close, self.alerts.clock())
        return True

    def _note(self, report: DeliveryReport | None) -> None:
        self._retry_at = report.next_attempt_at if report is not None else None

    def _wait(self, due: dt.datetime | None, now: dt.datetime) -> float:
        moments = [m for m in (due, self._retry_at) if m is not None]
        return max(0.0, min([self.poll, *((m - now).total_seconds() for m in moments)]))
