"""Many observation rows in one go (each fitted to its columns before, see :mod:`c2watch.store.fit`): PostgreSQL
gets them by COPY into a temporary table shaped like ``observations`` and one ``INSERT … SELECT … ON CONFLICT DO
NOTHING`` (into the parent table, partitioned or not); SQLite by one ``executemany`` of the driver. Rows already
stored are skipped."""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from c2watch.store.pgcopy import column_text, copy_data
from c2watch.store.tables import observations

__all__ = ["complete", "insert_new_observations"]

_COLUMNS = tuple(c.name for c in observations.columns if c.name != "id")
_EMPTY_ROW: dict[str, Any] = dict.fromkeys(_COLUMNS)


def complete(row: dict[str, Any]) -> dict[str, Any]:
    """``row`` with every column of ``observations`` but the id (the ones it lacks as NULL)."""
    return {**_EMPTY_ROW, **{name: value for name, value in row.items() if name in _EMPTY_ROW}}


_FORMATTERS = [column_text(observations.c[name]) for name in _COLUMNS]
_VALUES = operator.itemgetter(*_COLUMNS)


def _copy_line(row: dict[str, Any]) -> str:
    values = _VALUES(row)
    fields = ["\\N" if value is None else text(value) for value, text in zip(values, _FORMATTERS, strict=True)]
    return "\t".join(fields) + "\n"


def _insert_sqlite(conn: sa.Connection, rows: Sequence[dict[str, Any]]) -> int:
    """One ``executemany`` of the driver with the column types' own bind processors (SQLAlchemy would build a
    parameter dict per row, a third of a pull's indexing time)."""
    processors = [observations.c[c].type.dialect_impl(conn.dialect).bind_processor(conn.dialect) for c in _COLUMNS]
    pairs = list(zip(_COLUMNS, processors, strict=True))
    params = [
        tuple(None if row[c] is None else process(row[c]) if process else row[c] for c, process in pairs)
        for row in rows
    ]
    marks = ", ".join("?" * len(_COLUMNS))
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    cursor.executemany(
        f"INSERT INTO observations ({', '.join(_COLUMNS)}) VALUES ({marks}) ON CONFLICT DO NOTHING", params
    )
    inserted = int(cursor.rowcount)
    cursor.close()
    return inserted


def _copy_postgres(conn: sa.Connection, rows: Sequence[dict[str, Any]]) -> int:
    """COPY the rows into a temporary table shaped like ``observations``, then insert the new ones."""
    columns = ", ".join(_COLUMNS)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    cursor.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS observations_incoming ON COMMIT DELETE ROWS AS "
        f"SELECT {columns} FROM observations WITH NO DATA"
    )
    cursor.execute("DELETE FROM observations_incoming")  # empty but after an earlier call in the same transaction
    copy_data(cursor, "observations_incoming", _COLUMNS, "".join([_copy_line(row) for row in rows]))
    cursor.execute(
        f"INSERT INTO observations ({columns}) SELECT {columns} FROM observations_incoming ON CONFLICT DO NOTHING"
    )
    return int(cursor.rowcount)


def insert_new_observations(conn: sa.Connection, rows: Sequence[dict[str, Any]]) -> int:
    """Insert ``rows`` (each with every column but the id, see :func:`complete`); returns how many were new."""
    if not rows:
        return 0
    if conn.dialect.name == "postgresql":
        return _copy_postgres(conn, rows)
    return _insert_sqlite(conn, rows)
