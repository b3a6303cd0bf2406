"""Reading the daily rollups for the report and dashboard queries (:mod:`c2watch.store.queries` adds them to what
the raw rows give). A rolled-up day belongs to the period holding its first instant (``day_start``): the report's
months start on local midnights of the same zone, so a day never straddles two months.

Results are plain tuples; :mod:`c2watch.store.queries` wraps them in its row types.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import NamedTuple

import sqlalchemy as sa

from c2watch.store.sqlfuncs import epoch
from c2watch.store.tables import daily_rollups

__all__ = [
    "RolledRun",
    "bucket_counts",
    "bucket_pairings",
    "points_of",
    "rolled_runs",
    "rolled_span",
    "rolled_windows",
]

r = daily_rollups

#: ``(label, start, end)``, as :data:`c2watch.store.queries.Bucket`.
Period = tuple[str, dt.datetime, dt.datetime]


def where(
    table: sa.Table,
    threat: str | None,
    target_pk: int | None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> list[sa.ColumnElement[bool]]:
    clauses: list[sa.ColumnElement[bool]] = []
    if threat is not None:
        clauses.append(table.c.threat_id == threat)
    if target_pk is not None:
        clauses.append(table.c.target_pk == target_pk)
    if start is not None:
        clauses.append(table.c.day_start >= start)
    if end is not None:
        clauses.append(table.c.day_start < end)
    return clauses


def bucket_counts(
    conn: sa.Connection, threat: str | None, target_pk: int | None, buckets: Sequence[Period], by_target: bool
) -> list[tuple[str, str, int | None, int, int]]:
    """``(bucket, threat_id, target_pk or None, observations, answered)`` of the rolled-up days."""
    keys = [r.c.threat_id, *([r.c.target_pk] if by_target else [])]
    found = []
    for label, start, end in buckets:
        query = (
            sa.select(*keys, sa.func.sum(r.c.observations), sa.func.sum(r.c.answered))
            .where(*where(r, threat, target_pk, start, end))
            .group_by(*keys)
        )
        for row in conn.execute(query):
            found.append((label, row[0], row[1] if by_target else None, int(row[-2]), int(row[-1])))
    return found


def bucket_pairings(
    conn: sa.Connection, threat: str | None, target_pk: int | None, buckets: Sequence[Period]
) -> list[tuple[str, int, int, int, int, int]]:
    """``(bucket, target_pk, both, http_only, ping_only, neither)`` of the rolled-up days (measured ones only)."""
    cells = [r.c.pair_both, r.c.pair_http_only, r.c.pair_ping_only, r.c.pair_neither]
    found = []
    for label, start, end in buckets:
        query = (
            sa.select(r.c.target_pk, *(sa.func.sum(cell) for cell in cells))
            .where(*where(r, threat, target_pk, start, end))
            .group_by(r.c.target_pk)
            .having(sa.func.sum(sum(cells, sa.literal(0))) > 0)
        )
        found += [(label, row[0], *(int(v) for v in row[1:])) for row in conn.execute(query)]
    return found


def rolled_span(
    conn: sa.Connection, threat: str | None, target_pk: int | None, start: dt.datetime | None, end: dt.datetime | None
) -> tuple[dt.datetime, dt.datetime] | None:
    """The first and last observation summarised by the rollups in scope: read on the first and the last day only
    (found through the (threat_id, day_start) index)."""
    clauses = where(r, threat, target_pk, start, end)
    first_day = sa.select(sa.func.min(r.c.day_start)).where(*clauses).scalar_subquery()
    last_day = sa.select(sa.func.max(r.c.day_start)).where(*clauses).scalar_subquery()
    first = sa.select(sa.func.min(r.c.first_at)).where(*clauses, r.c.day_start == first_day).scalar_subquery()
    last = sa.select(sa.func.max(r.c.last_at)).where(*clauses, r.c.day_start == last_day).scalar_subquery()
    row = conn.execute(sa.select(first, last)).one()
    return None if row[0] is None else (row[0], row[1])


def rolled_windows(
    conn: sa.Connection, threats: Sequence[str], start: dt.datetime, end: dt.datetime
) -> list[tuple[int, int, int, dt.datetime | None, dt.datetime]]:
    """Per destination: ``(target_pk, observations, answered, last answer, last observation)`` of the rolled-up days
    starting inside ``[start, end]`` (a window is counted in whole days here)."""
    query = (
        sa.select(
            r.c.target_pk,
            sa.func.sum(r.c.observations),
            sa.func.sum(r.c.answered),
            sa.func.max(r.c.last_answer_at),
            sa.func.max(r.c.last_at),
        )
        .where(r.c.threat_id.in_(list(threats)), r.c.day_start >= start, r.c.day_start <= end)
        .group_by(r.c.target_pk)
    )
    return [(row[0], int(row[1]), int(row[2]), row[3], row[4]) for row in conn.execute(query)]


class RolledRun(NamedTuple):
    """A status run of a rolled-up day; times in epoch seconds, ``loss`` the day's mean ping loss (%)."""

    target_pk: int
    observer_pk: int
    state: int
    first: int
    last: int
    observations: int
    loss: float | None

    def span(self) -> tuple[int, int, int, dt.datetime, dt.datetime, int]:
        """As :class:`c2watch.store.queries.Run` holds it."""
        first, last = dt.datetime.fromtimestamp(self.first, dt.UTC), dt.datetime.fromtimestamp(self.last, dt.UTC)
        return self.target_pk, self.observer_pk, self.state, first, last, self.observations


def rolled_runs(
    conn: sa.Connection, threat: str | None, target_pk: int | None, start: dt.datetime | None, end: dt.datetime | None
) -> list[RolledRun]:
    """Runs of the rolled-up days in scope, by destination, observer and time (one query, its plain values read
    straight from the driver's cursor, the runs parsed from their text)."""
    loss = r.c.ping_loss_sum / sa.func.nullif(r.c.ping_loss_n, 0)
    query = sa.select(r.c.target_pk, r.c.observer_pk, epoch(r.c.day_start), r.c.runs, loss).where(
        *where(r, threat, target_pk, start, end)
    )
    result = conn.execute(query)
    try:
        rows = result.cursor.fetchall()
    finally:
        result.close()
    runs = []
    for target, observer, day, text, mean in rows:
        for token in text.split():
            state, count, first, last = map(int, token.split(":"))
            runs.append(RolledRun(target, observer, state, day + first, day + last, count, mean))
    runs.sort(key=lambda run: (run.target_pk, run.observer_pk, run.first))
    return runs


def points_of(runs: Iterable[RolledRun]) -> list[tuple[int, int, int, int | None, float | None]]:
    """Chart points of rolled-up days: each run at its first and last observation, with its status (``None``: no
    answer) and the day's mean loss; in the order of ``runs``, as :func:`c2watch.store.queries.points`."""
    points: list[tuple[int, int, int, int | None, float | None]] = []
    for run in runs:
        status = None if run.state < 0 else run.state
        loss = None if run.loss is None else round(float(run.loss), 1)
        points.append((run.target_pk, run.observer_pk, run.first, status, loss))
        if run.last != run.first:
            points.append((run.target_pk, run.observer_pk, run.last, status, loss))
    return points
