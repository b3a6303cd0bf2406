"""Persist observations as they finish: one background writer drains a queue in batches, in a thread, so the
event loop (and the probes' timing) never waits for the database or the disk.

The queue is bounded (``QUEUE_BOUND``): while it has room, ``put()`` returns at once; when the writer falls that far
behind (a stalled database or disk), the workers wait at ``put()`` before taking their next destination, so memory
stays bounded in a cycle of a million destinations. The bound is large (many seconds of results at full speed):
in normal operation no worker ever waits for the database.

Each observation is fitted to the store's columns as it is put (:mod:`c2watch.store.observation_fit`), so the row
and the STIX objects carry the same values. Each batch goes to the store in one transaction (with the STIX objects
into the outbox when a hub is configured) and then to the cycle's bundle file; a row the database refuses costs only
its refused values (:mod:`c2watch.store.isolate`), so the bundle and the store hold the same observations.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from c2watch.models.observation import Observation
from c2watch.models.rows import observation_row
from c2watch.stix.bundle import BundleWriter
from c2watch.stix.observation import Producer, campaign_object, observation_objects
from c2watch.stix.vocab import timestamp
from c2watch.store import Store, fit_observation

__all__ = ["ObservationWriter", "WriterTarget"]

_BATCH = 500
QUEUE_BOUND = 10_000
"""Observations waiting for the writer at most (some tens of MB); workers wait for room beyond it."""


@dataclass
class WriterTarget:
    """Where a cycle's observations go."""

    store: Store
    observer_pk: int
    cycle_pk: int
    simulated: bool
    producer: Producer
    created: dt.datetime
    bundle: BundleWriter | None = None
    outbox: bool = False


class ObservationWriter:
    """``put()`` waits only while ``bound`` observations are queued; leaving the context waits until everything put
    is stored and the bundle closed."""

    def __init__(self, target: WriterTarget, bound: int = QUEUE_BOUND) -> None:
        self.target = target
        self._created = timestamp(target.created, millis=True)
        self._queue: asyncio.Queue[Observation | None] = asyncio.Queue(bound)
        self._task: asyncio.Task[None] | None = None
        self.waits = 0
        """How many times a worker waited for room in the queue (the writer was behind)."""
        self._error: Exception | None = None

    async def __aenter__(self) -> ObservationWriter:
        if self.target.bundle is not None:
            self.target.bundle.__enter__()
        self._task = asyncio.create_task(self._drain())
        return self

    async def put(self, obs: Observation) -> None:
        obs.simulated = self.target.simulated
        await self._put(fit_observation(obs))

    async def _put(self, item: Observation) -> None:
        """Queue ``item``, waiting for room when the queue is full; raises the writer's error when it stopped."""
        if self._error is not None:
            raise RuntimeError("the observation writer stopped") from self._error
        if self._queue.full():
            self.waits += 1
        await self._queue.put(item)

    def _objects(self, obs: Observation) -> list[dict[str, Any]]:
        return observation_objects(obs, self.target.producer, self._created)

    def _store_batch(self, batch: list[Observation]) -> None:
        t = self.target
        need_objects = t.bundle is not None or t.outbox
        groups = [self._objects(obs) for obs in batch] if need_objects else []
        outbox = (
            [json.dumps([campaign_object(o.target.threat_id), *g]) for o, g in zip(batch, groups, strict=True)]
            if t.outbox  # only with a hub: serialising is a large share of a cycle's CPU
            else []
        )
        refusals = t.store.observations.insert(
            [observation_row(o, t.observer_pk, t.cycle_pk, t.simulated) for o in batch], outbox
        )
        lost = {refusal.index for refusal in refusals if refusal.lost}
        if t.bundle is not None:
            for index, (obs, group) in enumerate(zip(batch, groups, strict=True)):
                if index not in lost:
                    t.bundle.add(obs.target.threat_id, group)

    async def _drain(self) -> None:
        try:
            await self._write_all()
        except Exception as exc:
            self._error = exc
            while await self._queue.get() is not None:  # workers waiting for room go on; the error is raised on exit
                pass
            raise

    async def _write_all(self) -> None:
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
        assert self._task is not None
        try:
            if not self._task.done():
                await self._queue.put(None)  # the end mark waits for room like any result
            await asyncio.shield(self._task)
        finally:
            if self.target.bundle is not None:
                self.target.bundle.__exit__(exc_type, exc, tb)
