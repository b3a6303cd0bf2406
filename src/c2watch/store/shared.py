"""Index observations shared by other observers (from the hub, a pull, or an air-gapped file) into the same
tables as our own, so the dashboard and reports see every vantage point. Idempotent: a record seen twice is
stored once.

Everything is done per batch, not per record: the targets a batch names are looked up (and the unknown ones
created) in a few statements, and the observations go in with one statement (:mod:`c2watch.store.bulk`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from c2watch.models.observation import SharedRecord
from c2watch.store.bulk import complete, insert_new_observations
from c2watch.store.fit import fit_row, fitted_row
from c2watch.store.isolate import write_isolated
from c2watch.store.observations import ensure_observer
from c2watch.store.tables import observations, observers, targets, threats

__all__ = ["index_records", "insert_ignoring_duplicates"]

CHUNK = 500


def insert_ignoring_duplicates(conn: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> int:
    """Insert rows, skipping those that violate a unique constraint; returns how many were new."""
    if not rows:
        return 0
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table).on_conflict_do_nothing()
    return int(conn.execute(stmt, list(rows)).rowcount or 0)


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def _key_fields(key: str) -> dict[str, Any]:
    """The target columns a key names (another producer's key: any text, fitted by the caller)."""
    url, domain, ip, port = ([*key.split("|"), "", "", "", ""])[:4]
    number = int(port) if port.isascii() and port.isdigit() and len(port) <= 5 else None
    return {"url": url or None, "domain": domain or None, "ip": ip or None, "port": number}


def _threat_pks(conn: sa.Connection, names: set[str], now: dt.datetime) -> dict[str, int]:
    """Threat ID → row id, creating the threats not known yet (concurrent writers may create them too)."""
    found: dict[str, int] = {}
    ordered = sorted(names)
    for chunk in _chunks(ordered):
        query = sa.select(threats.c.threat_id, threats.c.id).where(threats.c.threat_id.in_(chunk))
        found.update({row.threat_id: row.id for row in conn.execute(query)})
    missing = [name for name in ordered if name not in found]
    if missing:
        insert_ignoring_duplicates(conn, threats, [{"threat_id": name, "created_at": now} for name in missing])
        for chunk in _chunks(missing):
            query = sa.select(threats.c.threat_id, threats.c.id).where(threats.c.threat_id.in_(chunk))
            found.update({row.threat_id: row.id for row in conn.execute(query)})
    return found


_FIND_TARGETS_POSTGRES = sa.text(
    "SELECT t.threat_pk, t.key, t.id FROM targets t "
    "JOIN unnest(CAST(:threat_pks AS integer[]), CAST(:keys AS text[])) AS w(threat_pk, key) "
    "ON t.threat_pk = w.threat_pk AND t.key = w.key"
)


def _find_targets(conn: sa.Connection, pairs: Sequence[tuple[int, str]]) -> dict[tuple[int, str], int]:
    """(threat row id, target key) → target id, for the pairs that exist: each pair is one probe of the unique
    index, whatever the size of the table (PostgreSQL: one statement joining two arrays; SQLite: one prepared
    statement per pair, a few microseconds each)."""
    if conn.dialect.name == "postgresql":
        params = {"threat_pks": [pk for pk, _ in pairs], "keys": [key for _, key in pairs]}
        return {(row.threat_pk, row.key): row.id for row in conn.execute(_FIND_TARGETS_POSTGRES, params)}
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    found: dict[tuple[int, str], int] = {}
    for pair in pairs:
        row = cursor.execute("SELECT id FROM targets WHERE threat_pk = ? AND key = ?", pair).fetchone()
        if row is not None:
            found[pair] = row[0]
    cursor.close()
    return found


def _target_pks(conn: sa.Connection, records: Sequence[SharedRecord], now: dt.datetime) -> dict[tuple[str, str], int]:
    """(threat ID, target key) → target id for every record; targets not known yet are created retired."""
    threat_pks = _threat_pks(conn, {record.threat_id for record in records}, now)
    wanted = {(threat_pks[r.threat_id], r.target_key): r for r in records}
    pairs = sorted(wanted)
    found = _find_targets(conn, pairs)
    missing = [pair for pair in pairs if pair not in found]
    if missing:
        rows = [
            fit_row(
                targets,
                {
                    "threat_pk": threat_pk,
                    "key": key,
                    "source": f"shared:{wanted[(threat_pk, key)].org_name}",
                    "active": False,
                    "first_imported_at": now,
                    **_key_fields(key),
                },
            )[0]
            for threat_pk, key in missing
        ]
        insert_ignoring_duplicates(conn, targets, rows)
        found.update(_find_targets(conn, missing))
    return {(r.threat_id, r.target_key): found[(threat_pks[r.threat_id], r.target_key)] for r in records}


def _observer_pks(conn: sa.Connection, records: Sequence[SharedRecord], now: dt.datetime) -> dict[str, int]:
    pks: dict[str, int] = {}
    for record in records:
        if record.observer_identity not in pks:
            names = {"name": record.observer_name, "organization": record.org_name, "org_identity": record.org_identity}
            fitted = fit_row(observers, names)[0]
            pks[record.observer_identity] = ensure_observer(
                conn, fitted["name"], fitted["organization"], fitted["org_identity"], record.observer_identity, now
            )
    return pks


def index_records(conn: sa.Connection, records: Sequence[SharedRecord], now: dt.datetime) -> int:
    """Store ``records`` as observations (targets they name are created retired if unknown); returns new rows."""
    if not records:
        return 0
    target_pks = _target_pks(conn, records, now)
    observer_pks = _observer_pks(conn, records, now)
    rows = [
        complete(
            {
                **fitted_row(observations, record.row),
                "observer_pk": observer_pks[record.observer_identity],
                "target_pk": target_pks[(record.threat_id, record.target_key)],
            }
        )
        for record in records
    ]
    new = 0

    def insert(conn: sa.Connection, batch: Sequence[dict[str, Any]]) -> None:
        nonlocal new
        new += insert_new_observations(conn, batch)

    write_isolated(conn, observations, rows, insert)
    return new
