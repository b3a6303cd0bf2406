"""``c2watch hub serve|org|token``: the TAXII 2.1 hub and its organisations and tokens."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from c2watch.cli.context import App, pass_app
from c2watch.logs import configure_logging
from c2watch.store import ROLES, open_store
from c2watch.wiring.hub import serve_metrics, serving_app


@click.group()
def hub() -> None:
    """The hub: a TAXII 2.1 server where organisations share watchlists and observations."""


@hub.command("serve")
@click.option("--db", help="Store URL (default: [store] url, else the SQLite file in the data directory).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8400, show_default=True, type=int)
@click.option("--tls-cert", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--tls-key", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_app
def serve(app: App, db: str | None, host: str, port: int, tls_cert: Path | None, tls_key: Path | None) -> None:
    """Serve the TAXII 2.1 API (discovery at /taxii2/, API root at /api/).

    Example: c2watch hub serve --db postgresql+psycopg://c2watch@db/c2watch --tls-cert c.pem --tls-key k.pem
    """
    import uvicorn

    configure_logging()  # the judge's refreshes, the upkeep, which replica leads them
    store = open_store(db) if db else app.store
    web = serving_app(store, app.settings)
    click.echo(f"hub on {'https' if tls_cert else 'http'}://{host}:{port}/taxii2/ (store {store.url})")
    if app.settings.hub.metrics_listen:
        metrics_host, metrics_port = serve_metrics(web, app.settings.hub.metrics_listen)
        click.echo(f"metrics on http://{metrics_host}:{metrics_port}/metrics")
    uvicorn.run(web, host=host, port=port, ssl_certfile=tls_cert, ssl_keyfile=tls_key, log_level="info")


@hub.group()
def org() -> None:
    """Member organisations."""


@org.command("add")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def org_add(app: App, name: str, as_json: bool) -> None:
    """Add an organisation; its observers must use the same name as [observer] organization."""
    created = app.store.access.add_organization(name)
    if as_json:
        app.print_json({"name": created.name, "identity": created.identity})
    else:
        click.echo(f"organisation {created.name} added (STIX identity {created.identity})")


@hub.group()
def token() -> None:
    """Organisation tokens (shown once, stored hashed)."""


@token.command("create")
@click.option("--org", "org_name", required=True)
@click.option("--name", required=True, help="What the token is for, e.g. observer-tokyo-01.")
@click.option(
    "--role",
    required=True,
    type=click.Choice(ROLES),
    help="admin: its organisation's statuses and admin page; operator: the whole hub's.",
)
@click.option("--expires", help="When it stops working: a date (2027-03-31), a UTC time, or a duration (90d, 12h).")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def token_create(app: App, org_name: str, name: str, role: str, expires: str | None, as_json: bool) -> None:
    """Create a token and print it once.

    Example: c2watch hub token create --org "Org A CSIRT" --name observer-tokyo-01 --role observer --expires 90d
    """
    secret, info = app.store.access.create_token(org_name, name, role, expires=expires)
    until = info.expires_at.isoformat() if info.expires_at else None
    if as_json:
        app.print_json(
            {"token": secret, "id": info.public_id, "org": info.organization, "role": info.role, "expires_at": until}
        )
    else:
        ends = f", expires {info.expires_at:%Y-%m-%d %H:%M} UTC" if info.expires_at else ""
        click.echo(f"token {info.public_id} for {info.organization} ({info.role}{ends}); it is shown only now:")
        click.echo(secret)


@token.command("list")
@click.option("--org", "org_name")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def token_list(app: App, org_name: str | None, as_json: bool) -> None:
    """List tokens (never their secrets)."""
    rows = app.store.access.list_tokens(org_name)
    if as_json:
        app.print_json(
            [
                {
                    "id": t.public_id,
                    "org": t.organization,
                    "name": t.name,
                    "role": t.role,
                    "created_at": t.created_at,
                    "expires_at": t.expires_at,
                    "revoked_at": t.revoked_at,
                }
                for t in rows
            ]
        )
        return
    table = Table("id", "organisation", "name", "role", "created", "expires", "revoked")
    for t in rows:
        table.add_row(
            t.public_id,
            t.organization,
            t.name,
            t.role,
            f"{t.created_at:%Y-%m-%d %H:%M}",
            f"{t.expires_at:%Y-%m-%d %H:%M}" if t.expires_at else "",
            f"{t.revoked_at:%Y-%m-%d %H:%M}" if t.revoked_at else "",
        )
    app.console.print(table)


@token.command("revoke")
@click.argument("token_id")
@pass_app
def token_revoke(app: App, token_id: str) -> None:
    """Revoke a token by its id; it stops working at once, and its dashboard sessions end."""
    info = app.store.access.revoke_token(token_id)
    click.echo(f"token {info.public_id} of {info.organization} revoked")
