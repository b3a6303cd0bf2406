"""The store upkeep of the hub and the agent: the coming monthly partitions (PostgreSQL) when it starts and every day
after, and a retention run every day when ``[retention] daily`` is on (the first one an hour after the start; the
agent passes its data directory, so its STIX cycle files are kept, compressed or deleted too).

Several processes on one PostgreSQL schema (the hub's replicas) each create the partitions at start, one after the
other (an advisory lock), but the daily work runs on the one leading ``upkeep`` (:mod:`c2watch.store.leader`); the
others ask for the lead every ``retry`` and, when the leader died, the first to get it runs the daily work at once.

>>> upkeep = Upkeep(store, settings)          # doctest: +SKIP
>>> app = FastAPI(lifespan=upkeep.lifespan)   # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from c2watch.kickloop import KickLoop
from c2watch.store.leader import Leadership
from c2watch.store.retention import RetentionPolicy, RetentionReport

if TYPE_CHECKING:
    from c2watch.config import Settings
    from c2watch.store import Store

__all__ = ["Upkeep"]

log = logging.getLogger(__name__)

FIRST_RUN = dt.timedelta(hours=1)
PERIOD = dt.timedelta(days=1)
RETRY = dt.timedelta(minutes=5)


class Upkeep:
    def __init__(
        self,
        store: Store,
        settings: Settings,
        clock: Callable[[], dt.datetime] | None = None,
        data_dir: Path | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock or store.clock
        self.data_dir = data_dir
        self.leadership = Leadership(store.engine, "upkeep")

    def partitions(self) -> list[str]:
        """Create the monthly partitions of the coming ``partitions_ahead`` months that are missing."""
        created = self.store.maintenance.partitions_ahead(self.settings.retention.partitions_ahead, self.clock())
        if created:
            log.info("partitions created: %s", ", ".join(created), extra={"partitions": created})
        return created

    def daily(self) -> RetentionReport | None:
        """The daily work: partitions, then retention if the hub runs it."""
        self.partitions()
        if not self.settings.retention.daily:
            return None
        policy = RetentionPolicy.from_settings(self.settings)
        report = self.store.maintenance.retention(policy, self.clock(), self.data_dir)
        log.info("retention: %s observations rolled up", report.observations_rolled_up, extra=report.as_dict())
        return report

    def step(self) -> bool:
        """The daily work when this process leads the upkeep; whether it did (failures logged: the next day tries
        again)."""
        if not self.leadership.held():
            return False
        try:
            self.daily()
        except Exception:  # the process goes on; the next day tries again
            log.exception("store upkeep failed")
        return True

    async def run(
        self,
        stop: asyncio.Event,
        first: dt.timedelta = FIRST_RUN,
        period: dt.timedelta = PERIOD,
        retry: dt.timedelta = RETRY,
    ) -> None:
        """Call :meth:`step` after ``first``, then every ``period`` (every ``retry`` while another process leads),
        until ``stop`` is set."""

        async def step(_kicked: bool) -> float:
            led = await asyncio.to_thread(self.step)
            return (period if led else retry).total_seconds()

        try:
            await KickLoop().run(stop, step, first.total_seconds())
        finally:
            await asyncio.to_thread(self.leadership.release)

    @asynccontextmanager
    async def lifespan(self, _app: Any) -> AsyncIterator[None]:
        """Create the partitions before serving, then run the daily upkeep in the background."""
        await asyncio.to_thread(self.partitions)
        stop = asyncio.Event()
        task = asyncio.create_task(self.run(stop))
        try:
            yield
        finally:
            stop.set()
            await task
