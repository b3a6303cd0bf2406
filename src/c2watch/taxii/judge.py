"""The hub judges too: ``hub_refresh_minutes`` after observations arrive (every push meanwhile gathered into one
refresh), verdicts and events are recomputed from every organisation's records in a worker thread, and new events
go to the hub's ``[alerts]`` webhooks. The hub's dashboard shows these verdicts."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from c2watch.alerts import AlertLoop, store_alert_loop
from c2watch.analysis.events import RefreshReport
from c2watch.config import Settings
from c2watch.store import Store
from c2watch.taxii.collections import OBSERVATIONS

__all__ = ["HubJudge"]

log = logging.getLogger(__name__)


class HubJudge:
    """``on_ingest`` kicks the refresh; ``running()`` runs the loop while the hub serves."""

    def __init__(self, store: Store, settings: Settings, clock: Callable[[], dt.datetime]) -> None:
        minutes = settings.verdict.hub_refresh_minutes
        self.loop: AlertLoop | None = None
        if minutes > 0:
            self.loop = store_alert_loop(store, settings, clock, on_report=_log, gather=minutes * 60)

    def on_ingest(self, alias: str) -> None:
        if self.loop is not None and alias == OBSERVATIONS.alias:
            self.loop.kick()

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        if self.loop is None:
            yield
            return
        stop = asyncio.Event()
        task = asyncio.create_task(self.loop.run(stop))
        try:
            yield
        finally:
            stop.set()
            await task


def _log(result: object) -> None:
    if isinstance(result, RefreshReport):
        log.info("verdicts refreshed: %s", result.counts(), extra={"verdicts": result.as_dict()})
