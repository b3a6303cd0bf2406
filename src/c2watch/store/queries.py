"""Read queries for reports and the dashboard: aggregation runs in the database (SQLite and PostgreSQL alike).

Each function takes a connection and plain values (UTC datetimes, threat IDs, row ids) and returns small typed rows;
calendar months and zones are the caller's business: a month arrives as ``(label, start, end)`` in UTC.

Counts, spans, windows and status runs add what the daily rollups hold (:mod:`c2watch.store.rollup_reads`) to what
the raw rows give, so they stay the same after retention has replaced old rows by rollups. :func:`points` and
:func:`revivals` read raw rows only (the month view adds the rollups' day points itself).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

import sqlalchemy as sa

from c2watch.store import rollup_reads as rolled
from c2watch.store.rollups import merge_runs
from c2watch.store.sqlfuncs import epoch
from c2watch.store.tables import observations, observers, threats

__all__ = [
    "Bucket",
    "MonthlyCount",
    "Pairing",
    "Point",
    "Revival",
    "Run",
    "Scope",
    "TargetWindow",
    "epoch",
    "monthly_counts",
    "observer_names",
    "pairings",
    "points",
    "revivals",
    "span",
    "status_runs",
    "target_windows",
]

o = observations

#: A month (or any period) as ``(label, start, end)``: ``[start, end)`` in UTC.
Bucket = tuple[str, dt.datetime, dt.datetime]


class Scope(NamedTuple):
    """Which observations: of one threat and/or one destination, inside ``[start, end)`` when given."""

    threat: str | None = None
    target_pk: int | None = None
    start: dt.datetime | None = None
    end: dt.datetime | None = None

    def where(self) -> list[sa.ColumnElement[bool]]:
        clauses: list[sa.ColumnElement[bool]] = []
        if self.threat is not None:
            clauses.append(o.c.threat_id == self.threat)
        if self.target_pk is not None:
            clauses.append(o.c.target_pk == self.target_pk)
        if self.start is not None:
            clauses.append(o.c.observed_at >= self.start)
        if self.end is not None:
            clauses.append(o.c.observed_at < self.end)
        return clauses


def _indexed(conn: sa.Connection, scope: Scope) -> list[sa.ColumnElement[bool]]:
    """The scope's clauses, naming every threat when none is given so that an index on (threat_id, time) serves."""
    if scope.threat is None and scope.target_pk is None:
        known = list(conn.execute(sa.select(threats.c.threat_id)).scalars())
        return [o.c.threat_id.in_(known), *scope.where()]
    return scope.where()


def _per_bucket(
    conn: sa.Connection,
    scope: Scope,
    buckets: Sequence[Bucket],
    keys: Sequence[sa.ColumnElement[Any]],
    values: Sequence[sa.ColumnElement[Any]],
    *where: sa.ColumnElement[bool],
) -> Iterator[tuple[str, sa.Row[Any]]]:
    """One grouped query per bucket: an index range scan each, streamed in index order (no sort of every row)."""
    for label, start, end in buckets:
        clauses = _indexed(conn, scope._replace(start=start, end=end))
        query = sa.select(*keys, *values).where(*clauses, *where).group_by(*keys).order_by(*keys)
        for row in conn.execute(query).all():
            yield label, row


class MonthlyCount(NamedTuple):
    threat_id: str
    target_pk: int | None
    bucket: str
    observations: int
    answered: int


def monthly_counts(
    conn: sa.Connection, scope: Scope, buckets: Sequence[Bucket], by_target: bool = False
) -> list[MonthlyCount]:
    """Observations and those with any HTTP answer (``http_status`` set), per threat (or destination) and bucket."""
    keys = [o.c.threat_id, *([o.c.target_pk] if by_target else [])]
    values = [sa.func.count().label("n"), sa.func.count(o.c.http_status).label("answered")]
    cells: dict[tuple[str, str, int | None], list[int]] = {}
    for label, row in _per_bucket(conn, scope, buckets, keys, values):
        cells[(label, row.threat_id, row.target_pk if by_target else None)] = [int(row.n), int(row.answered)]
    for label, threat, target_pk, n, answered in rolled.bucket_counts(
        conn, scope.threat, scope.target_pk, buckets, by_target
    ):
        cell = cells.setdefault((label, threat, target_pk), [0, 0])
        cell[0], cell[1] = cell[0] + n, cell[1] + answered
    order = {label: index for index, (label, _start, _end) in enumerate(buckets)}
    keyed = sorted(cells.items(), key=lambda item: (order[item[0][0]], item[0][1], item[0][2] or 0))
    return [MonthlyCount(threat, target_pk, label, n, answered) for (label, threat, target_pk), (n, answered) in keyed]


