"""Organisations and their tokens. A token is shown once; only the SHA-256 of its secret is stored, and it is
compared in constant time. Format: ``c2w_<public id>_<secret>``."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
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
    "revoke_token",
    "verify_token",
]

ROLES = ("observer", "reader", "coordinator", "admin")
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


def create_token(conn: sa.Connection, org: str, name: str, role: str, now: dt.datetime) -> tuple[str, TokenInfo]:
    """A new token (the only time its secret is seen) and its description."""
    if role not in ROLES:
        raise InputError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
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
        )
    )
    info = TokenInfo(public_id, organization.name, organization.identity, organization.id, name, role, now)
    return f"{_PREFIX}_{public_id}_{secret}", info


def _select_tokens() -> sa.Select[tuple[object, ...]]:
    return sa.select(tokens, organizations.c.name.label("org_name"), organizations.c.identity).join(
        organizations, tokens.c.org_pk == organizations.c.id
    )


def _info(row: sa.Row[tuple[object, ...]]) -> TokenInfo:
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
    )


def list_tokens(conn: sa.Connection, org: str | None = None) -> list[TokenInfo]:
    query = _select_tokens().order_by(tokens.c.id)
    if org is not None:
        query = query.where(organizations.c.name == org)
    return [_info(row) for row in conn.execute(query)]


def revoke_token(conn: sa.Connection, public_id: str, now: dt.datetime) -> TokenInfo:
    result = conn.execute(
        tokens.update().where(tokens.c.public_id == public_id, tokens.c.revoked_at.is_(None)).values(revoked_at=now)
    )
    if result.rowcount != 1:
        raise InputError(f"no active token {public_id!r}")
    return _info(conn.execute(_select_tokens().where(tokens.c.public_id == public_id)).one())


def token_by_id(conn: sa.Connection, public_id: str) -> TokenInfo | None:
    """An active (not revoked) token by its public id."""
    row = conn.execute(_select_tokens().where(tokens.c.public_id == public_id, tokens.c.revoked_at.is_(None))).first()
    return _info(row) if row is not None else None


def verify_token(conn: sa.Connection, token: str) -> TokenInfo | None:
    """The token's description when it is valid and not revoked, else ``None`` (constant-time comparison)."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != _PREFIX:
        return None
    row = conn.execute(_select_tokens().where(tokens.c.public_id == parts[1])).first()
    expected = row._mapping["secret_sha256"] if row is not None else _digest("no such token")
    matches = hmac.compare_digest(str(expected), _digest(parts[2]))
    if row is None or not matches or row._mapping["revoked_at"] is not None:
        return None
    return _info(row)
