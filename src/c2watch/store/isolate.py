"""A row the database refuses costs at most its refused values, never the batch around it.

Values are fitted to their columns before they get here (:mod:`c2watch.store.fit`), so a refusal is rare: a
constraint or a check this code does not know of, a value a backend reads differently. When it happens,
:func:`write_isolated` retries the batch row by row inside the caller's transaction (each try in a savepoint, so a
refused statement does not abort the transaction on PostgreSQL), and a row that is still refused is written with
the offending values replaced by a marker (:data:`REFUSED_TEXT` for text, NULL otherwise) and the error in its
``details``. Only a row refused whatever its values is given up (``lost``); the caller says so.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson
import psycopg
import psycopg.errors
import sqlalchemy as sa

from c2watch.text import clean_text

__all__ = ["REFUSED", "REFUSED_TEXT", "Refusal", "attempt", "is_refusal", "refused_error", "write_isolated"]

log = logging.getLogger(__name__)

#: What the database raises for a value it will not store (as opposed to a lost connection or a bug).
REFUSED: tuple[type[BaseException], ...] = (
    sa.exc.DataError,
    sa.exc.IntegrityError,
    psycopg.DataError,
    psycopg.IntegrityError,
    sqlite3.DataError,
    sqlite3.IntegrityError,
    UnicodeEncodeError,  # text no encoding takes (a lone surrogate), found while the rows are written
    orjson.JSONEncodeError,
)
#: Stored in place of a text value the database refused.
REFUSED_TEXT = "[refused by the store]"

Rows = Sequence[dict[str, Any]]
Write = Callable[[sa.Connection, Rows], Any]


@dataclass(frozen=True)
class Refusal:
    """Row ``index`` of a batch was refused: ``columns`` were replaced by markers (or it was ``lost``)."""

    index: int
    error: str
    columns: list[str] = field(default_factory=list)
    lost: bool = False


def is_refusal(exc: BaseException) -> bool:
    """True for a value the database will not take; False for a NULL in a required column (c2watch always gives
    those: such an error is a bug of ours, raised as it is, never repaired)."""
    orig = getattr(exc, "orig", None) or exc
    if isinstance(orig, psycopg.errors.NotNullViolation):
        return False
    return not (isinstance(orig, sqlite3.IntegrityError) and str(orig).startswith("NOT NULL constraint failed"))


def refused_error(exc: BaseException) -> str:
    """The database's own words for a refusal, as storable text."""
    orig = getattr(exc, "orig", None) or exc
    return clean_text(str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__)[:300]


def _begin_sqlite(conn: sa.Connection) -> None:
    """Make sure a real SQLite transaction is open (the driver opens one lazily, before its first write only; a
    savepoint outside one would commit on release)."""
    driver = conn.connection.driver_connection
    if driver is not None and not driver.in_transaction:
        driver.execute("BEGIN IMMEDIATE")


@contextmanager
def attempt(conn: sa.Connection) -> Iterator[None]:
    """A step of the caller's transaction that the database may refuse alone (a savepoint)."""
    if conn.dialect.name == "sqlite":
        _begin_sqlite(conn)
    with conn.begin_nested():
        yield


def _tried(conn: sa.Connection, write: Write, rows: Rows) -> BaseException | None:
    try:
        with attempt(conn):
            write(conn, rows)
    except REFUSED as exc:
        if not is_refusal(exc):
            raise
        return exc
    return None


def _repairable(table: sa.Table) -> list[str]:
    """Columns that may take a marker: not part of a key, and nullable or text."""
    keyed = {c.name for constraint in table.constraints for c in getattr(constraint, "columns", ())}
    return [
        c.name
        for c in table.columns
        if c.name not in keyed and not c.foreign_keys and (c.nullable or isinstance(c.type, sa.String))
    ]


def _marker(column: sa.Column[Any]) -> Any:
    if isinstance(column.type, sa.String) and not isinstance(column.type, sa.JSON):
        length = getattr(column.type, "length", None)
        return REFUSED_TEXT[:length] if length else REFUSED_TEXT
    return None


def _replaced(table: sa.Table, row: Mapping[str, Any], names: Sequence[str], error: str) -> dict[str, Any]:
    trial = {**row, **{name: _marker(table.c[name]) for name in names}}
    if "details" in table.c:
        details = row.get("details") if "details" not in names else None
        note = {"columns": list(names), "error": error}
        trial["details"] = {**(details if isinstance(details, dict) else {}), "store_refused": note}
    return trial


def _write_repaired(
    conn: sa.Connection, table: sa.Table, index: int, row: Mapping[str, Any], write: Write, error: str
) -> Refusal:
    """Replace one value at a time until the row is accepted; else every replaceable one; else give it up."""
    candidates = [name for name in _repairable(table) if row.get(name) is not None and name != "details"]
    for names in [[name] for name in candidates] + [["details"], [*candidates, "details"]]:
        if _tried(conn, write, [_replaced(table, row, names, error)]) is None:
            log.warning("%s row refused by the store (%s): stored with %s replaced", table.name, error, names)
            return Refusal(index, error, names)
    log.error("%s row refused by the store whatever its values (%s): not stored", table.name, error)
    return Refusal(index, error, lost=True)


def write_isolated(conn: sa.Connection, table: sa.Table, rows: Rows, write: Write) -> list[Refusal]:
    """``write(conn, rows)`` into ``table``; when the database refuses it, row by row, repairing refused rows."""
    if not rows or _tried(conn, write, rows) is None:
        return []
    refusals = []
    for index, row in enumerate(rows):
        exc = _tried(conn, write, [row])
        if exc is not None:
            refusals.append(_write_repaired(conn, table, index, row, write, refused_error(exc)))
    return refusals
