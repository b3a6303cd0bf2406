"""Read queries for reports and the dashboard: aggregation runs in the database (SQLite and PostgreSQL alike).

Each function takes a connection and plain values (UTC datetimes, threat IDs, row ids) and returns small typed rows;
calendar months and zones are the caller's business: a month arrives as ``(label, start, end)`` in UTC.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler

from c2watch.store.tables import observations, observers

__all__ = [
    "Bucket",
    "MonthlyCount",
    "Pairing",
    "Point",
    "Revival",
    "Run",
    "Scope",
    "TargetWindow",
    "monthly_counts",
    "observer_names",
    "pairings",
    "points",
    "revivals",
    "span",
    "status_counts",
    "status_runs",
    "target_windows",
]

o = observations

#: A month (or any period) as ``(label, start, end)``: ``[start, end)`` in UTC.
Bucket = tuple[str, dt.datetime, dt.datetime]


class epoch(sa.sql.expression.FunctionElement[int]):
    """Whole seconds since 1970-01-01 UTC of a stored (UTC) datetime column."""

    type = sa.BigInteger()
    inherit_cache = True


@compiles(epoch, "sqlite")
def _epoch_sqlite(element: epoch, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(strftime('%s', {compiler.process(element.clauses, **kw)}) AS INTEGER)"


@compiles(epoch)
def _epoch_default(element: epoch, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(FLOOR(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)})) AS BIGINT)"


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


def _bucket_of(column: sa.ColumnElement[dt.datetime], buckets: Sequence[Bucket]) -> sa.ColumnElement[str]:
    """A balanced CASE tree naming the bucket of ``column``: log2(n) comparisons a row, not n."""
    if len(buckets) == 1:
        return sa.literal(buckets[0][0], sa.String)
    middle = len(buckets) // 2
    return sa.case(
        (column < buckets[middle][1], _bucket_of(column, buckets[:middle])),
        else_=_bucket_of(column, buckets[middle:]),
    )


def _bucketed(
    scope: Scope, buckets: Sequence[Bucket], columns: Sequence[sa.ColumnElement[Any]], *where: sa.ColumnElement[bool]
) -> sa.Subquery:
    bounded = scope._replace(start=buckets[0][1], end=buckets[-1][2])
    label = _bucket_of(o.c.observed_at, buckets).label("bucket")
    return sa.select(label, *columns).where(*bounded.where(), *where).subquery()


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
    if not buckets:
        return []
    rows = _bucketed(scope, buckets, (o.c.threat_id, o.c.target_pk, o.c.http_status))
    target = rows.c.target_pk if by_target else sa.null()
    keys = [rows.c.threat_id, rows.c.bucket, *([rows.c.target_pk] if by_target else [])]
    query = (
        sa.select(rows.c.threat_id, target, rows.c.bucket, sa.func.count(), sa.func.count(rows.c.http_status))
        .group_by(*keys)
        .order_by(*keys)
    )
    return [MonthlyCount(*row) for row in conn.execute(query)]


class Pairing(NamedTuple):
    """HTTP answer x ping reply counts of one destination in one bucket (only observations with both probes)."""

    target_pk: int
    bucket: str
    both: int
    http_only: int
    ping_only: int
    neither: int


def pairings(conn: sa.Connection, scope: Scope, buckets: Sequence[Bucket]) -> list[Pairing]:
    if not buckets:
        return []
    http = o.c.http_status.is_not(None)
    ping = o.c.ping_received > 0
    cell = sa.case((sa.and_(http, ping), 0), (http, 1), (ping, 2), else_=3).label("cell")
    measured = (o.c.http_outcome.is_not(None), o.c.ping_sent > 0)
    rows = _bucketed(scope, buckets, (o.c.target_pk, cell), *measured)
    cells = [sa.func.sum(sa.case((rows.c.cell == index, 1), else_=0)) for index in range(4)]
    query = (
        sa.select(rows.c.target_pk, rows.c.bucket, *cells)
        .group_by(rows.c.target_pk, rows.c.bucket)
        .order_by(rows.c.target_pk, rows.c.bucket)
    )
    return [Pairing(*row) for row in conn.execute(query)]


class Point(NamedTuple):
    target_pk: int
    observer_pk: int
    epoch: int
    http_status: int | None
    ping_loss_pct: float | None


def points(conn: sa.Connection, scope: Scope) -> list[Point]:
    """Every observation of ``scope`` as a chart point, ordered by destination, observer and time."""
    query = (
        sa.select(o.c.target_pk, o.c.observer_pk, epoch(o.c.observed_at), o.c.http_status, o.c.ping_loss_pct)
        .where(*scope.where())
        .order_by(o.c.target_pk, o.c.observer_pk, o.c.observed_at)
    )
    return [Point(*row) for row in conn.execute(query)]


def status_counts(conn: sa.Connection, scope: Scope) -> dict[int | None, int]:
    """How many observations got each HTTP status (``None``: no HTTP answer)."""
    query = sa.select(o.c.http_status, sa.func.count()).where(*scope.where()).group_by(o.c.http_status)
    return {status: int(count) for status, count in conn.execute(query)}


class Run(NamedTuple):
    """Consecutive observations of one destination by one observer with the same HTTP status (-1: no answer)."""

    target_pk: int
    observer_pk: int
    state: int
    first_at: dt.datetime
    last_at: dt.datetime
    observations: int


def status_runs(conn: sa.Connection, scope: Scope) -> list[Run]:
    """Runs of equal HTTP status per destination and observer (gaps and islands with window functions)."""
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
    return [Run(*row) for row in conn.execute(query)]


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
    return [Revival(*row) for row in conn.execute(query)]


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
    """Per destination of ``threats``: counts inside ``[start, end]`` (one indexed range scan per threat)."""
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
    return [TargetWindow(*row) for row in conn.execute(query)]


def span(conn: sa.Connection, scope: Scope) -> tuple[dt.datetime, dt.datetime] | None:
    """The first and last observation of ``scope`` (each an index lookup), or ``None`` without any."""
    where = scope.where()
    first = sa.select(sa.func.min(o.c.observed_at)).where(*where).scalar_subquery()
    last = sa.select(sa.func.max(o.c.observed_at)).where(*where).scalar_subquery()
    row = conn.execute(sa.select(first, last)).one()
    return None if row[0] is None else (row[0], row[1])


def observer_names(conn: sa.Connection) -> dict[int, str]:
    """Observer row id -> ``name`` (``name (organisation)`` when two observers share a name)."""
    rows = conn.execute(sa.select(observers.c.id, observers.c.name, observers.c.organization)).all()
    names = [row.name for row in rows]
    return {row.id: row.name if names.count(row.name) == 1 else f"{row.name} ({row.organization})" for row in rows}
