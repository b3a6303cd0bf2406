"""The hub's dashboard login: an organisation token, once, exchanged for a signed session cookie
(HttpOnly, SameSite=Strict, Secure over HTTPS) that names the token, so revoking the token ends the session."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from c2watch.taxii.backend import HubBackend, TokenInfo

__all__ = ["COOKIE", "SessionSigner", "login_router", "session_auth"]

COOKIE = "c2watch_session"
LIFETIME = 12 * 3600


class SessionSigner:
    """``<token id>.<expiry>.<HMAC-SHA256>`` with a hub secret; nothing secret is in the cookie."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _mac(self, payload: str) -> str:
        digest = hmac.new(self._secret, payload.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def sign(self, public_id: str, now: float) -> str:
        payload = f"{public_id}.{int(now) + LIFETIME}"
        return f"{payload}.{self._mac(payload)}"

    def verify(self, value: str, now: float) -> str | None:
        payload, _, mac = value.rpartition(".")
        public_id, _, expiry = payload.partition(".")
        if not hmac.compare_digest(mac, self._mac(payload)) or not expiry.isdigit() or int(expiry) < now:
            return None
        return public_id


_FORM = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>c2watch hub: sign in</title>
<link rel="stylesheet" href="/static/c2watch.css"></head><body><main class="login">
<h1>c2watch hub</h1><p>Sign in with your organisation's token.</p>{error}
<form method="post" action="/login"><label>Token <input type="password" name="token" autocomplete="off" required>
</label><button type="submit">Sign in</button></form></main></body></html>"""


def session_auth(backend: HubBackend, signer: SessionSigner) -> Callable[[Request], TokenInfo]:
    """A dependency for dashboard routes: the session's token, or a redirect to the login page."""

    def dependency(request: Request) -> TokenInfo:
        public_id = signer.verify(request.cookies.get(COOKIE, ""), time.time())
        info = backend.token_by_id(public_id) if public_id else None
        if info is None:
            raise HTTPException(303, "sign in first", headers={"Location": "/login"})
        return info

    return dependency


def login_router(backend: HubBackend, signer: SessionSigner) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/login")
    def form() -> HTMLResponse:
        return HTMLResponse(_FORM.format(error=""))

    @router.post("/login")
    def sign_in(request: Request, token: Annotated[str, Form()]) -> Response:
        info = backend.verify_token(token.strip())
        if info is None:
            message = '<p class="error">That token is not valid.</p>'
            return HTMLResponse(_FORM.format(error=message), status_code=401)
        response = RedirectResponse("/dashboard/", status_code=303)
        response.set_cookie(
            COOKIE,
            signer.sign(info.public_id, time.time()),
            max_age=LIFETIME,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path="/",
        )
        return response

    @router.post("/logout")
    def sign_out() -> Response:
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

    @router.get("/")
    def home() -> Response:
        return RedirectResponse("/dashboard/", status_code=303)

    return router
