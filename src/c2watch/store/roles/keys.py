"""The keys role: observers' public keys (a hub's registered ones, an agent's pinned ones) and the records an
agent refused because their signature did not hold."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from c2watch.stix.trust import KeyRecord, Refusal
from c2watch.store import keys as _keys
from c2watch.store.database import Database

__all__ = ["ObserverKeys"]


class ObserverKeys:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, record: KeyRecord) -> bool:
        with self.db.begin() as conn:
            return _keys.add_key(conn, record)

    def records(self, observer_refs: Sequence[str] | None = None, org_identity: str | None = None) -> list[KeyRecord]:
        with self.db.connect() as conn:
            return _keys.list_keys(conn, observer_refs, org_identity)

    def revoke(self, key_id: str, at: dt.datetime | None = None) -> KeyRecord:
        with self.db.begin() as conn:
            return _keys.revoke_key(conn, key_id, self.db.now(at))

    def enrol(self, record: KeyRecord) -> str:
        with self.db.begin() as conn:
            return _keys.enrol_key(conn, record)

    def save_refusals(self, origin: str, refusals: Sequence[Refusal], now: dt.datetime | None = None) -> list[Refusal]:
        with self.db.begin() as conn:
            return _keys.save_refusals(conn, origin, refusals, self.db.now(now))

    def refusal_counts(self, since: dt.datetime | None = None) -> dict[str, int]:
        with self.db.connect() as conn:
            return _keys.refusal_counts(conn, since)
