"""Dashboard sessions, kept on the server: a login stores the SHA-256 of a random cookie value with its token and
an end; a request's cookie is valid while its row is not ended, not past its end, and its token is neither revoked
nor expired. Logging out ends the row, so a copied cookie stops working at once."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

import sqlalchemy as sa

from c2watch.store.access import TokenInfo, select_tokens, token_info
from c2watch.store.tables import sessions, tokens

__all__ = ["end_session", "end_token_sessions", "session_token", "start_session"]


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


KEEP_ENDED = dt.timedelta(days=1)  # sessions past their end are deleted this long after it, at the next login


def start_session(conn: sa.Connection, public_id: str, now: dt.datetime, lifetime: dt.timedelta) -> str:
    """A new session of token ``public_id``: the cookie value (the only time it is seen). Sessions that ended
    (their end passed) over a day ago are deleted on the way."""
    conn.execute(sessions.delete().where(sessions.c.expires_at < now - KEEP_ENDED))
    token_pk = conn.execute(sa.select(tokens.c.id).where(tokens.c.public_id == public_id)).scalar_one()
    value = secrets.token_urlsafe(32)
    conn.execute(
        sessions.insert().values(
            secret_sha256=_digest(value), token_pk=token_pk, created_at=now, expires_at=now + lifetime
        )
    )
    return value


def session_token(conn: sa.Connection, value: str, now: dt.datetime) -> TokenInfo | None:
    """The token of the live session whose cookie value is ``value``, else ``None``."""
    query = (
        select_tokens()
        .join(sessions, sessions.c.token_pk == tokens.c.id)
        .where(
            sessions.c.secret_sha256 == _digest(value),
            sessions.c.ended_at.is_(None),
            sessions.c.expires_at > now,
            tokens.c.revoked_at.is_(None),
        )
    )
    row = conn.execute(query).first()
    info = token_info(row) if row is not None else None
    return info if info is not None and not info.expired(now) else None


def end_session(conn: sa.Connection, value: str, now: dt.datetime) -> bool:
    """End the session whose cookie value is ``value``; whether a live one was ended."""
    result = conn.execute(
        sessions.update()
        .where(sessions.c.secret_sha256 == _digest(value), sessions.c.ended_at.is_(None))
        .values(ended_at=now)
    )
    return result.rowcount == 1


def end_token_sessions(conn: sa.Connection, public_id: str, now: dt.datetime) -> int:
    """End every live session of a token (when it is revoked); how many."""
    token_pk = sa.select(tokens.c.id).where(tokens.c.public_id == public_id).scalar_subquery()
    result = conn.execute(
        sessions.update().where(sessions.c.token_pk == token_pk, sessions.c.ended_at.is_(None)).values(ended_at=now)
    )
    return int(result.rowcount)
