"""The observations role: observers, cycles, our own observations (with their STIX objects queued in the outbox in
the same transaction) and the ones other observers shared."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from c2watch.stix.ingest import records_from_objects
from c2watch.store import observations as _observations
from c2watch.store import outbox as _outbox
from c2watch.store import shared as _shared
from c2watch.store import tables
from c2watch.store.database import Database
from c2watch.store.isolate import Refusal

__all__ = ["Observations"]


class Observations:
    def __init__(self, db: Database) -> None:
        self.db = db

    def ensure_observer(
        self, name: str, organization: str, org_identity: str, system_identity: str, now: dt.datetime | None = None
    ) -> int:
        with self.db.begin() as conn:
            return _observations.ensure_observer(
                conn, name, organization, org_identity, system_identity, self.db.now(now)
            )

    def start_cycle(self, observer_pk: int, slot_at: dt.datetime, started_at: dt.datetime, simulated: bool) -> int:
        with self.db.begin() as conn:
            return _observations.start_cycle(conn, observer_pk, slot_at, started_at, simulated)

    def finish_cycle(
        self, cycle_pk: int, finished_at: dt.datetime, stix_path: str | None, summary: dict[str, Any]
    ) -> None:
        with self.db.begin() as conn:
            _observations.finish_cycle(conn, cycle_pk, finished_at, stix_path, summary)

    def insert(
        self, rows: Sequence[dict[str, Any]], outbox: Sequence[str] = (), now: dt.datetime | None = None
    ) -> list[Refusal]:
        """Store observations, and their STIX objects (JSON, one group per row) in the outbox, in one transaction.
        A row the database refuses costs only its refused values; the refusals are returned (a ``lost`` row, one
        refused whatever its values, is not stored and its group not queued)."""
        with self.db.begin() as conn:
            refusals = _observations.insert_observations(conn, rows)
            lost = {refusal.index for refusal in refusals if refusal.lost}
            if outbox:
                _outbox.enqueue(conn, [group for i, group in enumerate(outbox) if i not in lost], self.db.now(now))
        return refusals

    def last_slot(self, system_identity: str) -> dt.datetime | None:
        with self.db.connect() as conn:
            return _observations.last_slot(conn, system_identity)

    def rows(self, threat: str | None = None) -> list[dict[str, Any]]:
        """Every raw observation (optionally of one threat), oldest first, as plain dicts (days that retention has
        rolled up are in ``daily_rollups``, read through the report queries)."""
        query = sa.select(tables.observations).order_by(tables.observations.c.observed_at, tables.observations.c.id)
        if threat is not None:
            query = query.where(tables.observations.c.threat_id == threat)
        with self.db.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(query)]

    def index_shared(self, objects: Mapping[str, Mapping[str, Any]], now: dt.datetime | None = None) -> int:
        """Index the observation records among ``objects`` (pulled or imported); returns new observations."""
        with self.db.begin() as conn:
            return _shared.index_records(conn, records_from_objects(objects), self.db.now(now))
