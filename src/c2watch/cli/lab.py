"""``c2watch lab serve`` and ``c2watch demo``."""

from __future__ import annotations

import asyncio
import datetime as dt
import signal
from collections import Counter
from pathlib import Path

import click

from c2watch.analysis.events import list_events, refresh
from c2watch.cli.context import App, pass_app
from c2watch.config import Settings
from c2watch.lab import (
    FakeClock,
    Lab,
    Scenario,
    example_scenario,
    load_scenario,
    serve,
    to_watchlist_csv,
    utc_now,
    with_lab_names,
)
from c2watch.lab.demo import DEMO_DAYS, DEMO_OBSERVERS
from c2watch.lab.simulate import as_observer, simulate_observers, slots_between
from c2watch.observer.cycle import CycleOptions, run_cycle
from c2watch.observer.schedule import Schedule
from c2watch.watchlist.importer import import_watchlist
from c2watch.wiring.dashboard import Dashboard

DEMO_NETWORK = "127.77.0.0/16"


@click.group()
def lab() -> None:
    """The loopback C2 simulator (binds 127.0.0.0/8 only)."""


@lab.command("serve")
@click.option(
    "--scenario",
    "scenario_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Scenario TOML (default: the built-in demo scenario).",
)
@click.option(
    "--watchlist",
    "watchlist_out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the scenario as a watchlist CSV here.",
)
def serve_lab(scenario_file: Path | None, watchlist_out: Path | None) -> None:
    """Serve simulated C2 destinations until interrupted.

    Example: c2watch lab serve --watchlist lab.csv   (then: c2watch watchlist import lab.csv)
    """
    scenario = load_scenario(scenario_file) if scenario_file else example_scenario()

    def ready(running: Lab) -> None:
        for dest in scenario:
            click.echo(f"{dest.threat_id:10} {running.url_for(dest.name)}")
        if watchlist_out is not None:
            watchlist_out.write_text(to_watchlist_csv(scenario, running.ports()), encoding="utf-8")
            click.echo(f"watchlist written to {watchlist_out}")
        click.echo("lab running; Ctrl-C stops it")

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await serve(scenario, utc_now, stop, on_ready=ready)

    asyncio.run(run())


def demo_settings(settings: Settings) -> Settings:
    """The user's settings with the demo network explicitly allowed and short timeouts (lab peers are local)."""
    data = settings.model_dump()
    data["safety"]["allow_networks"] = [*data["safety"]["allow_networks"], DEMO_NETWORK]
    data["icmp"].update(count=4, interval=0.05, timeout=0.3)
    data["http"].update(connect_timeout=1.0, total_timeout=1.0)  # three observers and the lab share one event loop
    data["tls"].update(timeout=1.0)
    return Settings(**data)


@click.command()
@click.option(
    "--days",
    type=click.IntRange(1, 62),
    default=DEMO_DAYS,
    show_default=True,
    help="Days of fast-forwarded history to build before the live cycle (dead needs the removal window, "
    "[verdict] dead_days).",
)
@click.option("--serve/--no-serve", "serve_dashboard", default=True, help="Serve the dashboard at the end.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Dashboard port.")
@pass_app
def demo(app: App, days: int, serve_dashboard: bool, port: int) -> None:
    """Start the lab, build simulated history with real cycles of three observers (each from its own loopback
    address; one of them blocked by a destination), judging once per simulated day, run one live cycle each,
    then serve the dashboard on 127.0.0.1 (Ctrl-C stops it; --no-serve skips it).

    Example: c2watch demo --days 7
    """
    app.home.init()
    settings = demo_settings(app.settings)
    now = app.clock()
    start = now - dt.timedelta(days=days)
    scenario = example_scenario(start, days)
    asyncio.run(_demo(app, settings, scenario, start, now))
    if serve_dashboard:
        served = Dashboard.open(app.store, settings, "127.0.0.1", port)
        click.echo(f"dashboard on {served.url} (Ctrl-C stops it)")
        served.serve()


async def _demo(app: App, settings: Settings, scenario: Scenario, start: dt.datetime, now: dt.datetime) -> None:
    clock = FakeClock(start)
    async with Lab(scenario, clock) as running:
        settings = with_lab_names(settings, running)
        observers = [as_observer(settings, name, source) for name, source in DEMO_OBSERVERS]
        path = app.home.path / "demo-watchlist.csv"
        path.write_text(to_watchlist_csv(scenario, running.ports()), encoding="utf-8")
        import_watchlist(app.store, path, now, source="c2watch-demo")
        slots = slots_between(Schedule.from_settings(settings.schedule), start, now)
        names = ", ".join(f"{name} ({source})" for name, source in DEMO_OBSERVERS)
        click.echo(f"simulating {len(slots)} slots ({start:%Y-%m-%d} .. {now:%Y-%m-%d}) of {names} against the lab")
        if not running.icmp_controlled:
            click.echo("(no nftables control here: pings are answered as usual, no TTL change)")
        with click.progressbar(length=len(slots), label="slots") as bar:
            await simulate_observers(
                app.store, observers, app.home.path, running, clock, slots, on_slot=lambda _s: bar.update(1)
            )
        clock.set(now)
        await running.sync()
        live = await asyncio.gather(
            *(run_cycle(app.store, observer, app.home.path, CycleOptions(), clock) for observer in observers)
        )
    for summary in live:
        click.echo(f"live cycle {summary.cycle_id} ({summary.observer}): {summary.outcomes}")
    verdicts = refresh(app.store, settings, now)
    events = Counter(event.kind for event in list_events(app.store))
    click.echo(f"verdicts: {verdicts.counts()}")
    click.echo(f"events: {dict(sorted(events.items()))}")
    click.echo(f"STIX bundles under {app.home.path / 'observations'}; store {app.home.store_url(settings)}")
