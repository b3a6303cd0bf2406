"""What an agent trusts of the keys its hub publishes, and which pulled or imported records it keeps.

The hub's list of observer keys is signed by nothing, so the agent pins: an observer's first key is pinned on
first sight (trust on first use); a later key of a pinned observer only when a key pinned here, not revoked,
endorses it (rotation). A key that moves to another observer or organisation, or a new key without that
endorsement, is *untrusted* and reported: a hub that swaps an observer's key is detected, and records signed by
the swapped key are refused (``unknown-key``). Revocations are taken from the hub (the earliest time wins, a
revocation is never undone): a hub that revokes a key can only make records be refused, never accepted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from c2watch.errors import InputError
from c2watch.stix.keys import public_key_text
from c2watch.stix.signing import key_id, signature_of
from c2watch.stix.trust import SIGNED_TYPES, KeyRecord, Keyring, Refusal, endorsed_by, record_observer
from c2watch.stix.vocab import identity_ids, stable_id

__all__ = ["Pinning", "bind_given_keys", "pin_published", "screen"]


@dataclass
class Pinning:
    """The outcome of reading the hub's keys: keys to pin, revocations to apply, keys not trusted and why."""

    new: list[KeyRecord] = field(default_factory=list)
    revocations: list[tuple[str, dt.datetime]] = field(default_factory=list)
    untrusted: list[tuple[KeyRecord, str]] = field(default_factory=list)


def _moved(pinned: KeyRecord, published: KeyRecord) -> bool:
    return (pinned.observer_ref, pinned.org_identity) != (published.observer_ref, published.org_identity)


def _revocation(pinned: KeyRecord, published: KeyRecord) -> dt.datetime | None:
    at = published.revoked_at
    return at if at is not None and (pinned.revoked_at is None or at < pinned.revoked_at) else None


def _admit(record: KeyRecord, trusted: dict[str, KeyRecord], outcome: Pinning) -> None:
    """Pin ``record`` (not pinned yet) on first sight of its observer, or with a trusted key's endorsement."""
    same = [k for k in trusted.values() if k.observer_ref == record.observer_ref]
    if not same:
        pinned = replace(record, source="hub")
    elif endorsed_by(record, [k for k in same if k.revoked_at is None]) is not None:
        pinned = replace(record, source="endorsed")
    else:
        outcome.untrusted.append((record, "a new key for a pinned observer, not endorsed by its pinned key"))
        return
    trusted[record.key_id] = pinned
    outcome.new.append(pinned)


def pin_published(pinned: Iterable[KeyRecord], published: Iterable[KeyRecord]) -> Pinning:
    """Compare the hub's keys (oldest first) with the ones pinned here."""
    trusted = {k.key_id: k for k in pinned}
    outcome = Pinning()
    for record in sorted(published, key=lambda k: k.valid_from):
        known = trusted.get(record.key_id)
        if known is None:
            _admit(record, trusted, outcome)
        elif _moved(known, record):
            outcome.untrusted.append((record, f"pinned for observer {known.observer_ref}, published for another"))
        elif (at := _revocation(known, record)) is not None:
            trusted[record.key_id] = replace(known, revoked_at=at)
            outcome.revocations.append((record.key_id, at))
    return outcome


Objects = Mapping[str, Mapping[str, Any]]


Obj = TypeVar("Obj", bound=Mapping[str, Any])


def _named_as_signed(obj: Mapping[str, Any], context: Objects) -> bool:
    """The organisation and observer identities the record names carry the names their ids were made from
    (ids are derived from the names, :func:`c2watch.stix.vocab.identity_ids`): nobody renamed them on the way."""
    org, observer = context.get(str(obj.get("created_by_ref"))), context.get(str(record_observer(obj)))
    if org is not None and stable_id("identity", "organization", str(org.get("name"))) != org.get("id"):
        return False
    if org is None or observer is None:
        return True  # shown by id
    return identity_ids(str(org.get("name")), str(observer.get("name")))[1] == observer.get("id")


def screen(own: Objects, context: Mapping[str, Obj], keyring: Keyring) -> tuple[dict[str, Obj], list[Refusal]]:
    """``context`` without the records among ``own`` (a page, a bundle) whose signature does not hold, or whose
    organisation or observer identity was renamed (``renamed``), and those refusals. Unsigned records pass while
    their observer has no pinned key (agents before signing)."""
    kept = dict(context)
    refusals = []
    for object_id, obj in own.items():
        if obj.get("type") not in SIGNED_TYPES:
            continue
        check = keyring.judge(obj, context)
        if check.valid and not _named_as_signed(obj, context):
            check = replace(check, outcome="renamed")
        if check.valid or check.outcome == "unsigned":
            continue
        kept.pop(object_id, None)
        observer = record_observer(obj)
        refusals.append(Refusal(object_id, observer if isinstance(observer, str) else None, check.key, check.outcome))
    return kept, refusals


def bind_given_keys(
    keys: Iterable[Ed25519PublicKey], objects: Objects, org_identity: str, organization: str, now: dt.datetime
) -> list[KeyRecord]:
    """Keys given by hand with an exchange file, each bound to the one observer of ``org_identity`` whose records
    in ``objects`` it signs; :class:`InputError` for a key that signs none or several observers' records."""
    records = []
    for public in keys:
        ident = key_id(public)
        observers = {
            record_observer(obj)
            for obj in objects.values()
            if obj.get("type") in SIGNED_TYPES
            and obj.get("created_by_ref") == org_identity
            and (signature := signature_of(obj)) is not None
            and signature.get("key") == ident
        }
        if len(observers) != 1 or not isinstance(ref := next(iter(observers)), str):
            raise InputError(f"--key {ident}: signs the records of {len(observers)} observers of {organization} here")
        records.append(KeyRecord(ident, public_key_text(public), org_identity, organization, ref, now, source="given"))
    return records
