"""The hub's dashboard login: an organisation token, once, exchanged for a session kept on the server. The cookie
(HttpOnly, SameSite=Strict, Secure over HTTPS) holds only a random value whose SHA-256 names the session row;
logging out ends the row, so the cookie stops working even where it was copied, and revoking or the expiry of the
token ends its sessions too.

Cross-site requests: ``POST /login`` and ``POST /logout`` are refused (403) when the browser says they come from
another origin: ``Sec-Fetch-Site`` other than ``same-origin`` or ``none`` when the browser sends it, else an
``Origin`` (or, without one, a ``Referer``) that is not this hub's scheme, host and port. A client that sends none
of them (curl, a script) is not a browser carrying someone else's cookie and is let through.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from c2watch.taxii.backend import HubBackend, TokenInfo

__all__ = ["COOKIE", "LIFETIME", "login_router", "same_origin", "session_auth"]

COOKIE = "c2watch_session"
LIFETIME = dt.timedelta(hours=12)

_FORM = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>c2watch hub: sign in</title>
<link rel="stylesheet" href="/static/c2watch.css"></head><body><main class="login">
<h1>c2watch hub</h1><p>Sign in with your organisation's token.</p>{error}
<form method="post" action="/login"><label>Token <input type="password" name="token" autocomplete="off" required>
</label><button type="submit">Sign in</button></form></main></body></html>"""


def _origin_of(url: str) -> str | None:
    try:
        parts = urlsplit(url)
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:
        return None
    if not parts.scheme or not parts.hostname:
        return None
    return f"{parts.scheme}://{parts.hostname}:{port}".lower()


def same_origin(request: Request) -> bool:
    """False when the browser says the request comes from another origin than this hub (``Sec-Fetch-Site``, else
    ``Origin``, else ``Referer``); True when it says it comes from here, or says nothing."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site in ("same-origin", "none")
    claimed = request.headers.get("origin") or request.headers.get("referer")
    if claimed is None:
        return True
    here = _origin_of(str(request.base_url))
    return claimed != "null" and here is not None and _origin_of(claimed) == here


def refuse_cross_site(request: Request) -> None:
    """A dependency for state-changing form posts: 403 for a cross-site request."""
    if not same_origin(request):
        raise HTTPException(403, "cross-site request refused")


def session_auth(backend: HubBackend) -> Callable[[Request], TokenInfo]:
    """A dependency for dashboard routes: the session's token, or a redirect to the login page."""

    def dependency(request: Request) -> TokenInfo:
        value = request.cookies.get(COOKIE, "")
        info = backend.session_token(value) if value else None
        if info is None:
            raise HTTPException(303, "sign in first", headers={"Location": "/login"})
        return info

    return dependency


def login_router(backend: HubBackend) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/login")
    def form() -> HTMLResponse:
        return HTMLResponse(_FORM.format(error=""))

    @router.post("/login", dependencies=[Depends(refuse_cross_site)])
    def sign_in(request: Request, token: Annotated[str, Form()]) -> Response:
        info = backend.verify_token(token.strip())
        if info is None:
            message = f'<p class="error">{_refusal(backend, token.strip())}</p>'
            return HTMLResponse(_FORM.format(error=message), status_code=401)
        response = RedirectResponse("/dashboard/", status_code=303)
        response.set_cookie(
            COOKIE,
            backend.start_session(info.public_id, LIFETIME),
            max_age=int(LIFETIME.total_seconds()),
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path="/",
        )
        return response

    @router.post("/logout", dependencies=[Depends(refuse_cross_site)])
    def sign_out(request: Request) -> Response:
        value = request.cookies.get(COOKIE)
        if value:
            backend.end_session(value)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

    @router.get("/")
    def home() -> Response:
        return RedirectResponse("/dashboard/", status_code=303)

    return router


def _refusal(backend: HubBackend, token: str) -> str:
    reason = backend.token_refusal(token)
    return "That token has expired." if "expired" in reason else "That token is not valid."
