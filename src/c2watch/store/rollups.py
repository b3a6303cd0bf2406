"""Daily rollups: what the reports and the dashboard need of observations whose raw rows retention removed.

One ``daily_rollups`` row per destination, observer and local day (in the report zone; ``day_start`` is the
day's first instant in UTC): observations, HTTP answers, first and last observation and last answer, ping sums
(echoes sent and received, loss and RTT sums with their counts), the HTTP x ping 2x2 cells, counts per outcome,
and ``runs``: the day's runs of one HTTP status, so that status counts (the pie), status changes, phases and the
per-destination table survive exactly. ``runs`` is text, one ``state:count:first:last`` token per run (state
``-1``: no answer; first and last observation in seconds after ``day_start``), space-separated, in any order.

Every observation is counted either as a raw row or in a rollup, never both: a rollup is written in the same
transaction that deletes (or drops the partition of) the rows it summarises. Rows arriving later for a rolled-up
day are raw rows until the next retention run adds them to the same day (counts added, times and runs merged).

One statement computes it all: the rows are read once, sorted once for the runs (window functions), grouped by
run, then by day.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from c2watch.store.sqlfuncs import epoch, string_agg
from c2watch.store.tables import UTCDateTime, daily_rollups

__all__ = ["NO_ANSWER", "OUTCOME_COLUMNS", "Source", "merge_runs", "pg_day_start", "roll_up", "roll_up_counting"]

r = daily_rollups

#: Observation outcome -> its count column (any other outcome is counted in ``out_other``).
OUTCOME_COLUMNS = {
    "responding": "out_responding",
    "ping-only": "out_ping_only",
    "silent": "out_silent",
    "dns-failed": "out_dns_failed",
    "refused-by-guard": "out_refused_by_guard",
    "error": "out_error",
}
NO_ANSWER = -1
_KEYS = ("target_pk", "observer_pk", "day_start", "zone", "threat_id", "first_at", "last_at", "last_answer_at", "runs")
#: The columns a merge adds up.
_ADDED = [c.name for c in r.columns if c.name not in _KEYS]


class Source(NamedTuple):
    """Rows to roll up: those of ``table`` (``observations`` or one of its partitions) matching ``where``, each in
    the day ``day`` gives (an expression of ``observed_at``, or one day's start as a constant)."""

    table: sa.Table
    where: Sequence[sa.ColumnElement[bool]]
    day: sa.ColumnElement[Any]


def pg_day_start(column: sa.ColumnElement[Any], zone: str) -> sa.ColumnElement[Any]:
    """PostgreSQL: the first instant (UTC) of the local day in ``zone`` holding the UTC timestamp ``column``."""
    local = sa.func.timezone(zone, sa.func.timezone("UTC", column))
    return sa.func.timezone("UTC", sa.func.timezone(zone, sa.func.date_trunc("day", local)), type_=UTCDateTime())


def _numbered(source: Source) -> sa.Subquery:
    """The rows of ``source`` with their day, state (HTTP status or ``-1``) and run number within the day."""
    t = source.table.c
    state = sa.func.coalesce(t.http_status, NO_ANSWER)
    day = source.day.label("day_start")
    series = (t.target_pk, t.observer_pk, source.day)
    previous = sa.func.lag(state).over(partition_by=series, order_by=(t.observed_at, t.id))
    columns = [t.target_pk, t.observer_pk, t.threat_id, t.observed_at, t.id, t.http_status, t.outcome]
    columns += [t.http_outcome, t.ping_sent, t.ping_received, t.ping_loss_pct, t.ping_rtt_avg_ms]
    new = sa.case((state == previous, 0), else_=1).label("new")
    marked = sa.select(*columns, day, state.label("state"), new).where(*source.where).subquery("marked")
    m = marked.c
    run = sa.func.sum(m.new).over(
        partition_by=(m.target_pk, m.observer_pk, m.day_start), order_by=(m.observed_at, m.id), rows=(None, 0)
    )
    return sa.select(*marked.c, run.label("run")).subquery("numbered")


def _count(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[Any]:
    return sa.func.sum(sa.case((condition, 1), else_=0))


def _per_run(source: Source) -> sa.Subquery:
    """One row per run: its state, times, and the sums of its observations."""
    n = _numbered(source).c
    http, ping = n.http_status.is_not(None), n.ping_received > 0
    measured = sa.and_(n.http_outcome.is_not(None), n.ping_sent > 0, n.ping_received.is_not(None))
    sums: dict[str, sa.ColumnElement[Any]] = {
        "observations": sa.func.count(),
        "answered": sa.func.count(n.http_status),
        "first_at": sa.func.min(n.observed_at),
        "last_at": sa.func.max(n.observed_at),
        "last_answer_at": sa.func.max(sa.case((http, n.observed_at))),
        "ping_sent": sa.func.coalesce(sa.func.sum(n.ping_sent), 0),
        "ping_received": sa.func.coalesce(sa.func.sum(n.ping_received), 0),
        "ping_replied": _count(ping),
        "ping_loss_n": sa.func.count(n.ping_loss_pct),
        "ping_loss_sum": sa.func.coalesce(sa.func.sum(n.ping_loss_pct), 0.0),
        "rtt_n": sa.func.count(n.ping_rtt_avg_ms),
        "rtt_sum": sa.func.coalesce(sa.func.sum(n.ping_rtt_avg_ms), 0.0),
        "pair_both": _count(sa.and_(measured, http, ping)),
        "pair_http_only": _count(sa.and_(measured, http, ~ping)),
        "pair_ping_only": _count(sa.and_(measured, ~http, ping)),
        "pair_neither": _count(sa.and_(measured, ~http, ~ping)),
        **{column: _count(n.outcome == outcome) for outcome, column in OUTCOME_COLUMNS.items()},
        "out_other": _count(n.outcome.not_in(list(OUTCOME_COLUMNS))),
    }
    keys = (n.target_pk, n.observer_pk, n.day_start, n.run)
    labelled = [value.label(name) for name, value in sums.items()]
    threat = sa.func.min(n.threat_id).label("threat_id")
    state = sa.func.min(n.state).label("state")
    return sa.select(*keys, threat, state, *labelled).group_by(*keys).subquery("per_run")


def _token(p: Any) -> sa.ColumnElement[str]:
    """``state:count:first:last`` of one run (times in seconds after the day's start)."""
    start = epoch(p.day_start)
    parts = [p.state, p.observations, epoch(p.first_at) - start, epoch(p.last_at) - start]
    text: sa.ColumnElement[str] = sa.cast(parts[0], sa.String())
    for part in parts[1:]:
        text = text + ":" + sa.cast(part, sa.String())
    return text


def _daily_select(source: Source, zone: str) -> sa.Select[Any]:
    """One row per destination, observer and day of ``source``, in the columns of ``daily_rollups``."""
    p = _per_run(source).c
    values: dict[str, sa.ColumnElement[Any]] = {
        "target_pk": p.target_pk,
        "observer_pk": p.observer_pk,
        "day_start": p.day_start,
        "zone": sa.literal(zone, sa.String()),
        "threat_id": sa.func.min(p.threat_id),
        "first_at": sa.func.min(p.first_at),
        "last_at": sa.func.max(p.last_at),
        "last_answer_at": sa.func.max(p.last_answer_at),
        "runs": string_agg(_token(p), sa.literal(" ", sa.String())),
        **{name: sa.func.sum(p[name]) for name in _ADDED},
    }
    return (
        sa.select(*(value.label(name) for name, value in values.items()))
        .where(sa.true())  # SQLite reads ON CONFLICT after a bare FROM as a join constraint
        .group_by(p.target_pk, p.observer_pk, p.day_start)
    )


def _insert(conn: sa.Connection) -> Any:
    return (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(r)


def _later(a: Any, b: Any) -> Any:
    """The later of two nullable instants."""
    return sa.case((a.is_(None), b), (b.is_(None), a), (a > b, a), else_=b)


def _upsert(conn: sa.Connection, select: sa.Select[Any]) -> Any:
    """INSERT … SELECT of daily rows; a day already rolled up (rows that came late, or a day split between two
    partitions) gets the new counts added, its times widened and its runs appended."""
    stmt = _insert(conn).from_select([c.name for c in select.selected_columns], select)
    new = stmt.excluded
    postgres = conn.dialect.name == "postgresql"
    merged: dict[str, Any] = {name: r.c[name] + new[name] for name in _ADDED}
    merged["first_at"] = (sa.func.least if postgres else sa.func.min)(r.c.first_at, new.first_at)
    merged["last_at"] = (sa.func.greatest if postgres else sa.func.max)(r.c.last_at, new.last_at)
    merged["last_answer_at"] = _later(r.c.last_answer_at, new.last_answer_at)
    merged["runs"] = r.c.runs + " " + new.runs
    return stmt.on_conflict_do_update(index_elements=[r.c.day_start, r.c.target_pk, r.c.observer_pk], set_=merged)


def roll_up(conn: sa.Connection, source: Source, zone: str) -> None:
    """Add the rows of ``source`` to the rollups (the caller removes them in the same transaction)."""
    conn.execute(_upsert(conn, _daily_select(source, zone)))


def roll_up_counting(conn: sa.Connection, source: Source, zone: str) -> int:
    """PostgreSQL: :func:`roll_up` in one statement that also returns how many observations it summarised."""
    days = _daily_select(source, zone).cte("days")
    written = _upsert(conn, sa.select(days)).returning(r.c.day_start).cte("written")
    total = sa.select(sa.func.coalesce(sa.func.sum(days.c.observations), 0)).add_cte(written)
    return int(conn.execute(total).scalar_one())


# --- reading: runs of raw rows and of rollups, merged ---


def merge_runs(*sources: Iterable[Any]) -> list[Any]:
    """Runs of several sources (raw rows, rollups) per destination and observer in time order, with neighbours of
    the same state joined. Items are ``Run``-shaped tuples; the result keeps the type of the first of each join."""
    runs = sorted((run for source in sources for run in source), key=lambda x: (x[0], x[1], x[3]))
    merged: list[Any] = []
    for run in runs:
        last = merged[-1] if merged else None
        if last is not None and (last[0], last[1], last[2]) == (run[0], run[1], run[2]):
            merged[-1] = last._replace(last_at=max(last[4], run[4]), observations=last[5] + run[5])
        else:
            merged.append(run)
    return merged
