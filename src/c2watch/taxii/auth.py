"""Who is asking: an organisation token as an HTTP Basic password, ``Authorization: Token …`` or ``Bearer …``.
Roles: observers write observations, coordinators write the watchlist, admins both; every member reads. An expired
token is a 401 that says so."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable

from fastapi import Request

from c2watch.taxii.backend import HubBackend, TokenInfo
from c2watch.taxii.errors import TaxiiError

__all__ = ["authenticate", "require_write", "token_from_header"]

_CHALLENGE = {"WWW-Authenticate": 'Basic realm="c2watch", charset="UTF-8"'}


def token_from_header(header: str) -> str | None:
    scheme, _, value = header.strip().partition(" ")
    scheme = scheme.lower()
    if scheme in ("token", "bearer"):
        return value.strip() or None
    if scheme == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.partition(":")[2] or None
    return None


def authenticate(backend: HubBackend) -> Callable[[Request], TokenInfo]:
    """A FastAPI dependency returning the caller's token, or raising 401."""

    def dependency(request: Request) -> TokenInfo:
        token = token_from_header(request.headers.get("authorization", ""))
        info = backend.verify_token(token) if token else None
        if info is None:
            reason = backend.token_refusal(token) if token else "a valid organisation token is required"
            title = "Token expired" if "expired" in reason else "Unauthorized"
            raise TaxiiError(401, title, reason, _CHALLENGE)
        return info

    return dependency


def require_write(info: TokenInfo, writers: tuple[str, ...], collection: str) -> None:
    if info.role not in writers:
        raise TaxiiError(403, "Forbidden", f"role {info.role!r} may not write to {collection}")
