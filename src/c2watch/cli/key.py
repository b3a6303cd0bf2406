"""``c2watch key``: this observer's signing key."""

from __future__ import annotations

import click

from c2watch.cli.context import App, pass_app
from c2watch.stix.keys import ensure_private_key, public_key_text
from c2watch.stix.rotation import rotate_key
from c2watch.stix.signing import key_id
from c2watch.stix.vocab import identity_ids


@click.group()
def key() -> None:
    """This observer's Ed25519 signing key ([observer] key_file, made by init)."""


@key.command("show")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def show(app: App, as_json: bool) -> None:
    """Print the public key (what the hub operator registers with: c2watch hub observer add --key).

    Example: c2watch key show > tokyo-01.pub
    """
    observer = app.settings.observer
    path = observer.key_path(app.home.path)
    private, _ = ensure_private_key(path)
    text = public_key_text(private)
    if as_json:
        observer_ref = identity_ids(observer.organization, observer.name)[1]
        app.print_json(
            {
                "key_id": key_id(private.public_key()),
                "observer_ref": observer_ref,
                "organization": observer.organization,
                "public_key": text,
                "file": str(path),
            }
        )
    else:
        click.echo(text)


@key.command("rotate")
@pass_app
def rotate(app: App) -> None:
    """Make a new key, endorsed by the current one, which is kept aside (its records stay valid).

    The next sync enrols the new key with the hub; the hub and every agent that pinned the old key trust it.

    Example: c2watch key rotate && c2watch sync
    """
    observer = app.settings.observer
    path = observer.key_path(app.home.path)
    ensure_private_key(path)
    new, retired = rotate_key(path, identity_ids(observer.organization, observer.name)[1])
    click.echo(f"new key {key_id(new.public_key())} in {path}; the old one kept as {retired}")
    click.echo(public_key_text(new))
