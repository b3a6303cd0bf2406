"""Many rows of one table updated by key in one go: PostgreSQL gets them by COPY into a temporary table shaped like
the columns written and one ``UPDATE … FROM``; SQLite by one ``executemany`` of the driver with the column types'
own bind processors (SQLAlchemy's executemany would build a parameter dict per row and, on PostgreSQL, send one
statement per row)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from c2watch.store.pgcopy import column_text, copy_data

__all__ = ["update_rows"]


def update_rows(conn: sa.Connection, table: sa.Table, keys: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> None:
    """Update the rows of ``table`` named by the ``keys`` columns of each of ``rows`` with its other columns
    (every row holds the same columns)."""
    if not rows:
        return
    values = [name for name in rows[0] if name not in keys]
    if conn.dialect.name == "postgresql":
        _update_postgres(conn, table, keys, values, rows)
    else:
        _update_sqlite(conn, table, keys, values, rows)


def _update_sqlite(
    conn: sa.Connection, table: sa.Table, keys: Sequence[str], values: Sequence[str], rows: Sequence[Mapping[str, Any]]
) -> None:
    columns = [*values, *keys]
    pairs = [(name, table.c[name].type.dialect_impl(conn.dialect).bind_processor(conn.dialect)) for name in columns]
    params = [
        tuple(None if row[name] is None else process(row[name]) if process else row[name] for name, process in pairs)
        for row in rows
    ]
    sets = ", ".join(f"{name} = ?" for name in values)
    where = " AND ".join(f"{name} = ?" for name in keys)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(f"UPDATE {table.name} SET {sets} WHERE {where}", params)
    finally:
        cursor.close()


def _update_postgres(
    conn: sa.Connection, table: sa.Table, keys: Sequence[str], values: Sequence[str], rows: Sequence[Mapping[str, Any]]
) -> None:
    columns = [*keys, *values]
    staging = f"incoming_{table.name}_{hashlib.sha256(' '.join(columns).encode()).hexdigest()[:8]}"
    texts = [column_text(table.c[name]) for name in columns]
    lines = [
        "\t".join("\\N" if row[name] is None else text(row[name]) for name, text in zip(columns, texts, strict=True))
        for row in rows
    ]
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {staging} ON COMMIT DELETE ROWS AS "
            f"SELECT {', '.join(columns)} FROM {table.name} WITH NO DATA"
        )
        cursor.execute(f"DELETE FROM {staging}")  # empty but after an earlier call in the same transaction
        copy_data(cursor, staging, columns, "\n".join(lines) + "\n")
        sets = ", ".join(f"{name} = i.{name}" for name in values)
        where = " AND ".join(f"t.{name} = i.{name}" for name in keys)
        cursor.execute(f"UPDATE {table.name} AS t SET {sets} FROM {staging} AS i WHERE {where}")
    finally:
        cursor.close()
