"""The hub's storage as a declared contract: :class:`HubBackend` is all the TAXII views, the token check and the
login ask of a storage (as medallion's ``Backend`` class, typed), and :class:`StoreBackend` is that contract over
our store. The views import this module, never the store.

>>> backend = StoreBackend(open_store(url))                                 # doctest: +SKIP
>>> outcome = backend.add_objects(OBSERVATIONS, token, objects, now)        # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any, Protocol

from c2watch.stix.trust import KeyRecord
from c2watch.store import ObjectQuery, Store, StoredObject, TokenInfo
from c2watch.taxii.collections import CollectionDef
from c2watch.taxii.ingest import Outcome, store_envelope

__all__ = ["HubBackend", "KeyRecord", "ObjectQuery", "Outcome", "StoreBackend", "StoredObject", "TokenInfo"]


class HubBackend(Protocol):
    """What the hub's API needs of a storage."""

    def verify_token(self, token: str) -> TokenInfo | None:
        """The token's owner and role, or None for an unknown, revoked or expired token."""

    def token_refusal(self, token: str) -> str:
        """Why a token is refused, in words for its holder (e.g. when it expired)."""

    def start_session(self, public_id: str, lifetime: dt.timedelta) -> str:
        """A dashboard session of a token kept on the server: the cookie value."""

    def session_token(self, value: str) -> TokenInfo | None:
        """The token of a live dashboard session (by its cookie value), or None."""

    def end_session(self, value: str) -> bool:
        """Log out: end the session on the server."""

    def tokens(self, org: str | None) -> list[TokenInfo]:
        """The tokens of an organisation (None: of every organisation), never their secrets."""

    def recent_statuses(self, org_pk: int | None) -> list[dict[str, Any]]:
        """The latest status resources (of ``org_pk``'s posts; None: of anyone's), newest first."""

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
    """:class:`HubBackend` over a :class:`~c2watch.store.Store`: objects larger than ``max_object_bytes`` (their
    JSON) are refused one by one, and a page of objects holds at most ``max_page_bytes`` of them (at least one)."""

    def __init__(self, store: Store, max_object_bytes: int | None = None, max_page_bytes: int | None = None) -> None:
        self.store = store
        self.max_object_bytes = max_object_bytes
        self.max_page_bytes = max_page_bytes

    def verify_token(self, token: str) -> TokenInfo | None:
        return self.store.access.verify_token(token)

    def token_refusal(self, token: str) -> str:
        return self.store.access.token_refusal(token)

    def start_session(self, public_id: str, lifetime: dt.timedelta) -> str:
        return self.store.access.start_session(public_id, lifetime)

    def session_token(self, value: str) -> TokenInfo | None:
        return self.store.access.session_token(value)

    def end_session(self, value: str) -> bool:
        return self.store.access.end_session(value)

    def tokens(self, org: str | None) -> list[TokenInfo]:
        return self.store.access.list_tokens(org)

    def recent_statuses(self, org_pk: int | None) -> list[dict[str, Any]]:
        return self.store.taxii.recent_statuses(org_pk)

    def objects(self, query: ObjectQuery) -> tuple[list[StoredObject], bool]:
        if query.max_bytes is None and self.max_page_bytes is not None:
            query = replace(query, max_bytes=self.max_page_bytes)
        return self.store.taxii.objects(query)

    def status(self, status_id: str, org_pk: int | None) -> dict[str, Any] | None:
        return self.store.taxii.status(status_id, org_pk)

    def add_objects(self, collection: CollectionDef, token: TokenInfo, objects: list[Any], now: dt.datetime) -> Outcome:
        with self.store.taxii.transaction() as conn:
            return store_envelope(conn, collection, token, objects, now, self.max_object_bytes)

    def observer_keys(self) -> list[KeyRecord]:
        return self.store.keys.records()

    def enrol_key(self, record: KeyRecord) -> str:
        return self.store.keys.enrol(record)
