"""``c2watch init``."""

from __future__ import annotations

import click

from c2watch.cli.context import App, pass_app


@click.command()
@pass_app
def init(app: App) -> None:
    """Create the data directory, a default c2watch.toml and the store (safe to run again).

    Example: C2WATCH_HOME=/var/lib/c2watch c2watch init
    """
    report = app.home.init()
    for created in report.created:
        click.echo(f"created {created}")
    click.echo(f"data directory {report.home} is ready (store: {app.home.store_url(app.settings)})")
