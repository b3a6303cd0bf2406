"""``c2watch agent``: cycles on the schedule until SIGTERM/SIGINT, with hub sync after each cycle if configured,
verdicts, events and webhooks brought up to date in the background after each cycle and sync, and the store's daily
upkeep (partitions ahead, retention)."""

from __future__ import annotations

import asyncio
import datetime as dt
import signal

import click
from prometheus_client import start_http_server

from c2watch.alerts import AlertLoop, store_alert_loop
from c2watch.analysis.events import RefreshReport
from c2watch.cli.context import App, pass_app
from c2watch.config import Settings
from c2watch.logs import configure_logging
from c2watch.metrics import AgentMetrics
from c2watch.observer.agent import Agent
from c2watch.observer.cycle import CycleOptions, producer_of, run_cycle
from c2watch.observer.schedule import Schedule
from c2watch.observer.shard import Shard
from c2watch.store import Store
from c2watch.store.upkeep import Upkeep
from c2watch.taxii.sync import SyncReport, sync
from c2watch.taxii.syncloop import SyncLoop


@click.command()
@click.option("--shard", help="Only shard i of n (e.g. 2/4) when several agents split one watchlist.")
@click.option("--metrics-port", type=int, help="Serve Prometheus metrics on this port (/metrics).")
@click.option("--metrics-host", default="127.0.0.1", show_default=True)
@pass_app
def agent(app: App, shard: str | None, metrics_port: int | None, metrics_host: str) -> None:
    """Run a cycle every [schedule] interval (default 4 h from 00:00:00 Asia/Tokyo) until stopped.

    A slot missed while the machine slept runs once on wake. With [hub] url and token set, the outbox is pushed and
    the others' records pulled after each cycle (retried with back-off while the hub is down). SIGTERM stores what
    the running cycle finished and exits 0. Example: C2WATCH_HOME=/var/lib/c2watch c2watch agent
    """
    configure_logging()
    metrics = AgentMetrics(outbox_depth=lambda: float(app.store.outbox_depth()))
    if metrics_port is not None:
        start_http_server(metrics_port, addr=metrics_host, registry=metrics.registry)
    asyncio.run(_run_agent(app, Shard.parse(shard) if shard else None, metrics))


def _alert_loop(app: App) -> AlertLoop:
    """Refresh verdicts and events (in a worker thread) and deliver webhooks, after each cycle and sync."""

    def report(result: object) -> None:
        if isinstance(result, RefreshReport):
            click.echo(f"verdicts: {result.as_dict()}")
        elif isinstance(result, Exception):
            click.echo(f"verdicts/alerts: {result}")

    return store_alert_loop(app.store, app.settings, app.clock, on_report=report)


def _sync_loop(
    store: Store, settings: Settings, metrics: AgentMetrics, alerts: AlertLoop | None = None
) -> SyncLoop | None:
    if not (settings.hub.url and settings.hub.token):
        return None
    producer = producer_of(settings)

    async def do_sync() -> SyncReport:
        return await sync(
            store, settings.hub.url, settings.hub.token, producer, settings.hub.sync_batch, settings.hub.timeout
        )

    def report(result: SyncReport | Exception) -> None:
        if isinstance(result, SyncReport):
            metrics.synced()
            if alerts is not None:
                alerts.kick()
        click.echo(f"sync: {result.as_dict() if isinstance(result, SyncReport) else result}")

    return SyncLoop(do_sync, on_report=report)


async def _run_agent(app: App, shard: Shard | None, metrics: AgentMetrics) -> None:
    settings, store = app.settings, app.store
    alerts = _alert_loop(app)
    syncer = _sync_loop(store, settings, metrics, alerts)

    async def run_slot(slot: dt.datetime) -> None:
        summary = await run_cycle(
            store,
            settings,
            app.home.path,
            CycleOptions(slot_at=slot, shard=shard, on_result=metrics.observed),
            app.clock,
        )
        metrics.cycle_done(summary)
        click.echo(f"cycle {summary.cycle_id} for slot {slot.isoformat()}: {summary.outcomes}")
        alerts.kick()
        if syncer is not None:
            syncer.kick()

    schedule = Schedule.from_settings(settings.schedule)
    runner = Agent(
        schedule,
        run_slot,
        app.clock,
        last_slot=store.last_slot(producer_of(settings).system_identity),
        offset=schedule.stagger(settings.observer.name),
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, runner.terminate, stop)
    click.echo(f"agent {settings.observer.name}: next slot {runner.schedule.next_slot_after(app.clock()).isoformat()}")
    upkeep = Upkeep(store, settings, app.clock, data_dir=app.home.path)  # partitions ahead, daily retention
    await asyncio.to_thread(upkeep.partitions)
    tasks = [runner.run(stop), alerts.run(stop), upkeep.run(stop)] + ([syncer.run(stop)] if syncer else [])
    await asyncio.gather(*tasks)
    click.echo("agent stopped")
