"""The dashboard application: ``create_app(store, settings, auth=...)``, and the routers to mount elsewhere.

Locally there is no login. The hub mounts the same pages behind its organisation-token login by passing ``auth``:
a FastAPI dependency that every page and API route runs first, e.g. one that checks a signed HttpOnly SameSite
session cookie and raises ``HTTPException(401)`` (or a 303 to its login page) without one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response

from c2watch.config import Settings
from c2watch.store import Store
from c2watch.web.api import api_router
from c2watch.web.assets import assets_router
from c2watch.web.context import Dashboard, make_templates
from c2watch.web.edl import edl_router, edl_tokens_auth
from c2watch.web.pages import page_router
from c2watch.web.verdictapi import verdict_api_router

__all__ = ["CSP", "AuthDependency", "create_app", "dashboard_router", "security_headers"]

#: A FastAPI dependency (any callable FastAPI can inject) that refuses a request by raising ``HTTPException``.
AuthDependency = Callable[..., Any]

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # nothing leaves for other sites; our own form posts carry their Origin
    "X-Frame-Options": "DENY",
}


def dashboard_router(
    store: Store, settings: Settings, *, auth: AuthDependency | None = None, sign_out: str | None = None
) -> APIRouter:
    """Every page and ``/api`` endpoint over ``store``, each behind ``auth`` when given; ``sign_out``: the path a
    "Sign out" button on every page posts to.

    Mount it with ``app.include_router(dashboard_router(store, settings, auth=login_required), prefix="/dash")``
    and include :func:`assets_router` too (``/static``, no login). Route names start with ``dashboard.``.
    """
    dash = Dashboard(store, settings, make_templates(), sign_out)
    router = APIRouter(dependencies=[Depends(auth)] if auth is not None else [])
    router.include_router(page_router(dash))
    router.include_router(api_router(dash))
    router.include_router(verdict_api_router(dash))
    return router


async def security_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    """Same-origin scripts and styles only, no framing, no sniffing, no referrer."""
    response = await call_next(request)
    for name, value in _HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def create_app(store: Store, settings: Settings, *, auth: AuthDependency | None = None) -> FastAPI:
    """The local dashboard: pages, JSON API (OpenAPI at ``/api/openapi.json``), static files and the deny lists
    firewalls poll (``/edl/…``, for the ``[edl] tokens``)."""
    app = FastAPI(
        title="c2watch dashboard",
        docs_url=None,  # the interactive docs load scripts from a CDN
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.include_router(assets_router())
    app.include_router(dashboard_router(store, settings, auth=auth))
    app.include_router(edl_router(store, settings, edl_tokens_auth(settings.edl.tokens)))
    app.middleware("http")(security_headers)
    return app
