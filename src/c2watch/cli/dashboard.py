"""``c2watch dashboard``: the local dashboard."""

from __future__ import annotations

import click

from c2watch.cli.context import App, pass_app
from c2watch.store import open_store
from c2watch.web import create_app
from c2watch.web.server import bind, serve, url_of


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
    store = open_store(db, upgrade=False) if db else app.store
    sock = bind(host, port)
    click.echo(f"dashboard on {url_of(sock)} (Ctrl-C stops it)")
    serve(create_app(store, app.settings), sock)
