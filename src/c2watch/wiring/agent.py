"""The agent process: cycles on the schedule until stopped, with hub sync after each cycle if configured, verdicts,
events and webhooks brought up to date in the background after each cycle and sync, and the store's daily upkeep
(partitions ahead, retention). With a hub, the organisation the hub knows the token by is checked first (a different
``[observer] organization`` stops the start, naming both). ``c2watch agent`` is a thin shell over
:func:`run_agent`; a test calls it with a stop event and its own ``say``.

>>> await run_agent(AgentParts(store, settings, data_dir, clock), stop)   # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from c2watch.alerts import AlertLoop, store_alert_loop
from c2watch.analysis.events import RefreshReport
from c2watch.config import Settings
from c2watch.metrics import AgentMetrics
from c2watch.observer.agent import Agent
from c2watch.observer.cycle import CycleOptions, producer_of, run_cycle
from c2watch.observer.schedule import Schedule
from c2watch.observer.shard import Shard
from c2watch.store import Store, Upkeep
from c2watch.taxii.onboard import confirm_organization
from c2watch.taxii.sync import SyncReport, sync
from c2watch.taxii.syncloop import SyncLoop

__all__ = ["AgentParts", "agent_metrics", "build_agent", "run_agent"]


@dataclass
class AgentParts:
    """What an agent is made of; ``say`` prints a line (the CLI passes ``click.echo``)."""

    store: Store
    settings: Settings
    data_dir: Path
    clock: Callable[[], dt.datetime]
    shard: Shard | None = None
    metrics: AgentMetrics | None = None
    say: Callable[[str], None] = print
    alerts: AlertLoop = field(init=False)
    syncer: SyncLoop | None = field(init=False, default=None)


def agent_metrics(store: Store) -> AgentMetrics:
    return AgentMetrics(outbox_depth=lambda: float(store.outbox.depth()))


def _alert_loop(parts: AgentParts) -> AlertLoop:
    """Refresh verdicts and events (in a worker thread) and deliver webhooks, after each cycle and sync."""

    def report(result: object) -> None:
        if isinstance(result, RefreshReport):
            parts.say(f"verdicts: {result.as_dict()}")
        elif isinstance(result, Exception):
            parts.say(f"verdicts/alerts: {result}")

    return store_alert_loop(parts.store, parts.settings, parts.clock, on_report=report)


def _sync_loop(parts: AgentParts, metrics: AgentMetrics) -> SyncLoop | None:
    settings, store = parts.settings, parts.store
    if not (settings.hub.urls and settings.hub.token):
        return None
    producer = producer_of(settings, parts.data_dir)

    async def do_sync() -> SyncReport:
        return await sync(
            store,
            settings.hub.urls,
            settings.hub.token,
            producer,
            settings.hub.sync_batch,
            settings.hub.timeout,
            max_response_bytes=settings.hub.max_response_bytes,
        )

    def report(result: SyncReport | Exception) -> None:
        if isinstance(result, SyncReport):
            metrics.synced(result.refused)
            parts.alerts.kick()
        parts.say(f"sync: {result.as_dict() if isinstance(result, SyncReport) else result}")

    return SyncLoop(do_sync, on_report=report)


def build_agent(parts: AgentParts) -> Agent:
    """The scheduled runner, with the alert and sync loops it kicks after each cycle (set on ``parts``)."""
    settings, store = parts.settings, parts.store
    metrics = parts.metrics = parts.metrics or agent_metrics(store)
    parts.alerts = _alert_loop(parts)
    parts.syncer = _sync_loop(parts, metrics)

    async def run_slot(slot: dt.datetime) -> None:
        options = CycleOptions(slot_at=slot, shard=parts.shard, on_result=metrics.observed)
        summary = await run_cycle(store, settings, parts.data_dir, options, parts.clock)
        metrics.cycle_done(summary)
        parts.say(f"cycle {summary.cycle_id} for slot {slot.isoformat()}: {summary.outcomes}")
        parts.alerts.kick()
        if parts.syncer is not None:
            parts.syncer.kick()

    schedule = Schedule.from_settings(settings.schedule)
    return Agent(
        schedule,
        run_slot,
        parts.clock,
        last_slot=store.observations.last_slot(producer_of(settings).system_identity),
        offset=schedule.stagger(settings.observer.name),
    )


async def run_agent(parts: AgentParts, stop: asyncio.Event, runner: Agent | None = None) -> None:
    """Run the agent and its background loops until ``stop`` is set (``runner.terminate`` sets it after the running
    cycle has stored what it finished)."""
    runner = runner or build_agent(parts)
    if parts.syncer is not None:  # before any cycle queues objects the hub would refuse
        hub = parts.settings.hub
        known = await confirm_organization(hub.urls, hub.token, parts.settings.observer.organization, hub.timeout)
        parts.say(f"hub: this token belongs to {known!r}" if known else "hub: organisation not confirmed yet")
    parts.say(
        f"agent {parts.settings.observer.name}: next slot {runner.schedule.next_slot_after(parts.clock()).isoformat()}"
    )
    upkeep = Upkeep(parts.store, parts.settings, parts.clock, data_dir=parts.data_dir)
    await asyncio.to_thread(upkeep.partitions)
    tasks = [runner.run(stop), parts.alerts.run(stop), upkeep.run(stop)]
    if parts.syncer is not None:
        tasks.append(parts.syncer.run(stop))
    await asyncio.gather(*tasks)
    parts.say("agent stopped")
