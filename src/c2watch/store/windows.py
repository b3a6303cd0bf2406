"""The recent window the verdicts and events read: blocking streaks, status and TTL changes, revivals.

Each query reads only the ``[since, now]`` range of the observations, through the ``(threat_id, observed_at)``
index, or, for one page of destinations (a :class:`~c2watch.store.answers.Span`), through the
``(target_pk, observed_at)`` index.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, NamedTuple

import sqlalchemy as sa

from c2watch.store.answers import Span, answered_any, chunks, counted
from c2watch.store.queries import epoch
from c2watch.store.tables import observations, targets, threats

__all__ = [
    "Change",
    "Revival",
    "Streak",
    "blocking_streaks",
    "changes",
    "healthy_windows",
    "last_answers_before",
    "revival_candidates",
]

o = observations

_MAX_NAMED = 5000


def _recent(
    conn: sa.Connection, since: dt.datetime, now: dt.datetime, threat: str | None, span: Span | None = None
) -> list[Any]:
    """Observations in ``(since, now]``, naming the threats so that the (threat_id, observed_at) index serves (up to
    ``_MAX_NAMED`` threats; beyond that a list of names costs more than it saves). Of the destinations in ``span``
    when given: each of their ids is sought in the (target_pk, observed_at) index, so a page reads its own rows."""
    window = [o.c.observed_at > since, o.c.observed_at <= now, counted()]
    if span is not None:
        named = [o.c.threat_id == threat] if threat is not None else []
        return [_in_span(conn, span), *named, *window]
    names = [threat] if threat is not None else list(conn.execute(sa.select(threats.c.threat_id)).scalars())
    named = [o.c.threat_id.in_(names)] if len(names) <= _MAX_NAMED else []
    return [*named, *window]


def _in_span(conn: sa.Connection, span: Span) -> sa.ColumnElement[bool]:
    """Observations of the destinations in ``span``, through the (target_pk, observed_at) index: PostgreSQL scans the
    id range in the index, with the time range as index condition; SQLite seeks each id of the range (a range on
    the index's first column would read every row of those destinations, however old)."""
    if conn.dialect.name == "postgresql":
        return o.c.target_pk.between(*span)
    return o.c.target_pk.in_(sa.select(targets.c.id).where(targets.c.id.between(*span)))


def _window_number(origin: int, window_seconds: int) -> sa.Label[Any]:
    """The window an observation falls in: whole ``window_seconds`` since ``origin`` (epoch seconds). The two
    numbers are written into the SQL (they are ours, not input) so that GROUP BY matches the selected expression."""
    start: sa.ColumnClause[int] = sa.literal_column(str(int(origin)), sa.BigInteger())
    width: sa.ColumnClause[int] = sa.literal_column(str(int(window_seconds)), sa.BigInteger())
    return ((epoch(o.c.observed_at) - start) // width).label("w")


class Streak(NamedTuple):
    """Windows in which ``observer_pk`` got no answer from a destination that answered another observer, counted
    since its last answer; only windows in which the observer got an answer from some other destination count."""

    target_pk: int
    observer_pk: int
    windows: int
    first_window: int
    last_window: int


def blocking_streaks(
    conn: sa.Connection,
    since: dt.datetime,
    now: dt.datetime,
    probes: Sequence[str],
    origin: int,
    window_seconds: int,
    threat: str | None = None,
    span: Span | None = None,
    healthy: Sequence[tuple[int, int]] | None = None,
) -> list[Streak]:
    """Per (destination, observer) with at least one contested window in ``(since, now]`` (windows numbered from
    ``origin``, in epoch seconds). One grouping of the recent rows per (destination, observer, window), then window
    functions over it (no self-joins: PostgreSQL would nest loops over them).

    An observer's health in a window is judged on every destination: read here, unless ``healthy`` gives it (the
    (observer, window) pairs of :func:`healthy_windows`, read once for every page of destinations in ``span``)."""
    if healthy is not None and not healthy:
        return []  # no observer got any answer: no window counts
    number = _window_number(origin, window_seconds)
    answer = sa.func.max(sa.case((answered_any(probes), 1), else_=0)).label("ans")
    tow = (
        sa.select(o.c.target_pk, o.c.observer_pk, number, answer)
        .where(*_recent(conn, since, now, threat, span))
        .group_by(o.c.target_pk, o.c.observer_pk, number)
        .subquery("tow")
    )
    columns: list[Any] = [
        tow.c.target_pk,
        tow.c.observer_pk,
        tow.c.w,
        tow.c.ans,
        sa.func.sum(tow.c.ans).over(partition_by=(tow.c.target_pk, tow.c.w)).label("answered"),
        sa.func.max(sa.case((tow.c.ans == 1, tow.c.w)))
        .over(partition_by=(tow.c.target_pk, tow.c.observer_pk))
        .label("last_w"),
    ]
    source: Any = tow
    if healthy is None and threat is None:
        columns.append(sa.func.max(tow.c.ans).over(partition_by=(tow.c.observer_pk, tow.c.w)).label("healthy"))
    elif healthy is None:  # an observer's health is judged on every destination, not one threat's
        ow = _observer_health(conn, since, now, probes, origin, window_seconds).subquery("ow")
        source = tow.join(ow, sa.and_(ow.c.observer_pk == tow.c.observer_pk, ow.c.w == tow.c.w))
        columns.append(ow.c.healthy)
    marked = sa.select(*columns).select_from(source).subquery("marked")
    m = marked.c
    is_healthy = m.healthy == 1 if healthy is None else sa.tuple_(m.observer_pk, m.w).in_(list(healthy))
    query = (
        sa.select(m.target_pk, m.observer_pk, sa.func.count(), sa.func.min(m.w), sa.func.max(m.w))
        .where(m.ans == 0, m.answered > 0, is_healthy, sa.or_(m.last_w.is_(None), m.w > m.last_w))
        .group_by(m.target_pk, m.observer_pk)
    )
    return [Streak(*(int(value) for value in row)) for row in conn.execute(query)]


def _observer_health(
    conn: sa.Connection, since: dt.datetime, now: dt.datetime, probes: Sequence[str], origin: int, window_seconds: int
) -> sa.Select[Any]:
    number = _window_number(origin, window_seconds)
    healthy = sa.func.max(sa.case((answered_any(probes), 1), else_=0)).label("healthy")
    return (
        sa.select(o.c.observer_pk, number, healthy)
        .where(*_recent(conn, since, now, None))
        .group_by(o.c.observer_pk, number)
    )


def healthy_windows(
    conn: sa.Connection, since: dt.datetime, now: dt.datetime, probes: Sequence[str], origin: int, window_seconds: int
) -> list[tuple[int, int]]:
    """The (observer, window) pairs in ``(since, now]`` in which the observer got an answer from some destination:
    the windows that may count towards a blocking streak."""
    health = _observer_health(conn, since, now, probes, origin, window_seconds).subquery("ow")
    query = (
        sa.select(health.c.observer_pk, health.c.w)
        .where(health.c.healthy == 1)
        .order_by(health.c.observer_pk, health.c.w)
    )
    return [(int(observer), int(window)) for observer, window in conn.execute(query)]


class Change(NamedTuple):
    """Two consecutive observations of one destination by one observer that differ in ``kind``."""

    kind: str
    target_pk: int
    observer_pk: int
    previous_at: dt.datetime
    at: dt.datetime
    before: str
    after: str
    http_status: int | None


def _changes_of(
    conn: sa.Connection,
    kind: str,
    value: sa.ColumnElement[Any],
    recent: list[Any],
    partition: Sequence[sa.ColumnElement[Any]],
    tolerance: int | None = None,
) -> list[Change]:
    order = (o.c.observed_at, o.c.id)
    numbered = (
        sa.select(
            o.c.target_pk,
            o.c.observer_pk,
            o.c.observed_at,
            o.c.http_status,
            value.label("value"),
            sa.func.lag(value).over(partition_by=partition, order_by=order).label("prev"),
            sa.func.lag(o.c.observed_at, type_=o.c.observed_at.type)
            .over(partition_by=partition, order_by=order)
            .label("prev_at"),
        )
        .where(*recent, value.is_not(None))
        .subquery()
    )
    differs = (
        numbered.c.prev != numbered.c.value
        if tolerance is None
        else sa.func.abs(numbered.c.value - numbered.c.prev) > tolerance
    )
    query = (
        sa.select(numbered)
        .where(numbered.c.prev.is_not(None), differs)
        .order_by(numbered.c.target_pk, numbered.c.observed_at)
    )
    return [
        Change(kind, r.target_pk, r.observer_pk, r.prev_at, r.observed_at, str(r.prev), str(r.value), r.http_status)
        for r in conn.execute(query)
    ]


def changes(
    conn: sa.Connection,
    since: dt.datetime,
    now: dt.datetime,
    ttl_tolerance: int,
    threat: str | None = None,
    span: Span | None = None,
) -> list[Change]:
    """Status-code, body, certificate and TTL changes in ``(since, now]``, per observer (window functions); of the
    destinations in ``span`` when given."""
    recent = _recent(conn, since, now, threat, span)
    series = (o.c.target_pk, o.c.observer_pk)
    found = _changes_of(conn, "status-changed", o.c.http_status, recent, series)
    body_recent = [*recent, o.c.http_status.is_not(None)]  # bodies are compared within one status code
    found += _changes_of(conn, "body-changed", o.c.http_body_sha256, body_recent, (*series, o.c.http_status))
    found += _changes_of(conn, "certificate-changed", o.c.tls_cert_sha256, recent, series)
    found += _changes_of(conn, "ttl-changed", o.c.ping_ttl, recent, series, ttl_tolerance)
    return found


class Revival(NamedTuple):
    """An answer after ``silent`` observations without one (counted inside the window); ``previous_at`` is the
    answer before it inside the window, if any."""

    target_pk: int
    observer_pk: int
    at: dt.datetime
    http_status: int | None
    previous_at: dt.datetime | None
    silent: int


def revival_candidates(
    conn: sa.Connection,
    since: dt.datetime,
    now: dt.datetime,
    probes: Sequence[str],
    min_silent: int,
    threat: str | None = None,
    span: Span | None = None,
) -> list[Revival]:
    """Answers in ``(since, now]`` preceded, across every observer, by at least ``min_silent`` observations without
    an answer (the gap in time is the caller's to judge); of the destinations in ``span`` when given."""
    ordering = (o.c.observed_at, o.c.id)
    numbered = (
        sa.select(
            o.c.target_pk,
            o.c.observer_pk,
            o.c.observed_at,
            o.c.http_status,
            sa.case((answered_any(probes), 1), else_=0).label("ans"),
            sa.func.row_number().over(partition_by=o.c.target_pk, order_by=ordering).label("rn"),
        )
        .where(*_recent(conn, since, now, threat, span))
        .subquery()
    )
    lag_at = sa.func.lag(numbered.c.observed_at, type_=o.c.observed_at.type).over(
        partition_by=numbered.c.target_pk, order_by=numbered.c.rn
    )
    lag_rn = sa.func.lag(numbered.c.rn).over(partition_by=numbered.c.target_pk, order_by=numbered.c.rn)
    answers = (
        sa.select(numbered, lag_at.label("prev_at"), lag_rn.label("prev_rn")).where(numbered.c.ans == 1).subquery()
    )
    silent = answers.c.rn - sa.func.coalesce(answers.c.prev_rn, 0) - 1
    query = (
        sa.select(
            answers.c.target_pk,
            answers.c.observer_pk,
            answers.c.observed_at,
            answers.c.http_status,
            answers.c.prev_at,
            silent,
        )
        .where(silent >= min_silent)
        .order_by(answers.c.target_pk, answers.c.observed_at)
    )
    return [Revival(*row) for row in conn.execute(query)]


def last_answers_before(
    conn: sa.Connection, target_pks: Sequence[int], before: dt.datetime, probes: Sequence[str]
) -> dict[int, dt.datetime]:
    """The last answer before ``before`` of each of ``target_pks`` that has one (the (target, time) index serves)."""
    found: dict[int, dt.datetime] = {}
    for chunk in chunks(list(target_pks)):
        query = (
            sa.select(o.c.target_pk, sa.func.max(o.c.observed_at))
            .where(o.c.target_pk.in_(chunk), o.c.observed_at <= before, answered_any(probes))
            .group_by(o.c.target_pk)
        )
        found.update({row[0]: row[1] for row in conn.execute(query)})
    return found
