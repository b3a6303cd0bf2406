"""The hub's storage as a declared contract: :class:`HubBackend` is all the TAXII views, the token check and the
login ask of a storage (as medallion's ``Backend`` class, typed), and :class:`StoreBackend` is that contract over
our store. The views import this module, never the store.

>>> backend = StoreBackend(open_store(url))                                 # doctest: +SKIP
>>> outcome = backend.add_objects(OBSERVATIONS, token, objects, now)        # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol

from c2watch.stix.trust import KeyRecord
from c2watch.store import ObjectQuery, Store, StoredObject, TokenInfo
from c2watch.taxii.collections import CollectionDef
from c2watch.taxii.ingest import Outcome, store_envelope

__all__ = ["HubBackend", "KeyRecord", "ObjectQuery", "Outcome", "StoreBackend", "StoredObject", "TokenInfo"]


class HubBackend(Protocol):
    """What the hub's API needs of a storage."""

    def verify_token(self, token: str) -> TokenInfo | None:
        """The token's owner and role, or None for an unknown or revoked token."""

    def token_by_id(self, public_id: str) -> TokenInfo | None:
        """A token by its public id (a dashboard session names it), or None."""

    def objects(self, query: ObjectQuery) -> tuple[list[StoredObject], bool]:
        """A page of stored objects, and whether more follow."""

    def status(self, status_id: str, org_pk: int | None) -> dict[str, Any] | None:
        """A status resource (of ``org_pk``'s posts; None: of anyone's), or None."""

    def add_objects(self, collection: CollectionDef, token: TokenInfo, objects: list[Any], now: dt.datetime) -> Outcome:
        """Store an envelope's objects (each checked; the valid ones kept) and its status resource, at once."""

    def observer_keys(self) -> list[KeyRecord]:
        """Every observer key registered with the hub."""

    def enrol_key(self, record: KeyRecord) -> str:
        """Register an observer's key its organisation sent (``known``, ``enrolled``, ``endorsed``; InputError
        when refused)."""


class StoreBackend:
    """:class:`HubBackend` over a :class:`~c2watch.store.Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def verify_token(self, token: str) -> TokenInfo | None:
        return self.store.access.verify_token(token)

    def token_by_id(self, public_id: str) -> TokenInfo | None:
        return self.store.access.token_by_id(public_id)

    def objects(self, query: ObjectQuery) -> tuple[list[StoredObject], bool]:
        return self.store.taxii.objects(query)

    def status(self, status_id: str, org_pk: int | None) -> dict[str, Any] | None:
        return self.store.taxii.status(status_id, org_pk)

    def add_objects(self, collection: CollectionDef, token: TokenInfo, objects: list[Any], now: dt.datetime) -> Outcome:
        with self.store.taxii.transaction() as conn:
            return store_envelope(conn, collection, token, objects, now)

    def observer_keys(self) -> list[KeyRecord]:
        return self.store.keys.records()

    def enrol_key(self, record: KeyRecord) -> str:
        return self.store.keys.enrol(record)
