"""Read-only queries behind the dashboard's verdict and event views: verdict counts per threat ID and status
(one grouped query over the ``verdicts`` table, no evidence read), and a window of stored events with its total.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, NamedTuple

import sqlalchemy as sa

from c2watch.store.events import StoredEvent, event_query, stored_event
from c2watch.store.tables import events, targets, threats, verdicts

__all__ = ["EventWindow", "VerdictCount", "count_events", "find_events", "verdict_counts"]


class VerdictCount(NamedTuple):
    threat_id: str
    status: str
    destinations: int
    computed_at: dt.datetime


def verdict_counts(conn: sa.Connection) -> list[VerdictCount]:
    """How many destinations of each threat ID have each stored status, and when they were computed last."""
    query = (
        sa.select(threats.c.threat_id, verdicts.c.status, sa.func.count(), sa.func.max(verdicts.c.computed_at))
        .select_from(verdicts.join(targets, verdicts.c.target_pk == targets.c.id))
        .join(threats, targets.c.threat_pk == threats.c.id)
        .group_by(threats.c.threat_id, verdicts.c.status)
        .order_by(threats.c.threat_id, verdicts.c.status)
    )
    return [VerdictCount(*row) for row in conn.execute(query)]


@dataclass(frozen=True)
class EventWindow:
    """Which events: ``at`` in ``[start, end)``, of one threat or destination, of some kinds, of destinations whose
    stored verdict has one of ``statuses`` (every one when empty); the newest ``limit`` of them."""

    start: dt.datetime | None = None
    end: dt.datetime | None = None
    threat: str | None = None
    target_pk: int | None = None
    kinds: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    limit: int | None = None

    def where(self, query: sa.Select[Any]) -> sa.Select[Any]:
        c = events.c
        if self.start is not None:
            query = query.where(c.at >= self.start)
        if self.end is not None:
            query = query.where(c.at < self.end)
        if self.threat is not None:
            query = query.where(c.threat_id == self.threat)
        if self.target_pk is not None:
            query = query.where(c.target_pk == self.target_pk)
        if self.kinds:
            query = query.where(c.kind.in_(self.kinds))
        if self.statuses:
            judged = sa.select(verdicts.c.target_pk).where(verdicts.c.status.in_(self.statuses))
            query = query.where(c.target_pk.in_(judged))
        return query


def find_events(conn: sa.Connection, window: EventWindow) -> list[StoredEvent]:
    """The events of ``window``, oldest first (the newest ``window.limit`` when it is set)."""
    query = window.where(event_query()).order_by(None).order_by(events.c.at.desc(), events.c.id.desc())
    if window.limit is not None:
        query = query.limit(window.limit)
    return [stored_event(row) for row in reversed(conn.execute(query).all())]


def count_events(conn: sa.Connection, window: EventWindow) -> int:
    """How many events ``window`` holds, ignoring its limit."""
    query = window.where(sa.select(sa.func.count()).select_from(events))
    return int(conn.execute(query).scalar_one())
