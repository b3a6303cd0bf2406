"""After a command that brought new records (``c2watch observe``, ``c2watch sync``): verdicts and events brought up
to date and the new events sent to the webhooks once, as the agent does after each cycle and sync. A webhook that is
down never fails the command: its failure is recorded in the store and retried by the next delivery."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import click

from c2watch.alerts import DeliveryReport, deliver
from c2watch.analysis.events import RefreshReport, refresh
from c2watch.cli.context import App

__all__ = ["NO_REFRESH", "Refreshed", "echo_refreshed", "refresh_and_deliver"]

NO_REFRESH = click.option(
    "--no-refresh",
    is_flag=True,
    help="Do not recompute verdicts and events, nor send new events to the [alerts] webhooks, afterwards.",
)


@dataclass(frozen=True)
class Refreshed:
    verdicts: RefreshReport
    webhooks: DeliveryReport

    def as_dict(self) -> dict[str, Any]:
        return {"verdicts": self.verdicts.as_dict(), "webhooks": self.webhooks.as_dict()}


def refresh_and_deliver(app: App) -> Refreshed:
    """Recompute verdicts and events with every record in the store, then deliver the pending events once."""
    report = refresh(app.store, app.settings, app.clock())
    delivery = asyncio.run(deliver(app.store, app.settings.alerts, app.clock))
    return Refreshed(report, delivery)


def echo_refreshed(refreshed: Refreshed) -> None:
    """One line for the verdicts and events, one for the webhooks; failed webhooks on standard error."""
    report, delivery = refreshed.verdicts, refreshed.webhooks
    counts = ", ".join(f"{count} {status}" for status, count in sorted(report.counts().items())) or "none"
    click.echo(f"verdicts: {counts}; {len(report.new_events)} new events")
    retry = delivery.next_attempt_at.isoformat() if delivery.next_attempt_at else None
    if delivery.delivered or retry:
        click.echo(f"webhooks: {delivery.delivered} events delivered" + (f"; next attempt {retry}" if retry else ""))
    for url, error in delivery.failures.items():
        click.echo(f"warning: webhook {url} did not take the events ({error}); retrying from {retry}", err=True)
