"""Persist observations as they finish: one background writer drains a queue in batches, in a thread, so the
event loop (and the probes' timing) never waits for the database or the disk.

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
    """``put()`` never blocks; leaving the context waits until everything put is stored and the bundle closed."""

    def __init__(self, target: WriterTarget) -> None:
        self.target = target
        self._created = timestamp(target.created, millis=True)
        self._queue: asyncio.Queue[Observation | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> ObservationWriter:
        if self.target.bundle is not None:
            self.target.bundle.__enter__()
        self._task = asyncio.create_task(self._drain())
        return self

    def put(self, obs: Observation) -> None:
        obs.simulated = self.target.simulated
        self._queue.put_nowait(fit_observation(obs))

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
            if self.target.bundle is not None:
                self.target.bundle.__exit__(exc_type, exc, tb)
