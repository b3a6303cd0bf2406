"""One observation cycle: every active destination, probed concurrently, each result persisted as it finishes.

Memory stays flat however long the watchlist: destinations are streamed from the store page by page
(:mod:`c2watch.observer.feed`), results go to a bounded writer queue (:mod:`c2watch.observer.writer`), and what the
cycle keeps besides is counts (outcomes, egress failures), not per-destination state.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import logging
import random
import time
from collections import Counter, deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from c2watch.config import Settings
from c2watch.errors import UnknownThreatError
from c2watch.gcpause import gc_paused
from c2watch.models import Target
from c2watch.models.observation import EGRESS_FAILED, Observation
from c2watch.observer.feed import PAGE_SIZE, TargetFeed
from c2watch.observer.select import prepare
from c2watch.observer.shard import Shard
from c2watch.observer.writer import ObservationWriter, WriterTarget
from c2watch.probes import PROBES
from c2watch.probes.base import Clock, ProbeContext, utcnow
from c2watch.probes.egress import Egress, open_proxy_sessions
from c2watch.probes.http import open_session
from c2watch.probes.pinger import open_pinger
from c2watch.probes.resolve import Resolver
from c2watch.safety import Guard
from c2watch.stix import BundleWriter, Producer, bundle_path, identity_ids
from c2watch.stix.keys import ensure_private_key
from c2watch.stix.rotation import load_endorsement
from c2watch.store import Store

__all__ = ["CycleOptions", "CycleSummary", "run_cycle"]

log = logging.getLogger(__name__)

OnResult = Callable[[Observation], None]


@dataclass
class CycleOptions:
    threat: str | None = None
    shard: Shard | None = None
    slot_at: dt.datetime | None = None
    simulated: bool = False
    rng: random.Random = field(default_factory=random.Random)
    on_start: Callable[[int], None] | None = None
    on_result: OnResult | None = None


@dataclass
class CycleSummary:
    cycle_id: int
    observer: str
    slot_at: dt.datetime
    started_at: dt.datetime
    finished_at: dt.datetime
    duration_s: float
    destinations: int
    outcomes: dict[str, int]
    stix_path: str | None
    simulated: bool
    interrupted: bool = False
    queued: bool = False  # its observations went to the outbox (a hub was configured)

    def as_dict(self) -> dict[str, Any]:
        return {
            "cycle_id": self.cycle_id,
            "observer": self.observer,
            "slot_at": self.slot_at.isoformat(),
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat(),
            "duration_s": self.duration_s,
            "destinations": self.destinations,
            "outcomes": self.outcomes,
            "stix_path": self.stix_path,
            "simulated": self.simulated,
            "interrupted": self.interrupted,
            "queued": self.queued,
        }


def producer_of(settings: Settings, data_dir: Path | None = None) -> Producer:
    """The STIX identities of this observer (from ``[observer] organization`` and ``name``) and, given the data
    directory, its signing key (``[observer] key_file``, made 0600 on first use if ``c2watch init`` did not)."""
    org_id, system_id = identity_ids(settings.observer.organization, settings.observer.name)
    observer = settings.observer
    if data_dir is None:
        return Producer(org_id, system_id, observer.organization, observer.name, settings.http.user_agent)
    path = observer.key_path(data_dir)
    key = ensure_private_key(path)[0]
    endorsement = load_endorsement(path, key)
    return Producer(org_id, system_id, observer.organization, observer.name, settings.http.user_agent, key, endorsement)


@asynccontextmanager
async def open_context(
    settings: Settings, clock: Clock, rng: random.Random | None = None
) -> AsyncIterator[ProbeContext]:
    """The shared pinger, HTTP sessions (direct and one per proxy), resolver and egress of a cycle, closed when it
    ends."""
    kinds = settings.cycle.probes
    ctx = ProbeContext(guard=Guard.from_strings(settings.safety.allow_networks), clock=clock)
    ctx.resolver = Resolver(settings.dns)
    egress = Egress(settings.egress, rng)
    ctx.egress = egress if egress.active else None
    async with AsyncExitStack() as stack:
        source = settings.observer.source_address
        if "icmp" in kinds and egress.direct("icmp"):
            ctx.pinger = await open_pinger(settings.icmp.mode, source)
            stack.push_async_callback(ctx.pinger.aclose)
        if {"http", "favicon", "resolved"} & set(kinds):
            session = open_session(settings.http, settings.cycle.concurrency, source=source)
            ctx.http = await stack.enter_async_context(session)
            for label, proxied in open_proxy_sessions(egress, settings.http, settings.cycle.concurrency).items():
                ctx.proxy_sessions[label] = await stack.enter_async_context(proxied)
        yield ctx


async def observe_target(target: Target, settings: Settings, ctx: ProbeContext) -> Observation:
    """Select, resolve and guard, then run the configured probes at once."""
    observed_at = ctx.clock()
    allow_domains = tuple(settings.safety.allow_domains)
    egress, remote = (ctx.egress.pick(), ctx.egress.remote_names) if ctx.egress is not None else ("", False)
    probe_target, resolution = await prepare(target, ctx.guard, ctx.resolver, allow_domains, egress, remote)
    kinds = [kind for kind in settings.cycle.probes if kind in PROBES]
    if len(kinds) == 1:  # no task of its own for a lone probe
        results = [await PROBES[kinds[0]](probe_target, settings, ctx)]
    else:
        results = await asyncio.gather(*(PROBES[kind](probe_target, settings, ctx) for kind in kinds))
    return Observation(probe_target, observed_at, resolution, dict(zip(kinds, results, strict=True)), target.key)


_LAG_LIMIT_S = 0.1  # how late the event loop may run before workers wait to start their next destination
_LAG_TICK_S = 0.02
_RELEASE_PER_TICK = 1024  # waiting workers resumed per tick at most (a long turn sends the rest back in line)


class _Admission:
    """Lets a worker start its next destination only while the event loop keeps up.

    On a saturated CPU more destinations in flight do not finish sooner: each turn of the loop only takes longer,
    until answers wait in their sockets past the HTTP timeouts and live servers are recorded as timing out. A timer
    measures how late the loop runs; while it is later than ``_LAG_LIMIT_S``, workers wait before taking their next
    destination (one always may start when none runs, so even a starved machine progresses).

    A burst is stopped within the turn of the loop that makes it: every worker starts at once when the cycle begins
    (or when many are released), before the timer can run to measure anything, and 3,000 HTTP starts held the loop
    for seconds on a busy CPU, past the first destinations' connect timeouts. So each start also compares the clock
    with the timer's due time; once this turn has run ``_LAG_LIMIT_S`` past it, the rest wait for the next ticks.
    """

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._waiting: deque[asyncio.Future[None]] = deque()
        self.running = 0
        self.waits = 0
        self.max_lag = 0.0
        self._lag = 0.0
        self._due = self._loop.time() + _LAG_TICK_S
        self._timer = self._loop.call_at(self._due, self._tick)

    def _tick(self) -> None:
        now = self._loop.time()
        self._lag = now - self._due
        self.max_lag = max(self.max_lag, self._lag)
        released = 0
        while self._waiting and released < _RELEASE_PER_TICK:
            if self._lag > _LAG_LIMIT_S and (self.running or released):
                break
            waiter = self._waiting.popleft()
            if not waiter.done():  # a cancelled worker's waiter is done already
                waiter.set_result(None)
                released += 1
        self._due = now + _LAG_TICK_S
        self._timer = self._loop.call_at(self._due, self._tick)

    def _long_turn(self) -> bool:
        """This turn of the loop has run past the timer's due time by more than the limit (while some destination
        runs): a burst of starts, measured before the timer can run."""
        return self.running > 0 and self._loop.time() - self._due > _LAG_LIMIT_S

    async def _wait(self, first: bool = False) -> None:
        waiter = self._loop.create_future()
        if first:
            self._waiting.appendleft(waiter)
        else:
            self._waiting.append(waiter)
        await waiter

    async def enter(self) -> None:
        if self._lag > _LAG_LIMIT_S or self._waiting or self._long_turn():  # behind the ones waiting, in order
            self.waits += 1
            await self._wait()
            while self._long_turn():  # released into a turn that is long already: first in line again
                await self._wait(first=True)
        self.running += 1

    def leave(self) -> None:
        self.running -= 1

    def close(self) -> None:
        self._timer.cancel()
        for waiter in self._waiting:
            waiter.cancel()


_COLLECT_EVERY = 10_000
"""Destinations probed between two collections while probing, at the least (four times the concurrency when that is
more): each scans about what the destinations in flight hold, so their cost per destination stays flat."""


class _Collector:
    """The cyclic garbage collector, driven by the cycle's progress instead of by allocation counts.

    A cycle allocates fast (coroutines, futures, sockets, results) while the targets and everything loaded before
    stay alive all along, and it makes almost no reference cycles (none at all in a run of 100,000 destinations).
    CPython starts a young collection when allocations outnumber deallocations by a threshold, but every object that
    dies counts as a deallocation, whatever its age: while thousands of probes come and go, the young generation
    held far more than the threshold when a collection came, and each took about 0.1 s (15.7 of 106 CPU seconds of
    a 100,000-destination cycle, raising the threshold or not). So: freeze what exists at the start (never scanned
    again; still freed by reference counting), pause automatic collection (:mod:`c2watch.gcpause`), and collect the
    two younger generations every ``_COLLECT_EVERY`` destinations, which then hold only what was allocated since and
    is still alive: about what the destinations in flight hold. Reference cycles wait at most that long.
    """

    def __init__(self, concurrency: int) -> None:
        self._every = max(_COLLECT_EVERY, 4 * concurrency)
        self._probed = 0
        self.collections = 0

    def probed(self) -> None:
        self._probed += 1
        if self._probed % self._every == 0:
            gc.collect(1)
            self.collections += 1


@contextmanager
def _probing_gc(concurrency: int) -> Iterator[_Collector]:
    """Garbage collection fit for probing (see :class:`_Collector`), restored afterwards."""
    gc.freeze()
    try:
        with gc_paused():
            yield _Collector(concurrency)
    finally:
        gc.unfreeze()


async def _work(
    feed: TargetFeed,
    count: int,
    settings: Settings,
    ctx: ProbeContext,
    sink: Callable[[Observation], Awaitable[None]],
) -> None:
    admission = _Admission()

    async def worker(collector: _Collector) -> None:
        while (target := await feed.take()) is not None:
            await admission.enter()
            try:
                obs = await observe_target(target, settings, ctx)
            finally:
                admission.leave()
            await sink(obs)  # waits only when the writer is far behind (backpressure)
            collector.probed()

    workers = min(settings.cycle.concurrency, count)
    try:
        with _probing_gc(workers) as collector:
            await asyncio.gather(*(worker(collector) for _ in range(workers)))
    finally:
        admission.close()
        feed.close()
        if admission.waits:
            log.info(
                "event loop saturated: destinations waited %d times to start (loop up to %.0f ms late)",
                admission.waits,
                admission.max_lag * 1000,
            )


def _count(store: Store, threat: str | None, shard: Shard | None) -> int:
    """How many active destinations the cycle takes (a shard's share is counted from the keys, page by page)."""
    if shard is None:
        count = store.watchlist.count_targets(threat, active_only=True)
    else:
        pages = store.watchlist.target_key_pages(threat, active_only=True)
        count = sum(shard.owns_key(threat_id, key) for page in pages for _id, threat_id, key in page)
    if threat is not None and not count and threat not in {t.threat_id for t in store.watchlist.threats()}:
        raise UnknownThreatError(f"unknown threat ID {threat!r}")
    return count


def _feed(store: Store, threat: str | None, rng: random.Random, shard: Shard | None) -> TargetFeed:
    pages = store.watchlist.target_pages(threat, active_only=True, size=PAGE_SIZE)
    return TargetFeed(pages, rng, shard)


async def run_cycle(
    store: Store,
    settings: Settings,
    data_dir: Path,
    options: CycleOptions | None = None,
    clock: Clock = utcnow,
) -> CycleSummary:
    """Run one cycle now; returns counts by outcome. Every finished destination is already stored."""
    opts = options or CycleOptions()
    started_at, start = clock(), time.perf_counter()
    slot_at = opts.slot_at or started_at
    producer = producer_of(settings, data_dir)
    observer_pk = store.observations.ensure_observer(
        settings.observer.name,
        settings.observer.organization,
        producer.org_identity,
        producer.system_identity,
        started_at,
    )
    count = _count(store, opts.threat, opts.shard)
    cycle_pk = store.observations.start_cycle(observer_pk, slot_at, started_at, opts.simulated)
    if opts.on_start:
        opts.on_start(count)
    outcomes: Counter[str] = Counter()
    path = bundle_path(data_dir, settings.observer.name, slot_at, settings.observer.zone)
    bundle = BundleWriter(path, producer, settings.cycle.bundle_max_bytes) if settings.cycle.write_stix else None
    target = WriterTarget(
        store, observer_pk, cycle_pk, opts.simulated, producer, started_at, bundle, outbox=bool(settings.hub.urls)
    )
    interrupted = False
    egress_failed: Counter[str] = Counter()
    async with ObservationWriter(target) as writer:

        async def sink(obs: Observation) -> None:
            outcomes[obs.outcome] += 1
            if obs.outcome == EGRESS_FAILED:
                egress_failed[obs.target.egress] += 1
            await writer.put(obs)
            if opts.on_result:
                opts.on_result(obs)

        try:
            async with open_context(settings, clock, opts.rng) as ctx:
                await _work(_feed(store, opts.threat, opts.rng, opts.shard), count, settings, ctx, sink)
        except asyncio.CancelledError:
            interrupted = True  # stopped (SIGTERM): what finished is stored below, then the cancel goes on
    summary = CycleSummary(
        cycle_pk,
        settings.observer.name,
        slot_at,
        started_at,
        clock(),
        round(time.perf_counter() - start, 3),
        count,
        dict(outcomes),
        str(path) if settings.cycle.write_stix else None,
        opts.simulated,
    )
    summary.interrupted, summary.queued = interrupted, target.outbox
    for label, failed in sorted(egress_failed.items()):  # once per proxy, not once per destination
        log.error("egress %s failed for %d of %d destinations (recorded as egress-failed)", label, failed, count)
    store.observations.finish_cycle(cycle_pk, summary.finished_at, summary.stix_path, summary.as_dict())
    log.info("cycle %s finished", cycle_pk, extra={"cycle": summary.as_dict()})
    if interrupted:
        raise asyncio.CancelledError
    return summary
