"""``c2watch agent``: cycles on the schedule until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import datetime as dt
import signal

import click

from c2watch.cli.context import App, pass_app
from c2watch.observer.agent import Agent
from c2watch.observer.cycle import CycleOptions, run_cycle
from c2watch.observer.schedule import Schedule
from c2watch.stix import identity_ids


@click.command()
@pass_app
def agent(app: App) -> None:
    """Run a cycle every [schedule] interval (default 4 h from 00:00:00 Asia/Tokyo) until stopped.

    A slot missed while the machine slept runs once on wake. SIGTERM stores what the running cycle finished and
    exits 0. Example: C2WATCH_HOME=/var/lib/c2watch c2watch agent
    """
    asyncio.run(_run_agent(app))


async def _run_agent(app: App) -> None:
    settings, store = app.settings, app.store

    async def run_slot(slot: dt.datetime) -> None:
        summary = await run_cycle(store, settings, app.home.path, CycleOptions(slot_at=slot), app.clock)
        click.echo(f"cycle {summary.cycle_id} for slot {slot.isoformat()}: {summary.outcomes}")

    _, system_id = identity_ids(settings.observer.organization, settings.observer.name)
    runner = Agent(Schedule.from_settings(settings.schedule), run_slot, app.clock, last_slot=store.last_slot(system_id))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, runner.terminate, stop)
    click.echo(f"agent {settings.observer.name}: next slot {runner.schedule.next_slot_after(app.clock()).isoformat()}")
    await runner.run(stop)
    click.echo("agent stopped")
