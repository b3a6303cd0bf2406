"""``c2watch threats list``."""

from __future__ import annotations

import click
from rich.table import Table

from c2watch.cli.context import App, pass_app


@click.group()
def threats() -> None:
    """Threat IDs: the campaigns that group destinations."""


@threats.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def list_threats(app: App, as_json: bool) -> None:
    """List threat IDs with their report date and destination counts."""
    rows = app.store.watchlist.threats()
    if as_json:
        app.print_json([row.__dict__ for row in rows])
        return
    table = Table("threat ID", "reported", "active", "retired")
    for row in rows:
        table.add_row(row.threat_id, str(row.reported_on or "-"), str(row.active_targets), str(row.retired_targets))
    app.console.print(table)
