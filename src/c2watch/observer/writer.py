"""Persist observations as they finish: one background writer drains a queue in batches, in a thread, so the
event loop (and the probes' timing) never waits for the database."""

from __future__ import annotations

import asyncio
from types import TracebackType

from c2watch.observer.record import Observation
from c2watch.stix.bundle import BundleWriter
from c2watch.store import Store

__all__ = ["ObservationWriter"]

_BATCH = 500


class ObservationWriter:
    """``put()`` never blocks; leaving the context waits until everything put is stored and the bundle closed."""

    def __init__(
        self, store: Store, observer_pk: int, cycle_pk: int, simulated: bool, bundle: BundleWriter | None
    ) -> None:
        self.store = store
        self.observer_pk = observer_pk
        self.cycle_pk = cycle_pk
        self.simulated = simulated
        self.bundle = bundle
        self._queue: asyncio.Queue[Observation | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> ObservationWriter:
        if self.bundle is not None:
            self.bundle.__enter__()
        self._task = asyncio.create_task(self._drain())
        return self

    def put(self, obs: Observation) -> None:
        self._queue.put_nowait(obs)

    def _store_batch(self, batch: list[Observation]) -> None:
        self.store.insert_observations([o.row(self.observer_pk, self.cycle_pk, self.simulated) for o in batch])
        if self.bundle is not None:
            for obs in batch:
                self.bundle.add(obs)

    async def _drain(self) -> None:
        done = False
        while not done:
            batch = [item] if (item := await self._queue.get()) is not None else []
            done = item is None
            while not done and len(batch) < _BATCH and not self._queue.empty():
                item = self._queue.get_nowait()
                done = item is None
                if item is not None:
                    batch.append(item)
            if batch:
                await asyncio.to_thread(self._store_batch, batch)

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._queue.put_nowait(None)
        assert self._task is not None
        try:
            await asyncio.shield(self._task)
        finally:
            if self.bundle is not None:
                self.bundle.__exit__(exc_type, exc, tb)
