"""Observers' public keys in the store (``observer_keys``): a hub's registered keys, an agent's pinned ones."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import sqlalchemy as sa

from c2watch.errors import InputError
from c2watch.stix.trust import KeyRecord, Refusal, endorsed_by
from c2watch.store.tables import observer_keys, refused_records

__all__ = ["add_key", "enrol_key", "list_keys", "refusal_counts", "revoke_key", "save_refusals"]


def _record(row: sa.Row[Any]) -> KeyRecord:
    m = row._mapping
    return KeyRecord(
        m["key_id"],
        m["public_key"],
        m["org_identity"],
        m["organization"],
        m["observer_ref"],
        m["valid_from"],
        m["revoked_at"],
        m["source"],
        m["endorsement"],
    )


def list_keys(
    conn: sa.Connection, observer_refs: Sequence[str] | None = None, org_identity: str | None = None
) -> list[KeyRecord]:
    """Keys, oldest first; of those observers or that organisation only when given."""
    query = sa.select(observer_keys).order_by(observer_keys.c.valid_from, observer_keys.c.id)
    if observer_refs is not None:
        query = query.where(observer_keys.c.observer_ref.in_(sorted(set(observer_refs))))
    if org_identity is not None:
        query = query.where(observer_keys.c.org_identity == org_identity)
    return [_record(row) for row in conn.execute(query)]


def add_key(conn: sa.Connection, record: KeyRecord) -> bool:
    """Add ``record``; ``False`` when that key is stored for the same observer already, :class:`InputError` when it
    is stored for another."""
    existing = conn.execute(sa.select(observer_keys).where(observer_keys.c.key_id == record.key_id)).first()
    if existing is not None:
        if existing.observer_ref != record.observer_ref or existing.org_identity != record.org_identity:
            raise InputError(f"key {record.key_id} belongs to observer {existing.observer_ref} already")
        return False
    conn.execute(
        observer_keys.insert().values(
            org_identity=record.org_identity,
            organization=record.organization,
            observer_ref=record.observer_ref,
            key_id=record.key_id,
            public_key=record.public_key,
            valid_from=record.valid_from,
            revoked_at=record.revoked_at,
            source=record.source,
            endorsement=dict(record.endorsement) if record.endorsement else None,
        )
    )
    return True


def revoke_key(conn: sa.Connection, key_id: str, at: dt.datetime) -> KeyRecord:
    """Revoke a key from ``at`` on; a key revoked earlier keeps its earlier time (a revocation is never undone)."""
    row = conn.execute(sa.select(observer_keys).where(observer_keys.c.key_id == key_id)).first()
    if row is None:
        raise InputError(f"no observer key {key_id!r} (c2watch hub observer list shows them)")
    if row.revoked_at is None or row.revoked_at > at:
        conn.execute(observer_keys.update().where(observer_keys.c.key_id == key_id).values(revoked_at=at))
    updated = conn.execute(sa.select(observer_keys).where(observer_keys.c.key_id == key_id)).one()
    return _record(updated)


def enrol_key(conn: sa.Connection, record: KeyRecord) -> str:
    """An observer's key sent by its organisation (the first push): ``known`` when stored already, ``enrolled``
    when the observer has no key yet (trust on first use), ``endorsed`` when one of its unrevoked keys endorses
    it (rotation); :class:`InputError` otherwise (the hub operator registers it: ``hub observer add``)."""
    existing = list_keys(conn, [record.observer_ref])
    if any(k.key_id == record.key_id for k in existing):
        add_key(conn, record)  # raises when it is another observer's
        return "known"
    if not existing:
        add_key(conn, replace(record, source="enrolled", endorsement=None))
        return "enrolled"
    if endorsed_by(record, [k for k in existing if k.revoked_at is None]) is not None:
        add_key(conn, replace(record, source="endorsed"))
        return "endorsed"
    raise InputError(
        f"observer {record.observer_ref} has a key already: a new one needs the endorsement of its current key "
        "(c2watch key rotate) or the hub operator (c2watch hub observer add)"
    )


def save_refusals(conn: sa.Connection, origin: str, refusals: Sequence[Refusal], now: dt.datetime) -> list[Refusal]:
    """Keep each refused record once per origin; the ones new."""
    ids = sorted({r.object_id for r in refusals})
    known: set[str] = set()
    for start in range(0, len(ids), 500):
        query = sa.select(refused_records.c.object_id).where(
            refused_records.c.origin == origin, refused_records.c.object_id.in_(ids[start : start + 500])
        )
        known.update(conn.scalars(query))
    new = {r.object_id: r for r in refusals if r.object_id not in known}
    if new:
        conn.execute(
            refused_records.insert(),
            [
                {
                    "origin": origin[:500],
                    "object_id": r.object_id[:100],
                    "observer_ref": r.observer_ref[:64] if r.observer_ref else None,
                    "key_id": r.key_id[:32] if r.key_id else None,
                    "reason": r.reason[:32],
                    "refused_at": now,
                }
                for r in new.values()
            ],
        )
    return list(new.values())


def refusal_counts(conn: sa.Connection, since: dt.datetime | None = None) -> dict[str, int]:
    """Refused records by reason (since a moment, when given)."""
    query = sa.select(refused_records.c.reason, sa.func.count()).group_by(refused_records.c.reason)
    if since is not None:
        query = query.where(refused_records.c.refused_at >= since)
    return {str(reason): int(count) for reason, count in conn.execute(query)}
