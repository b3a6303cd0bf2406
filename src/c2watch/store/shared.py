"""Index observations shared by other observers (from the hub, a pull, or an air-gapped file) into the same
tables as our own, so the dashboard and reports see every vantage point. Idempotent: a record seen twice is
stored once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from c2watch.stix.ingest import SharedRecord
from c2watch.store.observations import ensure_observer
from c2watch.store.tables import observations, primary_key, targets, threats

__all__ = ["index_records", "insert_ignoring_duplicates"]


def insert_ignoring_duplicates(conn: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> int:
    """Insert rows, skipping those that violate a unique constraint; returns how many were new."""
    if not rows:
        return 0
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table).on_conflict_do_nothing()
    return int(conn.execute(stmt, list(rows)).rowcount or 0)


def _key_fields(key: str) -> dict[str, Any]:
    url, domain, ip, port = ([*key.split("|"), "", "", "", ""])[:4]
    return {"url": url or None, "domain": domain or None, "ip": ip or None, "port": int(port) if port else None}


def _threat_pk(conn: sa.Connection, threat_id: str, now: dt.datetime, cache: dict[str, int]) -> int:
    if threat_id not in cache:
        found = conn.execute(sa.select(threats.c.id).where(threats.c.threat_id == threat_id)).scalar()
        if found is None:
            found = primary_key(conn.execute(threats.insert().values(threat_id=threat_id, created_at=now)))
        cache[threat_id] = int(found)
    return cache[threat_id]


def _target_pk(
    conn: sa.Connection,
    record: SharedRecord,
    now: dt.datetime,
    cache: dict[tuple[str, str], int],
    threat_cache: dict[str, int],
) -> int:
    ident = (record.threat_id, record.target_key)
    if ident not in cache:
        threat_pk = _threat_pk(conn, record.threat_id, now, threat_cache)
        query = sa.select(targets.c.id).where(targets.c.threat_pk == threat_pk, targets.c.key == record.target_key)
        found = conn.execute(query).scalar()
        if found is None:
            values = _key_fields(record.target_key)
            found = primary_key(
                conn.execute(
                    targets.insert().values(
                        threat_pk=threat_pk,
                        key=record.target_key,
                        source=f"shared:{record.org_name}"[:500],
                        active=False,
                        first_imported_at=now,
                        **values,
                    )
                )
            )
        cache[ident] = int(found)
    return cache[ident]


def _known_targets(conn: sa.Connection, threat_ids: set[str]) -> dict[tuple[str, str], int]:
    """(threat ID, target key) → target id for the threats named (one query per 500 threats)."""
    found: dict[tuple[str, str], int] = {}
    names = sorted(threat_ids)
    for start in range(0, len(names), 500):
        query = (
            sa.select(threats.c.threat_id, targets.c.key, targets.c.id)
            .join(threats, targets.c.threat_pk == threats.c.id)
            .where(threats.c.threat_id.in_(names[start : start + 500]))
        )
        found.update({(row.threat_id, row.key): row.id for row in conn.execute(query)})
    return found


def index_records(conn: sa.Connection, records: Sequence[SharedRecord], now: dt.datetime) -> int:
    """Store ``records`` as observations (targets they name are created retired if unknown); returns new rows."""
    cache = _known_targets(conn, {record.threat_id for record in records})
    threat_cache: dict[str, int] = {}
    observers: dict[str, int] = {}
    rows = []
    for record in records:
        if record.observer_identity not in observers:
            observers[record.observer_identity] = ensure_observer(
                conn,
                record.observer_name[:64],
                record.org_name[:200],
                record.org_identity,
                record.observer_identity,
                now,
            )
        rows.append(
            {
                **record.row,
                "observer_pk": observers[record.observer_identity],
                "target_pk": _target_pk(conn, record, now, cache, threat_cache),
                "cycle_pk": None,
            }
        )
    return insert_ignoring_duplicates(conn, observations, rows)