class Pairing(NamedTuple):
    """HTTP answer x ping reply counts of one destination in one bucket (only observations with both probes)."""

    target_pk: int
    bucket: str
    both: int
    http_only: int
    ping_only: int
    neither: int


def pairings(conn: sa.Connection, scope: Scope, buckets: Sequence[Bucket]) -> list[Pairing]:
    http = o.c.http_status.is_not(None)
    ping = o.c.ping_received > 0
    cells = [
        sa.func.sum(sa.case((condition, 1), else_=0)).label(f"c{index}")
        for index, condition in enumerate(
            (sa.and_(http, ping), sa.and_(http, ~ping), sa.and_(~http, ping), sa.and_(~http, ~ping))
        )
    ]
    measured = (o.c.http_outcome.is_not(None), o.c.ping_sent > 0, o.c.ping_received.is_not(None))
    found: dict[tuple[str, int], list[int]] = {}
    for label, row in _per_bucket(conn, scope, buckets, [o.c.target_pk], cells, *measured):
        found[(label, row.target_pk)] = [int(row.c0), int(row.c1), int(row.c2), int(row.c3)]
    for label, target_pk, *counts in rolled.bucket_pairings(conn, scope.threat, scope.target_pk, buckets):
        totals = found.setdefault((label, target_pk), [0, 0, 0, 0])
        totals[:] = [a + b for a, b in zip(totals, counts, strict=True)]
    order = {label: index for index, (label, _start, _end) in enumerate(buckets)}
    keyed = sorted(found.items(), key=lambda item: (order[item[0][0]], item[0][1]))
    return [Pairing(target_pk, label, *counts) for (label, target_pk), counts in keyed]


#: A chart point: (target_pk, observer_pk, epoch seconds, http_status, ping_loss_pct).
Point = tuple[int, int, int, int | None, float | None]


def points(conn: sa.Connection, scope: Scope) -> list[Point]:
    """Every observation of ``scope`` as a chart point, ordered by destination, observer and time.

    Tens of thousands of rows of plain ints and floats: they are read from the driver's cursor as they come
    (no per-row result processing is needed for these types), which halves the time of a month view.
    """
    query = (
        sa.select(o.c.target_pk, o.c.observer_pk, epoch(o.c.observed_at), o.c.http_status, o.c.ping_loss_pct)
        .where(*scope.where())
        .order_by(o.c.target_pk, o.c.observer_pk, o.c.observed_at)
    )
    result = conn.execute(query)
    try:
        rows: list[Point] = list(result.cursor.fetchall())
    finally:
        result.close()
    return rows


class Run(NamedTuple):
    """Consecutive observations of one destination by one observer with the same HTTP status (-1: no answer)."""

    target_pk: int
    observer_pk: int
    state: int
    first_at: dt.datetime
    last_at: dt.datetime
    observations: int


def status_runs(conn: sa.Connection, scope: Scope) -> list[Run]:
    """Runs of equal HTTP status per destination and observer (gaps and islands with window functions), with the
    runs of rolled-up days joined in."""
    state = sa.func.coalesce(o.c.http_status, -1)
    series = (o.c.target_pk, o.c.observer_pk)
    previous = sa.func.lag(state).over(partition_by=series, order_by=(o.c.observed_at, o.c.id))
    marked = (
        sa.select(
            *series,
            o.c.id,
            o.c.observed_at,
            state.label("state"),
            sa.case((state == previous, 0), else_=1).label("new"),
        )
        .where(*scope.where())
        .subquery()
    )
    run_no = sa.func.sum(marked.c.new).over(
        partition_by=(marked.c.target_pk, marked.c.observer_pk),
        order_by=(marked.c.observed_at, marked.c.id),
        rows=(None, 0),
    )
    numbered = sa.select(*marked.c, run_no.label("run")).subquery()
    keys = (numbered.c.target_pk, numbered.c.observer_pk, numbered.c.run)
    query = (
        sa.select(
            numbered.c.target_pk,
            numbered.c.observer_pk,
            sa.func.min(numbered.c.state),
            sa.func.min(numbered.c.observed_at),
            sa.func.max(numbered.c.observed_at),
            sa.func.count(),
        )
        .group_by(*keys)
        .order_by(*keys)
    )
    raw = [Run(*row) for row in conn.execute(query).all()]
    rolled_runs = [Run(*run.span()) for run in rolled.rolled_runs(conn, *scope)]
    return merge_runs(raw, rolled_runs) if rolled_runs else raw


