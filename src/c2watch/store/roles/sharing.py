"""The sharing roles: the hub's TAXII objects and status resources (``taxii``), and the agent's side of sync, its
outbox and pull cursors (``outbox``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from c2watch.store import backfill as _backfill
from c2watch.store import outbox as _outbox
from c2watch.store import taxii as _taxii
from c2watch.store.backfill import CycleFile
from c2watch.store.database import Database
from c2watch.store.taxii import ObjectQuery, StoredObject

__all__ = ["Outbox", "TaxiiObjects"]


class TaxiiObjects:
    """What the hub stores: ``transaction()`` for an envelope (see :mod:`c2watch.taxii.ingest`), then reads."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @contextmanager
    def transaction(self) -> Iterator[sa.Connection]:
        with self.db.begin() as conn:
            yield conn

    def objects(self, query: ObjectQuery) -> tuple[list[StoredObject], bool]:
        with self.db.connect() as conn:
            return _taxii.query_objects(conn, query)

    def status(self, status_id: str, org_pk: int | None) -> dict[str, Any] | None:
        with self.db.connect() as conn:
            return _taxii.get_status(conn, status_id, org_pk)

    def recent_statuses(self, org_pk: int | None, limit: int = 100) -> list[dict[str, Any]]:
        """The latest status resources (of ``org_pk``'s posts; None: of everyone's), newest first."""
        with self.db.connect() as conn:
            return _taxii.recent_statuses(conn, org_pk, limit)


class Outbox:
    """Our STIX objects waiting to be pushed, and how far each hub's collections have been pulled."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def pending(self, limit: int) -> list[tuple[int, str]]:
        with self.db.connect() as conn:
            return _outbox.pending(conn, limit)

    def ack(self, ids: Sequence[int], now: dt.datetime | None = None) -> None:
        with self.db.begin() as conn:
            _outbox.ack(conn, ids, self.db.now(now))

    def depth(self) -> int:
        with self.db.connect() as conn:
            return _outbox.depth(conn)

    def cursor(self, hub: str, collection: str) -> dt.datetime | None:
        with self.db.connect() as conn:
            return _outbox.get_cursor(conn, hub, collection)

    def set_cursor(self, hub: str, collection: str, added_after: dt.datetime, now: dt.datetime | None = None) -> None:
        with self.db.begin() as conn:
            _outbox.set_cursor(conn, hub, collection, added_after, self.db.now(now))

    def unqueued_cycles(
        self, system_identity: str, since: dt.datetime | None = None, known_only: bool = True
    ) -> list[CycleFile]:
        """This observer's real cycles whose observations never went to the outbox (see :mod:`..backfill`)."""
        with self.db.connect() as conn:
            return _backfill.unqueued_cycles(conn, system_identity, since, known_only)

    def queue_cycle(self, cycle_pk: int, groups: Sequence[str], now: dt.datetime | None = None) -> None:
        """Queue a cycle's object groups (JSON lists) and mark it queued, in one transaction."""
        with self.db.begin() as conn:
            _backfill.mark_queued(conn, cycle_pk, groups, self.db.now(now))
