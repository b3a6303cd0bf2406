"""PostgreSQL bulk writes: rows go to a temporary staging table with COPY (text format, built here in one string:
psycopg's per-row ``write_row`` costs more than the rest of the row's handling), then into the real table with one
short ``INSERT … SELECT … ON CONFLICT DO NOTHING`` (partitioned tables included)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

import orjson
import sqlalchemy as sa

from c2watch.store.tables import UTCDateTime

__all__ = ["column_text", "copy_data", "copy_escape", "copy_text"]


def copy_escape(text: str) -> str:
    """Text as a field of COPY's text format."""
    if "\\" in text:
        text = text.replace("\\", "\\\\")
    if "\n" in text or "\r" in text or "\t" in text:
        text = text.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return text


def copy_text(value: Any) -> str:
    """One field of COPY's text format (``None`` is NULL; datetimes must be naive UTC)."""
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return copy_escape(value)
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            raise ValueError(f"aware datetime {value!r} given to COPY; convert it to naive UTC")
        return value.isoformat(" ")
    return copy_escape(str(value))


def copy_data(cursor: Any, table: str, columns: Sequence[str], data: str) -> None:
    """COPY ``data``, rows already in COPY's text format, into ``table``."""
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        copy.write(data.encode())


def _json_text(value: Any) -> str:
    return copy_escape(orjson.dumps(value).decode())


def _utc_text(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ")


def column_text(column: sa.Column[Any]) -> Callable[[Any], str]:
    """How a value of ``column`` is written as a field of COPY's text format (not None: that is ``\\N``)."""
    if isinstance(column.type, sa.JSON):
        return _json_text
    if isinstance(column.type, UTCDateTime):
        return _utc_text
    return copy_text
