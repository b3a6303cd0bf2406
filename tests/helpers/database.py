"""Rules of the database that c2watch does not know of, added by a test to make the database refuse a row."""

from __future__ import annotations

import sqlalchemy as sa

from c2watch.store import Store


def refuse_rows(store: Store, table: str, column: str, value: str) -> None:
    """Make the database refuse rows of ``table`` whose ``column`` is ``value`` (a SQL literal), inserted or
    updated: a check constraint on PostgreSQL, triggers on SQLite (which cannot add a constraint to a table);
    named ``refuse_<column>``, a name the database's error repeats."""
    name = f"refuse_{column}"
    with store.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text(f"ALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({column} <> {value})"))
            return
        for event in ("INSERT", "UPDATE"):
            conn.execute(
                sa.text(
                    f"CREATE TRIGGER {name}_{event.lower()} BEFORE {event} ON {table} WHEN NEW.{column} = {value} "
                    f"BEGIN SELECT RAISE(ABORT, '{name}'); END"
                )
            )
