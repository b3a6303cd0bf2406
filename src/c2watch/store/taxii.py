"""TAXII collections in the store: objects with their versions and date_added, and status resources."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
import sqlalchemy as sa

from c2watch.stix.validate import SCO_VERSION
from c2watch.stix.vocab import taxii_timestamp
from c2watch.store.pgcopy import copy_data, copy_escape
from c2watch.store.tables import taxii_objects, taxii_statuses

__all__ = [
    "NewObjects",
    "ObjectQuery",
    "StoredObject",
    "add_objects",
    "find_existing",
    "get_status",
    "query_objects",
    "recent_statuses",
    "save_status",
]


@dataclass(frozen=True, slots=True)
class StoredObject:
    pk: int
    object_id: str
    version: str
    added: dt.datetime  # naive UTC, as stored (made aware only when asked for: a page has thousands of objects)
    body: str

    @property
    def date_added(self) -> dt.datetime:
        return self.added.replace(tzinfo=dt.UTC)

    def manifest_version(self) -> str:
        return self.version if self.version != SCO_VERSION else taxii_timestamp(self.date_added)


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
    max_bytes: int | None = None  # the most object text a page holds (at least one object); None: no bound
    with_body: bool = True  # False: a manifest's page (bodies not read, ``body`` empty)


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


_OWNERS = (
    "SELECT object_id, date_added, id, org_pk FROM taxii_objects WHERE collection = :collection AND object_id {ids}"
)
_OWNERS_POSTGRES = sa.text(_OWNERS.format(ids="= ANY(CAST(:ids AS text[]))"))
_OWNERS_SQLITE = sa.text(_OWNERS.format(ids="IN (SELECT value FROM json_each(:ids))"))


def owners(conn: sa.Connection, collection: str, ids: Sequence[str]) -> dict[str, int | None]:
    """Object id → the organisation that posted its first version, for the ids stored in ``collection``: one
    statement with the ids as one array (PostgreSQL) or one JSON list (SQLite); an envelope's thousands of ids as
    IN lists of bound parameters cost the hub more CPU than the rows they found."""
    unique = sorted(set(ids))
    if not unique:
        return {}
    if conn.dialect.name == "postgresql":
        result = conn.execute(_OWNERS_POSTGRES, {"collection": collection, "ids": unique})
    else:
        result = conn.execute(_OWNERS_SQLITE, {"collection": collection, "ids": orjson.dumps(unique).decode()})
    found: dict[str, tuple[Any, int, int | None]] = {}
    for object_id, added, pk, org_pk in result:
        first = found.get(object_id)
        if first is None or (added, pk) < first[:2]:
            found[object_id] = (added, pk, org_pk)
    return {object_id: first[2] for object_id, first in found.items()}


_COLUMNS = ("collection", "object_id", "object_type", "version", "spec_version", "date_added", "org_pk", "body")


@dataclass(frozen=True)
class NewObjects:
    """Objects to add to one collection in one request: ``items`` are (object id, type, version, spec_version,
    body) in envelope order; ``date_added`` is ``now`` plus one microsecond per item, so the order is kept. Ids,
    types and versions must have passed :mod:`c2watch.stix.validate` (they are copied to PostgreSQL unescaped)."""

    collection: str
    org_pk: int | None
    now: dt.datetime
    items: Sequence[tuple[str, str, str, str, str]]


def _copy_new_postgres(conn: sa.Connection, new: NewObjects) -> set[tuple[str, str]]:
    """COPY into a temporary table, then one INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING. The collection,
    the organisation and the date added are the same for every row, so they are set by the INSERT, not copied."""
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    cursor.execute(
        "CREATE TEMP TABLE IF NOT EXISTS taxii_incoming "
        "(n integer, object_id text, object_type text, version text, spec_version text, body text) "
        "ON COMMIT DELETE ROWS"
    )
    cursor.execute("DELETE FROM taxii_incoming")  # empty but after an earlier call in the same transaction
    columns = ("n", "object_id", "object_type", "version", "spec_version", "body")
    copy_data(cursor, "taxii_incoming", columns, _copy_lines(new.items))
    cursor.execute(
        f"INSERT INTO taxii_objects ({', '.join(_COLUMNS)}) "
        "SELECT %(collection)s, object_id, object_type, version, spec_version, "
        "%(now)s + n * interval '1 microsecond', %(org_pk)s, body FROM taxii_incoming "
        "ON CONFLICT DO NOTHING RETURNING object_id, version",
        {"collection": new.collection, "now": _naive_utc(new.now), "org_pk": new.org_pk},
    )
    return {(object_id, version) for object_id, version in cursor.fetchall()}


def _copy_lines(items: Sequence[tuple[str, str, str, str, str]]) -> str:
    """The rows in COPY's text format. Ids, types and versions passed validation (no tabs, newlines or
    backslashes), so only the spec_version and the body are escaped."""
    return "".join(
        f"{n}\t{object_id}\t{kind}\t{version}\t{copy_escape(spec)}\t{copy_escape(body)}\n"
        for n, (object_id, kind, version, spec, body) in enumerate(items)
    )


def _naive_utc(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC).replace(tzinfo=None)


def _insert_new_sqlite(conn: sa.Connection, new: NewObjects) -> set[tuple[str, str]]:
    """One prepared INSERT … ON CONFLICT DO NOTHING RETURNING per object through the driver (SQLAlchemy's
    multi-row form spends more on the parameters than SQLite on the rows)."""
    stamp = taxii_objects.c.date_added.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
    assert stamp is not None
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    statement = (
        f"INSERT INTO taxii_objects ({', '.join(_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT DO NOTHING RETURNING object_id, version"
    )
    inserted = set()
    for n, (object_id, kind, version, spec, body) in enumerate(new.items):
        added = stamp(new.now + dt.timedelta(microseconds=n))
        row = cursor.execute(statement, (new.collection, object_id, kind, version, spec, added, new.org_pk, body))
        found = row.fetchone()
        if found is not None:
            inserted.add((found[0], found[1]))
    cursor.close()
    return inserted


def add_objects(conn: sa.Connection, new: NewObjects) -> set[tuple[str, str]]:
    """Insert the objects whose (collection, id, version) is new; returns the (id, version) keys inserted."""
    if not new.items:
        return set()
    if conn.dialect.name == "postgresql":
        return _copy_new_postgres(conn, new)
    return _insert_new_sqlite(conn, new)


def _candidates(conn: sa.Connection, query: ObjectQuery, after_pk: int) -> tuple[list[StoredObject], bool]:
    """Up to ``limit`` rows after ``after_pk`` in the order they were added, no more than ``max_bytes`` of bodies
    (at least one row), and whether rows follow: keyset pagination on (date_added, id), one range scan of the index
    on (collection, date_added, id) however deep the page. The sizes are read first and the bodies of the rows kept
    after, so a page never holds more than its bound of object text in memory."""
    o = taxii_objects
    size = sa.func.length(o.c.body) if query.max_bytes is not None else sa.literal(0)
    stmt = sa.select(o.c.id, o.c.object_id, o.c.version, sa.type_coerce(o.c.date_added, sa.DateTime), size).where(
        o.c.collection == query.collection
    )
    if after_pk:
        inner = taxii_objects.alias("anchor")
        anchor = sa.select(inner.c.date_added).where(inner.c.id == after_pk).scalar_subquery()
        stmt = stmt.where(sa.tuple_(o.c.date_added, o.c.id) > sa.tuple_(anchor, sa.literal(after_pk)))
    if query.added_after is not None:
        stmt = stmt.where(o.c.date_added > query.added_after)
    if query.ids:
        stmt = stmt.where(o.c.object_id.in_(list(query.ids)))
    if query.types:
        stmt = stmt.where(o.c.object_type.in_(list(query.types)))
    exact = [v for v in query.versions if v not in ("last", "first", "all")]
    if exact and len(exact) == len(query.versions):
        stmt = stmt.where(o.c.version.in_(exact))
    rows = conn.execute(stmt.order_by(o.c.date_added, o.c.id).limit(query.limit + 1)).all()
    kept = _within(rows, query.limit, query.max_bytes)
    bodies = _bodies(conn, [row[0] for row in rows[:kept]]) if query.with_body else {}
    page = [StoredObject(pk, oid, version, added, bodies.get(pk, "")) for pk, oid, version, added, _ in rows[:kept]]
    return page, len(rows) > kept


def _within(rows: Sequence[Any], limit: int, max_bytes: int | None) -> int:
    """How many of ``rows`` (id, …, size) a page keeps: ``limit`` at most, and no more than ``max_bytes`` in all
    unless the first alone is larger."""
    if max_bytes is None:
        return min(len(rows), limit)
    total = 0
    for n, row in enumerate(rows[:limit]):
        total += int(row[4] or 0)
        if total > max_bytes and n > 0:
            return n
    return min(len(rows), limit)


def _bodies(conn: sa.Connection, pks: list[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    for start in range(0, len(pks), 500):
        chunk = pks[start : start + 500]
        rows = conn.execute(sa.select(taxii_objects.c.id, taxii_objects.c.body).where(taxii_objects.c.id.in_(chunk)))
        found.update({pk: body for pk, body in rows})
    return found


_BOUNDS = (
    "SELECT object_id, min(version), max(version) FROM taxii_objects "
    "WHERE collection = :collection AND object_id {ids} GROUP BY object_id"
)
_BOUNDS_POSTGRES = sa.text(_BOUNDS.format(ids="= ANY(CAST(:ids AS text[]))"))
_BOUNDS_SQLITE = sa.text(_BOUNDS.format(ids="IN (SELECT value FROM json_each(:ids))"))


def _version_bounds(conn: sa.Connection, collection: str, ids: set[str]) -> dict[str, tuple[str, str]]:
    """Object id → (first, last) version stored, for versioned objects: one statement with the ids as one array
    (PostgreSQL) or one JSON list (SQLite), answered by the unique index."""
    if not ids:
        return {}
    if conn.dialect.name == "postgresql":
        result = conn.execute(_BOUNDS_POSTGRES, {"collection": collection, "ids": sorted(ids)})
    else:
        result = conn.execute(_BOUNDS_SQLITE, {"collection": collection, "ids": orjson.dumps(sorted(ids)).decode()})
    return {object_id: (first, last) for object_id, first, last in result.all()}


def _match_versions(conn: sa.Connection, query: ObjectQuery, rows: list[StoredObject]) -> list[StoredObject]:
    """``match[version]``: ``last`` (default), ``first``, ``all`` or exact versions, per object. SCOs have one
    version; for the others the first and last versions of the page's objects are looked up in one statement."""
    wanted = set(query.versions)
    if "all" in wanted or not wanted & {"first", "last"}:
        return rows  # exact versions alone were matched by the query
    bounds = _version_bounds(conn, query.collection, {r.object_id for r in rows if r.version != SCO_VERSION})
    kept = []
    for row in rows:
        first, last = bounds.get(row.object_id, (row.version, row.version))
        if (
            row.version in wanted
            or ("last" in wanted and row.version == last)
            or ("first" in wanted and row.version == first)
        ):
            kept.append(row)
    return kept


