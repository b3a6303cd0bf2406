"""The agent's side of sharing: an outbox of STIX object groups not yet acknowledged by the hub, and the pull
cursors per hub and collection. Both survive restarts because they are rows in the store."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa

from c2watch.store.tables import outbox, sync_cursors

__all__ = ["ack", "depth", "enqueue", "get_cursor", "pending", "set_cursor"]


def enqueue(conn: sa.Connection, groups: Sequence[str], now: dt.datetime) -> None:
    conn.execute(outbox.insert(), [{"created_at": now, "objects": group} for group in groups])


def pending(conn: sa.Connection, limit: int) -> list[tuple[int, str]]:
    """The oldest groups not yet acknowledged."""
    query = sa.select(outbox.c.id, outbox.c.objects).where(outbox.c.acked_at.is_(None)).order_by(outbox.c.id)
    return [(row.id, row.objects) for row in conn.execute(query.limit(limit))]


def ack(conn: sa.Connection, ids: Sequence[int], now: dt.datetime) -> None:
    for start in range(0, len(ids), 500):
        chunk = list(ids[start : start + 500])
        conn.execute(outbox.update().where(outbox.c.id.in_(chunk)).values(acked_at=now))


def depth(conn: sa.Connection) -> int:
    return int(conn.execute(sa.select(sa.func.count()).where(outbox.c.acked_at.is_(None))).scalar_one())


def get_cursor(conn: sa.Connection, hub: str, collection: str) -> dt.datetime | None:
    query = sa.select(sync_cursors.c.added_after).where(
        sync_cursors.c.hub == hub, sync_cursors.c.collection == collection
    )
    value: dt.datetime | None = conn.execute(query).scalar_one_or_none()
    return value


def set_cursor(conn: sa.Connection, hub: str, collection: str, added_after: dt.datetime, now: dt.datetime) -> None:
    where = (sync_cursors.c.hub == hub) & (sync_cursors.c.collection == collection)
    updated = conn.execute(sync_cursors.update().where(where).values(added_after=added_after, updated_at=now))
    if updated.rowcount == 0:
        conn.execute(
            sync_cursors.insert().values(hub=hub, collection=collection, added_after=added_after, updated_at=now)
        )
