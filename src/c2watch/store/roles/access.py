"""The access role of a hub: member organisations and their tokens (stored hashed)."""

from __future__ import annotations

import datetime as dt

from c2watch.store import access as _access
from c2watch.store.access import Organization, TokenInfo
from c2watch.store.database import Database

__all__ = ["Access"]


class Access:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add_organization(self, name: str, now: dt.datetime | None = None) -> Organization:
        with self.db.begin() as conn:
            return _access.add_organization(conn, name, self.db.now(now))

    def organization(self, name: str) -> Organization:
        """A member organisation by name; InputError naming it when there is none."""
        with self.db.connect() as conn:
            return _access.get_organization(conn, name)

    def create_token(self, org: str, name: str, role: str, now: dt.datetime | None = None) -> tuple[str, TokenInfo]:
        with self.db.begin() as conn:
            return _access.create_token(conn, org, name, role, self.db.now(now))

    def list_tokens(self, org: str | None = None) -> list[TokenInfo]:
        with self.db.connect() as conn:
            return _access.list_tokens(conn, org)

    def revoke_token(self, public_id: str, now: dt.datetime | None = None) -> TokenInfo:
        with self.db.begin() as conn:
            return _access.revoke_token(conn, public_id, self.db.now(now))

    def token_by_id(self, public_id: str) -> TokenInfo | None:
        with self.db.connect() as conn:
            return _access.token_by_id(conn, public_id)

    def verify_token(self, token: str) -> TokenInfo | None:
        with self.db.connect() as conn:
            return _access.verify_token(conn, token)
