"""``c2watch key``: this observer's signing key."""

from __future__ import annotations

import click

from c2watch.cli.context import App, pass_app
from c2watch.stix.keys import ensure_private_key, public_key_text, read_public_key
from c2watch.stix.rotation import rotate_key
from c2watch.stix.signing import key_id
from c2watch.stix.trust import KeyRecord
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


@key.command("trust")
@click.option("--org", "org_name", required=True, help="The observer's organisation.")
@click.option("--observer", "observer_name", required=True, help="Its [observer] name, or its identity--… id.")
@click.option("--key", "key_text", required=True, help="Its public key, or a file holding it.")
@pass_app
def trust(app: App, org_name: str, observer_name: str, key_text: str) -> None:
    """Pin another observer's key by hand (confirmed out of band with its organisation): a key the hub publishes
    without the endorsement of the key pinned here, after a loss, is trusted from then on.

    Example: c2watch key trust --org "Org B SOC" --observer osaka-01 --key osaka-01.pub
    """
    public = read_public_key(key_text)
    org_identity, observer_ref = identity_ids(org_name, observer_name)
    if observer_name.startswith("identity--"):
        observer_ref = observer_name
    record = KeyRecord(
        key_id(public), public_key_text(public), org_identity, org_name, observer_ref, app.store.clock(), source="given"
    )
    added = app.store.keys.add(record)
    click.echo(f"key {record.key_id} {'pinned' if added else 'already pinned'} for observer {observer_ref}")
