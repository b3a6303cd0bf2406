"""Observers, cycles and observations: written by the cycle as results finish, read by reports."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from c2watch.store.bulk import complete, insert_new_observations
from c2watch.store.isolate import Refusal, write_isolated
from c2watch.store.tables import cycles, observations, observers
from c2watch.store.tables import primary_key as _primary_key

__all__ = ["ensure_observer", "finish_cycle", "insert_observations", "last_slot", "start_cycle"]


def ensure_observer(
    conn: sa.Connection,
    name: str,
    organization: str,
    org_identity: str,
    system_identity: str,
    now: dt.datetime,
) -> int:
    """The observer's row id, created on first use (keyed by its STIX system identity)."""
    found = conn.execute(
        sa.select(observers.c.id).where(observers.c.system_identity == system_identity)
    ).scalar_one_or_none()
    if found is not None:
        return int(found)
    result = conn.execute(
        observers.insert().values(
            name=name,
            organization=organization,
            org_identity=org_identity,
            system_identity=system_identity,
            created_at=now,
        )
    )
    return _primary_key(result)


def start_cycle(
    conn: sa.Connection, observer_pk: int, slot_at: dt.datetime, started_at: dt.datetime, simulated: bool
) -> int:
    result = conn.execute(
        cycles.insert().values(observer_pk=observer_pk, slot_at=slot_at, started_at=started_at, simulated=simulated)
    )
    return _primary_key(result)


def finish_cycle(
    conn: sa.Connection,
    cycle_pk: int,
    finished_at: dt.datetime,
    stix_path: str | None,
    summary: dict[str, Any],
) -> None:
    conn.execute(
        cycles.update()
        .where(cycles.c.id == cycle_pk)
        .values(finished_at=finished_at, stix_path=stix_path, summary=summary)
    )


def insert_observations(conn: sa.Connection, rows: Sequence[dict[str, Any]]) -> list[Refusal]:
    """Store ``rows`` (already stored ones are skipped). Each must be fitted to its columns already (the row of a
    fitted :class:`~c2watch.models.observation.Observation`, or :func:`~c2watch.store.fit.fitted_row`); a row the
    database refuses all the same costs only its refused values (see :mod:`c2watch.store.isolate`)."""
    return write_isolated(conn, observations, [complete(row) for row in rows], insert_new_observations)


def last_slot(conn: sa.Connection, system_identity: str) -> dt.datetime | None:
    """The latest slot this observer has run a cycle for (finished or interrupted), if any."""
    query = (
        sa.select(sa.func.max(cycles.c.slot_at))
        .select_from(cycles.join(observers, cycles.c.observer_pk == observers.c.id))
        .where(observers.c.system_identity == system_identity)
    )
    value: dt.datetime | None = conn.execute(query).scalar()
    return value