def query_objects(conn: sa.Connection, query: ObjectQuery) -> tuple[list[StoredObject], bool]:
    """One page of objects in the order they were added, and whether more follow. Versions that do not match are
    dropped after the page is read, so a page may hold fewer than ``limit`` objects (``next`` continues after its
    last one; the rows dropped after it are read again and dropped again)."""
    after_pk = query.after_pk
    while True:
        rows, more = _candidates(conn, query, after_pk)
        page = _match_versions(conn, query, rows)
        if page or not more:
            return page, more
        after_pk = rows[-1].pk  # a whole page of older versions: read on


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


def recent_statuses(conn: sa.Connection, org_pk: int | None, limit: int) -> list[dict[str, Any]]:
    """The latest status resources (of ``org_pk``'s posts; None: of every organisation's), newest first, with
    their counts but not their per-object lists."""
    s = taxii_statuses
    stmt = sa.select(s.c.id, s.c.org_pk, s.c.request_timestamp, s.c.total_count, s.c.failures)
    if org_pk is not None:
        stmt = stmt.where(s.c.org_pk == org_pk)
    rows = conn.execute(stmt.order_by(s.c.request_timestamp.desc(), s.c.id).limit(limit))
    return [
        {
            "id": r.id,
            "org_pk": r.org_pk,
            "request_timestamp": r.request_timestamp,
            "total_count": r.total_count,
            "failure_count": len(r.failures),
        }
        for r in rows
    ]


def loads(body: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(body)
    return value
