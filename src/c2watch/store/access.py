"""Organisations and their tokens. A token is shown once; only the SHA-256 of its secret is stored, and it is
compared in constant time. Format: ``c2w_<public id>_<secret>``. A token may expire (``expires_at``); an expired
or revoked token is refused like an unknown one, and :func:`token_refusal` says which it was.

Roles: ``observer`` writes observations, ``coordinator`` the watchlist, ``admin`` both and sees its own
organisation's status resources and admin page, ``reader`` only reads; ``operator`` (the hub operator) reads and
sees every organisation's status resources and the whole admin page."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

import sqlalchemy as sa

from c2watch.errors import InputError
from c2watch.stix.vocab import stable_id
from c2watch.store.tables import organizations, primary_key, tokens

__all__ = [
    "ROLES",
    "Organization",
    "TokenInfo",
    "add_organization",
    "create_token",
    "list_tokens",
    "parse_expiry",
    "revoke_token",
    "select_tokens",
    "token_info",
    "token_refusal",
    "verify_token",
]

ROLES = ("observer", "reader", "coordinator", "admin", "operator")
_DURATION = re.compile(r"(\d{1,6})([mhdw])\Z")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_PREFIX = "c2w"


@dataclass(frozen=True)
class Organization:
    id: int
    name: str
    identity: str


@dataclass(frozen=True)
class TokenInfo:
    public_id: str
    organization: str
    org_identity: str
    org_pk: int
    name: str
    role: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None = None
    expires_at: dt.datetime | None = None

    @property
    def hub_wide(self) -> bool:
        """The hub operator: sees every organisation's status resources and admin page."""
        return self.role == "operator"

    def expired(self, now: dt.datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now


def organization_identity(name: str) -> str:
    """The STIX identity of an organisation: the same one its observers use as ``created_by_ref``."""
    return stable_id("identity", "organization", name)


def add_organization(conn: sa.Connection, name: str, now: dt.datetime) -> Organization:
    name = name.strip()
    if not name:
        raise InputError("organisation name must not be empty")
    if conn.execute(sa.select(organizations.c.id).where(organizations.c.name == name)).first():
        raise InputError(f"organisation {name!r} exists already")
    identity = organization_identity(name)
    result = conn.execute(organizations.insert().values(name=name, identity=identity, created_at=now))
    return Organization(primary_key(result), name, identity)


def get_organization(conn: sa.Connection, name: str) -> Organization:
    row = conn.execute(sa.select(organizations).where(organizations.c.name == name)).first()
    if row is None:
        raise InputError(f"unknown organisation {name!r} (add it with: c2watch hub org add NAME)")
    return Organization(row.id, row.name, row.identity)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_expiry(text: str, now: dt.datetime) -> dt.datetime:
    """When a token given ``--expires TEXT`` at ``now`` expires: a duration (``90d``, ``12h``, ``30m``, ``2w``) from
    ``now``, or an ISO date (midnight UTC) or date and time (UTC when it names no offset)."""
    value = text.strip()
    if match := _DURATION.match(value):
        amount = int(match.group(1))
        if amount == 0:
            raise InputError(f"--expires {text!r}: a duration must be positive")
        return now + dt.timedelta(**{_UNITS[match.group(2)]: amount})
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise InputError(f"--expires {text!r}: give a date (2027-03-31), a time or a duration (90d, 12h)") from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    if moment <= now:
        raise InputError(f"--expires {text!r} is in the past")
    return moment


def create_token(
    conn: sa.Connection, org: str, name: str, role: str, now: dt.datetime, expires_at: dt.datetime | None = None
) -> tuple[str, TokenInfo]:
    """A new token (the only time its secret is seen) and its description; ``expires_at``: when it stops working."""
    if role not in ROLES:
        raise InputError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
    if expires_at is not None and expires_at <= now:
        raise InputError("a token's expiry must be in the future")
    organization = get_organization(conn, org)
    public_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
    conn.execute(
        tokens.insert().values(
            public_id=public_id,
            org_pk=organization.id,
            name=name,
            role=role,
            secret_sha256=_digest(secret),
            created_at=now,
            expires_at=expires_at,
        )
    )
    info = TokenInfo(
        public_id, organization.name, organization.identity, organization.id, name, role, now, None, expires_at
    )
    return f"{_PREFIX}_{public_id}_{secret}", info


def select_tokens() -> sa.Select[tuple[object, ...]]:
    return sa.select(tokens, organizations.c.name.label("org_name"), organizations.c.identity).join(
        organizations, tokens.c.org_pk == organizations.c.id
    )


def token_info(row: sa.Row[tuple[object, ...]]) -> TokenInfo:
    m = row._mapping
    return TokenInfo(
        m["public_id"],
        m["org_name"],
        m["identity"],
        m["org_pk"],
        m["name"],
        m["role"],
        m["created_at"],
        m["revoked_at"],
        m["expires_at"],
    )


def list_tokens(conn: sa.Connection, org: str | None = None) -> list[TokenInfo]:
    query = select_tokens().order_by(tokens.c.id)
    if org is not None:
        query = query.where(organizations.c.name == org)
    return [token_info(row) for row in conn.execute(query)]


def revoke_token(conn: sa.Connection, public_id: str, now: dt.datetime) -> TokenInfo:
    result = conn.execute(
        tokens.update().where(tokens.c.public_id == public_id, tokens.c.revoked_at.is_(None)).values(revoked_at=now)
    )
    if result.rowcount != 1:
        raise InputError(f"no active token {public_id!r}")
    return token_info(conn.execute(select_tokens().where(tokens.c.public_id == public_id)).one())


def token_by_id(conn: sa.Connection, public_id: str, now: dt.datetime) -> TokenInfo | None:
    """An active (neither revoked nor expired) token by its public id."""
    row = conn.execute(select_tokens().where(tokens.c.public_id == public_id, tokens.c.revoked_at.is_(None))).first()
    info = token_info(row) if row is not None else None
    return info if info is not None and not info.expired(now) else None


def _lookup(conn: sa.Connection, token: str) -> TokenInfo | None:
    """The token whose secret matches (revoked, expired or not), else ``None`` (constant-time comparison)."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != _PREFIX:
        return None
    row = conn.execute(select_tokens().where(tokens.c.public_id == parts[1])).first()
    expected = row._mapping["secret_sha256"] if row is not None else _digest("no such token")
    matches = hmac.compare_digest(str(expected), _digest(parts[2]))
    return token_info(row) if row is not None and matches else None


def verify_token(conn: sa.Connection, token: str, now: dt.datetime) -> TokenInfo | None:
    """The token's description when it is valid, not revoked and not expired at ``now``, else ``None``."""
    info = _lookup(conn, token)
    if info is None or info.revoked_at is not None or info.expired(now):
        return None
    return info


def token_refusal(conn: sa.Connection, token: str, now: dt.datetime) -> str:
    """Why ``token`` is refused at ``now``, in words for its holder (an unknown token is not told apart from a
    mistyped one)."""
    info = _lookup(conn, token)
    if info is not None and info.revoked_at is None and info.expires_at is not None and info.expired(now):
        return f"the token {info.public_id} expired at {info.expires_at:%Y-%m-%d %H:%M} UTC; ask for a new one"
    if info is not None and info.revoked_at is not None:
        return f"the token {info.public_id} was revoked"
    return "a valid organisation token is required"
