"""TAXII collections in the store: objects with their versions and date_added, and status resources."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from c2watch.store.tables import taxii_objects, taxii_statuses

__all__ = ["ObjectQuery", "StoredObject", "add_objects", "find_existing", "get_status", "query_objects", "save_status"]

SCO_VERSION = "-"


@dataclass(frozen=True)
class StoredObject:
    pk: int
    object_id: str
    version: str
    date_added: dt.datetime
    body: str

    def manifest_version(self) -> str:
        return self.version if self.version != SCO_VERSION else _stamp(self.date_added)


def _stamp(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class ObjectQuery:
    """The filters of a TAXII objects/manifest/versions request."""

    collection: str
    added_after: dt.datetime | None = None
    ids: Sequence[str] = ()
    types: Sequence[str] = ()
    versions: Sequence[str] = field(default_factory=lambda: ["last"])
    after_pk: int = 0
    limit: int = 1000


def find_existing(conn: sa.Connection, collection: str, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """(object id, version) → stored body, for the keys that exist already."""
    found: dict[tuple[str, str], str] = {}
    ids = sorted({object_id for object_id, _ in keys})
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        query = sa.select(taxii_objects.c.object_id, taxii_objects.c.version, taxii_objects.c.body).where(
            taxii_objects.c.collection == collection, taxii_objects.c.object_id.in_(chunk)
        )
        found.update({(row.object_id, row.version): row.body for row in conn.execute(query)})
    wanted = set(keys)
    return {key: body for key, body in found.items() if key in wanted}


_COLUMNS = ("collection", "object_id", "object_type", "version", "spec_version", "date_added", "org_pk", "body")


def _copy_new_postgres(conn: sa.Connection, rows: Sequence[dict[str, Any]]) -> set[tuple[str, str]]:
    """COPY into a temporary table, then one INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING: psycopg parses
    one short statement instead of a multi-row VALUES list with thousands of placeholders."""
    columns = ", ".join(_COLUMNS)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    cursor.execute(
        "CREATE TEMP TABLE IF NOT EXISTS taxii_incoming "
        "(collection text, object_id text, object_type text, version text, spec_version text, "
        "date_added timestamp, org_pk integer, body text) ON COMMIT DELETE ROWS"
    )
    with cursor.copy(f"COPY taxii_incoming ({columns}) FROM STDIN") as copy:
        for row in rows:
            stamp = row["date_added"].astimezone(dt.UTC).replace(tzinfo=None)
            copy.write_row([*(row[c] for c in _COLUMNS[:5]), stamp, row["org_pk"], row["body"]])
    cursor.execute(
        f"INSERT INTO taxii_objects ({columns}) SELECT {columns} FROM taxii_incoming "
        "ON CONFLICT DO NOTHING RETURNING object_id, version"
    )
    inserted = {(object_id, version) for object_id, version in cursor.fetchall()}
    cursor.execute("DELETE FROM taxii_incoming")
    return inserted


def add_objects(conn: sa.Connection, rows: Sequence[dict[str, Any]]) -> set[tuple[str, str]]:
    """Insert the rows whose (collection, id, version) is new; returns the (id, version) keys inserted."""
    if not rows:
        return set()
    if conn.dialect.name == "postgresql":
        return _copy_new_postgres(conn, rows)
    stmt = (
        sqlite.insert(taxii_objects)
        .on_conflict_do_nothing()
        .returning(taxii_objects.c.object_id, taxii_objects.c.version)
    )
    return {(row.object_id, row.version) for row in conn.execute(stmt, list(rows))}


def _version_filter(o: Any, versions: Sequence[str]) -> sa.ColumnElement[bool] | None:
    """``match[version]``: ``last`` (default), ``first``, ``all`` or exact versions, per object."""
    if "all" in versions:
        return None
    inner = taxii_objects.alias("i")
    same = (inner.c.collection == o.c.collection) & (inner.c.object_id == o.c.object_id)
    clauses: list[sa.ColumnElement[bool]] = []
    wanted = [v for v in versions if v not in ("last", "first")]
    if wanted:
        clauses.append(o.c.version.in_(wanted))
    if "last" in versions:
        clauses.append(o.c.version == sa.select(sa.func.max(inner.c.version)).where(same).scalar_subquery())
    if "first" in versions:
        clauses.append(o.c.version == sa.select(sa.func.min(inner.c.version)).where(same).scalar_subquery())
    return sa.or_(*clauses)


def query_objects(conn: sa.Connection, query: ObjectQuery) -> tuple[list[StoredObject], bool]:
    """One page of objects in insertion order, and whether more follow."""
    o = taxii_objects.alias("o")
    stmt = sa.select(o.c.id, o.c.object_id, o.c.version, o.c.date_added, o.c.body).where(
        o.c.collection == query.collection, o.c.id > query.after_pk
    )
    if query.added_after is not None:
        stmt = stmt.where(o.c.date_added > query.added_after)
    if query.ids:
        stmt = stmt.where(o.c.object_id.in_(list(query.ids)))
    if query.types:
        stmt = stmt.where(o.c.object_type.in_(list(query.types)))
    version_clause = _version_filter(o, query.versions)
    if version_clause is not None:
        stmt = stmt.where(version_clause)
    rows = conn.execute(stmt.order_by(o.c.id).limit(query.limit + 1)).all()
    page = [StoredObject(r.id, r.object_id, r.version, r.date_added, r.body) for r in rows[: query.limit]]
    return page, len(rows) > query.limit


def save_status(
    conn: sa.Connection,
    status_id: str,
    org_pk: int,
    at: dt.datetime,
    total: int,
    successes: list[dict[str, Any]],
    failures: list[dict[str, Any]],
) -> None:
    conn.execute(
        taxii_statuses.insert().values(
            id=status_id, org_pk=org_pk, request_timestamp=at, total_count=total, successes=successes, failures=failures
        )
    )


def get_status(conn: sa.Connection, status_id: str, org_pk: int | None) -> dict[str, Any] | None:
    stmt = sa.select(taxii_statuses).where(taxii_statuses.c.id == status_id)
    if org_pk is not None:
        stmt = stmt.where(taxii_statuses.c.org_pk == org_pk)
    row = conn.execute(stmt).first()
    return dict(row._mapping) if row is not None else None


def loads(body: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(body)
    return value
