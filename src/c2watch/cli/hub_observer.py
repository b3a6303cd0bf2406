"""``c2watch hub observer add|list|revoke-key``: the observers' signing keys the hub holds."""

from __future__ import annotations

import click
from rich.table import Table

from c2watch.cli.context import App, pass_app
from c2watch.errors import InputError
from c2watch.stix.exchange import parse_since
from c2watch.stix.keys import public_key_text, read_public_key
from c2watch.stix.signing import key_id
from c2watch.stix.trust import KeyRecord
from c2watch.stix.vocab import identity_ids


@click.group()
def observer() -> None:
    """Observers' public keys: every observed-data and sighting must be signed by its observer's key."""


def _observer_ref(organization: str, observer_name: str) -> str:
    if observer_name.startswith("identity--"):
        return observer_name
    return identity_ids(organization, observer_name)[1]


@observer.command("add")
@click.option("--org", "org_name", required=True, help="The observer's organisation (as `hub org add` named it).")
@click.option("--key", "key_text", required=True, help="Its public key (`c2watch key show`), or a file holding it.")
@click.option("--observer", "observer_name", required=True, help="Its [observer] name, or its identity--… id.")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def observer_add(app: App, org_name: str, key_text: str, observer_name: str, as_json: bool) -> None:
    """Register an observer's key (before its first push, a new key after a loss, or a second key).

    Example: c2watch hub observer add --org "Org B SOC" --observer osaka-01 --key osaka-01.pub
    """
    organization = app.store.access.organization(org_name)
    public = read_public_key(key_text)
    record = KeyRecord(
        key_id(public),
        public_key_text(public),
        organization.identity,
        organization.name,
        _observer_ref(organization.name, observer_name),
        app.store.clock(),
        source="registered",
    )
    added = app.store.keys.add(record)
    if as_json:
        app.print_json({**record.as_json(), "added": added})
    else:
        state = "registered" if added else "already registered"
        click.echo(f"key {record.key_id} {state} for observer {record.observer_ref} of {organization.name}")


@observer.command("list")
@click.option("--org", "org_name", help="Only this organisation's observers.")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def observer_list(app: App, org_name: str | None, as_json: bool) -> None:
    """List the observer keys the hub holds (also served to members at /api/observer-keys/)."""
    org_identity = app.store.access.organization(org_name).identity if org_name else None
    records = app.store.keys.records(org_identity=org_identity)
    if as_json:
        app.print_json([{**r.as_json(), "source": r.source} for r in records])
        return
    table = Table("key id", "organisation", "observer", "source", "valid from", "revoked")
    for r in records:
        revoked = f"{r.revoked_at:%Y-%m-%d %H:%M:%S}" if r.revoked_at else ""
        table.add_row(r.key_id, r.organization, r.observer_ref, r.source, f"{r.valid_from:%Y-%m-%d %H:%M}", revoked)
    app.console.print(table)


@observer.command("revoke-key")
@click.argument("key_id_")
@click.option("--at", "at_text", help="Revoked from this time on (UTC; default: now). Records signed before stay.")
@pass_app
def observer_revoke_key(app: App, key_id_: str, at_text: str | None) -> None:
    """Revoke an observer key: records it signed before the revocation stay valid, later ones are refused.

    Example: c2watch hub observer revoke-key 3f2a9c... --at 2026-12-01T00:00:00Z
    """
    at = parse_since(at_text) if at_text else None
    if at is not None and at > app.store.clock():
        raise InputError("--at: a revocation takes effect now or in the past, not in the future")
    record = app.store.keys.revoke(key_id_, at)
    assert record.revoked_at is not None
    click.echo(f"key {record.key_id} of observer {record.observer_ref} revoked from {record.revoked_at.isoformat()}")
