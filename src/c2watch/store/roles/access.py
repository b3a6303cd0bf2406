"""The access role of a hub: member organisations, their tokens (stored hashed) and dashboard sessions."""

from __future__ import annotations

import datetime as dt

from c2watch.store import access as _access
from c2watch.store import sessions as _sessions
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

    def create_token(
        self,
        org: str,
        name: str,
        role: str,
        now: dt.datetime | None = None,
        expires: str | dt.datetime | None = None,
    ) -> tuple[str, TokenInfo]:
        """A new token; ``expires``: when it stops working, a moment or ``--expires`` text (``90d``, a date)."""
        now = self.db.now(now)
        expires_at = _access.parse_expiry(expires, now) if isinstance(expires, str) else expires
        with self.db.begin() as conn:
            return _access.create_token(conn, org, name, role, now, expires_at)

    def list_tokens(self, org: str | None = None) -> list[TokenInfo]:
        with self.db.connect() as conn:
            return _access.list_tokens(conn, org)

    def revoke_token(self, public_id: str, now: dt.datetime | None = None) -> TokenInfo:
        """Revoke a token and end its dashboard sessions."""
        now = self.db.now(now)
        with self.db.begin() as conn:
            info = _access.revoke_token(conn, public_id, now)
            _sessions.end_token_sessions(conn, public_id, now)
            return info

    def token_by_id(self, public_id: str, now: dt.datetime | None = None) -> TokenInfo | None:
        with self.db.connect() as conn:
            return _access.token_by_id(conn, public_id, self.db.now(now))

    def verify_token(self, token: str, now: dt.datetime | None = None) -> TokenInfo | None:
        """The token's owner and role while it is neither revoked nor expired, else ``None``."""
        with self.db.connect() as conn:
            return _access.verify_token(conn, token, self.db.now(now))

    def token_refusal(self, token: str, now: dt.datetime | None = None) -> str:
        """Why a token :meth:`verify_token` refused is refused (expired, revoked, unknown)."""
        with self.db.connect() as conn:
            return _access.token_refusal(conn, token, self.db.now(now))

    def start_session(self, public_id: str, lifetime: dt.timedelta, now: dt.datetime | None = None) -> str:
        """A dashboard session of a token: the cookie value, shown only now."""
        with self.db.begin() as conn:
            return _sessions.start_session(conn, public_id, self.db.now(now), lifetime)

    def session_token(self, value: str, now: dt.datetime | None = None) -> TokenInfo | None:
        """The token of a live session (not ended, not past its end, its token active), else ``None``."""
        with self.db.connect() as conn:
            return _sessions.session_token(conn, value, self.db.now(now))

    def end_session(self, value: str, now: dt.datetime | None = None) -> bool:
        """Log out: the session ends on the server (its cookie, wherever copied, stops working)."""
        with self.db.begin() as conn:
            return _sessions.end_session(conn, value, self.db.now(now))
