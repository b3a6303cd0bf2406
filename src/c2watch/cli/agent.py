"""``c2watch agent``: the agent process (:mod:`c2watch.wiring.agent`) until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import signal

import click
from prometheus_client import start_http_server

from c2watch.cli.context import App, pass_app
from c2watch.logs import configure_logging
from c2watch.observer import eventloop
from c2watch.observer.shard import Shard
from c2watch.wiring.agent import AgentParts, agent_metrics, build_agent, run_agent


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
    metrics = agent_metrics(app.store)
    if metrics_port is not None:
        start_http_server(metrics_port, addr=metrics_host, registry=metrics.registry)
    parts = AgentParts(
        app.store, app.settings, app.home.path, app.clock, Shard.parse(shard) if shard else None, metrics, click.echo
    )
    eventloop.run(_run(parts), app.settings.cycle.loop)


async def _run(parts: AgentParts) -> None:
    runner = build_agent(parts)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, runner.terminate, stop)
    await run_agent(parts, stop, runner)
