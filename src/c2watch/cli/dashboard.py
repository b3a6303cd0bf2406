"""``c2watch dashboard``: the local dashboard."""

from __future__ import annotations

import click

from c2watch.cli.context import App, pass_app
from c2watch.wiring.dashboard import Dashboard, dashboard_store


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Port (0: any free).")
@click.option("--db", help="Store URL to read instead of [store] url, e.g. a read-only PostgreSQL replica.")
@pass_app
def dashboard(app: App, host: str, port: int, db: str | None) -> None:
    """Serve the dashboard (threat IDs, month views, reports and the JSON API) until Ctrl-C.

    With --db the store is only read (never migrated): point it at a streaming replica of the hub's database.
    Example: c2watch dashboard --port 8000   (then open http://127.0.0.1:8000/)
    """
    served = Dashboard.open(dashboard_store(app.store, db), app.settings, host, port)
    click.echo(f"dashboard on {served.url} (Ctrl-C stops it)")
    served.serve()