class Revival(NamedTuple):
    """An HTTP answer after ``silent`` observations without one spanning at least the asked gap."""

    target_pk: int
    last_answer_at: dt.datetime
    answer_at: dt.datetime
    http_status: int
    silent: int


def revivals(conn: sa.Connection, scope: Scope, min_gap_seconds: int, min_silent: int) -> list[Revival]:
    """Answers preceded, across every observer, by a gap without answers (dormant, then reactivated)."""
    ordering = (o.c.observed_at, o.c.id)
    numbered = (
        sa.select(
            o.c.target_pk,
            o.c.observed_at,
            o.c.http_status,
            sa.func.row_number().over(partition_by=o.c.target_pk, order_by=ordering).label("rn"),
        )
        .where(*scope.where())
        .subquery()
    )

    def previous(column: sa.ColumnElement[Any]) -> sa.Over[Any]:
        return sa.func.lag(column, type_=column.type).over(partition_by=numbered.c.target_pk, order_by=numbered.c.rn)

    answers = (
        sa.select(
            *numbered.c, previous(numbered.c.observed_at).label("prev_at"), previous(numbered.c.rn).label("prev_rn")
        )
        .where(numbered.c.http_status.is_not(None))
        .subquery()
    )
    gap = epoch(answers.c.observed_at) - epoch(answers.c.prev_at)
    silent = answers.c.rn - answers.c.prev_rn - 1
    query = (
        sa.select(answers.c.target_pk, answers.c.prev_at, answers.c.observed_at, answers.c.http_status, silent)
        .where(answers.c.prev_at.is_not(None), gap >= min_gap_seconds, silent >= min_silent)
        .order_by(answers.c.target_pk, answers.c.observed_at)
    )
    return [Revival(*row) for row in conn.execute(query).all()]


class TargetWindow(NamedTuple):
    """One destination's observations in a window: how many, how many answered, the last answer and the last."""

    target_pk: int
    observations: int
    answered: int
    last_answer_at: dt.datetime | None
    last_seen_at: dt.datetime


def target_windows(
    conn: sa.Connection, threats: Sequence[str], start: dt.datetime, end: dt.datetime
) -> list[TargetWindow]:
    """Per destination of ``threats``: counts inside ``[start, end]`` (one indexed range scan per threat); rolled-up
    days count when they start inside the window."""
    if not threats:
        return []
    answered_at = sa.case((o.c.http_status.is_not(None), o.c.observed_at))
    query = (
        sa.select(
            o.c.target_pk,
            sa.func.count(),
            sa.func.count(o.c.http_status),
            sa.func.max(answered_at),
            sa.func.max(o.c.observed_at),
        )
        .where(o.c.threat_id.in_(threats), o.c.observed_at >= start, o.c.observed_at <= end)
        .group_by(o.c.target_pk)
    )
    found = {row[0]: TargetWindow(*row) for row in conn.execute(query).all()}
    for target_pk, n, answered, last_answer_at, last_seen_at in rolled.rolled_windows(conn, threats, start, end):
        raw = found.get(target_pk)
        if raw is None:
            found[target_pk] = TargetWindow(target_pk, n, answered, last_answer_at, last_seen_at)
            continue
        answers = [at for at in (raw.last_answer_at, last_answer_at) if at is not None]
        found[target_pk] = TargetWindow(
            target_pk,
            raw.observations + n,
            raw.answered + answered,
            max(answers) if answers else None,
            max(raw.last_seen_at, last_seen_at),
        )
    return list(found.values())


def span(conn: sa.Connection, scope: Scope) -> tuple[dt.datetime, dt.datetime] | None:
    """The first and last observation of ``scope`` (each an index lookup; rolled-up days included), or ``None``."""
    where = scope.where()
    first = sa.select(sa.func.min(o.c.observed_at)).where(*where).scalar_subquery()
    last = sa.select(sa.func.max(o.c.observed_at)).where(*where).scalar_subquery()
    row = conn.execute(sa.select(first, last)).one()
    found = [] if row[0] is None else [(row[0], row[1])]
    summarised = rolled.rolled_span(conn, *scope)
    if summarised is not None:
        found.append(summarised)
    if not found:
        return None
    return min(f[0] for f in found), max(f[1] for f in found)


def observer_names(conn: sa.Connection) -> dict[int, str]:
    """Observer row id -> ``name`` (``name (organisation)`` when two observers share a name)."""
    rows = conn.execute(sa.select(observers.c.id, observers.c.name, observers.c.organization)).all()
    names = [row.name for row in rows]
    return {row.id: row.name if names.count(row.name) == 1 else f"{row.name} ({row.organization})" for row in rows}
