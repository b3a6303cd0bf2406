"""PostgreSQL partitions of ``observations``: one per UTC calendar month, ``observations_pYYYYMM`` holding
``[YYYY-MM-01 00:00, next month)`` of ``observed_at``, and ``observations_default`` for anything else, so that no
row is ever refused. The hub creates the coming months ahead (see :mod:`c2watch.store.upkeep`); retention drops
whole months (:mod:`c2watch.store.retention`). SQLite keeps one plain table: every function here is PostgreSQL's.

A new month is made as a plain table, filled with the rows of its range that the DEFAULT partition holds (if any),
then attached: attaching takes only a SHARE UPDATE EXCLUSIVE lock on ``observations``, so readers and writers go on.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import NamedTuple

import sqlalchemy as sa

from c2watch.store.tables import observations

__all__ = [
    "DEFAULT",
    "Partition",
    "add_months",
    "create_partition",
    "drop_partition",
    "ensure_partitions",
    "is_partitioned",
    "list_partitions",
    "month_floor",
    "months_between",
    "partition_name",
    "partition_table",
]

PARENT = "observations"
DEFAULT = "observations_default"
_BOUNDS = re.compile(r"FROM \('([^']+)'\) TO \('([^']+)'\)")


class Partition(NamedTuple):
    """A partition and its ``[start, end)`` in UTC (both ``None`` for the DEFAULT partition)."""

    name: str
    start: dt.datetime | None
    end: dt.datetime | None

    @property
    def is_default(self) -> bool:
        return self.start is None


def month_floor(when: dt.datetime) -> dt.datetime:
    """The first instant of ``when``'s UTC month."""
    utc = when.astimezone(dt.UTC)
    return dt.datetime(utc.year, utc.month, 1, tzinfo=dt.UTC)


def add_months(start: dt.datetime, months: int) -> dt.datetime:
    index = start.year * 12 + start.month - 1 + months
    return start.replace(year=index // 12, month=index % 12 + 1)


def months_between(first: dt.datetime, last: dt.datetime) -> Iterator[dt.datetime]:
    """The UTC month starts from ``first``'s month to ``last``'s, both included."""
    month, end = month_floor(first), month_floor(last)
    while month <= end:
        yield month
        month = add_months(month, 1)


def partition_name(start: dt.datetime) -> str:
    return f"{PARENT}_p{start.year:04d}{start.month:02d}"


def partition_table(name: str) -> sa.Table:
    """A Table object for one partition (same columns as ``observations``), to build SQL on."""
    return observations.to_metadata(sa.MetaData(), name=name)


def is_partitioned(conn: sa.Connection) -> bool:
    if conn.dialect.name != "postgresql":
        return False
    kind = conn.execute(sa.text("SELECT relkind FROM pg_class WHERE oid = to_regclass(:t)"), {"t": PARENT}).scalar()
    return kind == "p"


def _utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def list_partitions(conn: sa.Connection) -> list[Partition]:
    """Every partition of ``observations``, months in time order, the DEFAULT partition last."""
    query = sa.text(
        "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
        "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass(:t)"
    )
    found = []
    for name, bound in conn.execute(query, {"t": PARENT}):
        match = _BOUNDS.search(bound or "")
        found.append(Partition(name, *((_utc(match[1]), _utc(match[2])) if match else (None, None))))
    return sorted(found, key=lambda p: (p.start is None, p.start or dt.datetime.min.replace(tzinfo=dt.UTC)))


def _literal(when: dt.datetime) -> str:
    return f"'{when.astimezone(dt.UTC).replace(tzinfo=None).isoformat(sep=' ')}'"


def _quote(conn: sa.Connection, name: str) -> str:
    return str(conn.dialect.identifier_preparer.quote(name))


def create_partition(conn: sa.Connection, start: dt.datetime, default_exists: bool = True) -> str:
    """Create the partition of ``start``'s month, moving the rows of its range out of the DEFAULT partition."""
    start = month_floor(start)
    end = add_months(start, 1)
    name = _quote(conn, partition_name(start))
    conn.execute(sa.text(f"CREATE TABLE {name} (LIKE {PARENT} INCLUDING DEFAULTS)"))
    if default_exists:
        columns = ", ".join(_quote(conn, column.name) for column in observations.columns)
        inside = "observed_at >= :start AND observed_at < :end"
        bounds = {"start": start.replace(tzinfo=None), "end": end.replace(tzinfo=None)}
        conn.execute(sa.text(f"INSERT INTO {name} ({columns}) SELECT {columns} FROM {DEFAULT} WHERE {inside}"), bounds)
        conn.execute(sa.text(f"DELETE FROM {DEFAULT} WHERE {inside}"), bounds)
    conn.execute(
        sa.text(
            f"ALTER TABLE {PARENT} ATTACH PARTITION {name} FOR VALUES FROM ({_literal(start)}) TO ({_literal(end)})"
        )
    )
    return partition_name(start)


def ensure_partitions(conn: sa.Connection, first: dt.datetime, last: dt.datetime) -> list[str]:
    """Create the monthly partitions from ``first``'s month to ``last``'s that are missing; returns their names.

    A month that would overlap an existing partition of other bounds is left alone."""
    if not is_partitioned(conn):
        return []
    existing = list_partitions(conn)
    ranges = [(p.start, p.end) for p in existing if p.start is not None and p.end is not None]
    has_default = any(p.is_default for p in existing)
    created = []
    for month in months_between(first, last):
        end = add_months(month, 1)
        if any(start < end and month < stop for start, stop in ranges):
            continue
        created.append(create_partition(conn, month, has_default))
        ranges.append((month, end))
    return created


def drop_partition(conn: sa.Connection, name: str) -> None:
    conn.execute(sa.text(f"DROP TABLE {_quote(conn, name)}"))
