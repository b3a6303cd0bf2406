"""Cycles whose observations never went to the outbox (recorded before ``[hub]`` was set), and queueing them later.

A cycle's summary says whether its observations were queued (``"queued": true`` or ``false``); cycles recorded
before the summary said so carry neither and count as not queued when asked to backfill, never in the notice
(re-pushing a cycle the hub has is harmless: identical objects are successes)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from c2watch.store import outbox as _outbox
from c2watch.store.tables import cycles, observers

__all__ = ["CycleFile", "mark_queued", "unqueued_cycles"]


@dataclass(frozen=True)
class CycleFile:
    """A finished cycle of ours and the STIX bundle file it wrote (None: ``write_stix`` was off)."""

    cycle_pk: int
    slot_at: dt.datetime
    stix_path: str | None
    queued: bool | None  # None: recorded before cycles said


def unqueued_cycles(
    conn: sa.Connection, system_identity: str, since: dt.datetime | None, known_only: bool
) -> list[CycleFile]:
    """This observer's finished, real (not simulated) cycles not queued, oldest first; ``known_only``: only the
    ones whose summary says so."""
    query = (
        sa.select(cycles.c.id, cycles.c.slot_at, cycles.c.stix_path, cycles.c.summary)
        .join(observers, observers.c.id == cycles.c.observer_pk)
        .where(
            observers.c.system_identity == system_identity,
            cycles.c.simulated.is_(False),
            cycles.c.finished_at.is_not(None),
        )
        .order_by(cycles.c.slot_at, cycles.c.id)
    )
    if since is not None:
        query = query.where(cycles.c.slot_at >= since)
    found = []
    for row in conn.execute(query):
        queued = _queued(row.summary)
        if queued is False or (queued is None and not known_only):
            found.append(CycleFile(row.id, row.slot_at, row.stix_path, queued))
    return found


def _queued(summary: Any) -> bool | None:
    value = summary.get("queued") if isinstance(summary, dict) else None
    return value if isinstance(value, bool) else None


def mark_queued(conn: sa.Connection, cycle_pk: int, groups: Sequence[str], now: dt.datetime) -> None:
    """Queue a cycle's object groups and note in its summary that it is queued, in one transaction."""
    if groups:
        _outbox.enqueue(conn, groups, now)
    summary = conn.execute(sa.select(cycles.c.summary).where(cycles.c.id == cycle_pk)).scalar_one()
    updated = {**(summary if isinstance(summary, dict) else {}), "queued": True}
    conn.execute(cycles.update().where(cycles.c.id == cycle_pk).values(summary=updated))
