"""The hub: ``create_hub_app(store, settings)`` builds the TAXII 2.1 server and the dashboard on a store."""

from __future__ import annotations

import datetime as dt
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response

from c2watch.config import Settings
from c2watch.metrics import CONTENT_TYPE_LATEST, HubMetrics
from c2watch.store import Store
from c2watch.store.upkeep import Upkeep
from c2watch.taxii.auth import authenticate
from c2watch.taxii.errors import install_error_handlers
from c2watch.taxii.judge import HubJudge
from c2watch.taxii.login import SessionSigner, login_router, session_auth
from c2watch.taxii.views import taxii_router
from c2watch.web.app import dashboard_router, security_headers
from c2watch.web.assets import assets_router

__all__ = ["DEFAULT_MAX_CONTENT_LENGTH", "create_hub_app"]

DEFAULT_MAX_CONTENT_LENGTH = 20 * 1024 * 1024


def create_hub_app(
    store: Store,
    settings: Settings | None = None,
    *,
    max_content_length: int = DEFAULT_MAX_CONTENT_LENGTH,
    clock: Callable[[], dt.datetime] | None = None,
    session_secret: bytes | None = None,
) -> FastAPI:
    """A hub serving ``store``: TAXII discovery at ``/taxii2/``, the API root at ``/api/``, the dashboard at
    ``/dashboard/`` behind a login with an organisation token (``/login``), Prometheus metrics at ``/metrics``.
    While served (with lifespan events) it keeps the store up (monthly partitions ahead, daily retention) and judges
    the destinations from every organisation's records some minutes after new ones arrive (:mod:`c2watch.taxii.judge`).

    Without ``session_secret`` a random one is made, so sessions end when the process does.
    """
    settings = settings or Settings()
    upkeep = Upkeep(store, settings, clock)
    judge = HubJudge(store, settings, clock or store.clock)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with upkeep.lifespan(app), judge.running():
            yield

    app = FastAPI(title="c2watch hub", version="1", docs_url=None, redoc_url=None, lifespan=lifespan)
    metrics = HubMetrics()
    install_error_handlers(app)
    install_metrics(app, metrics)
    router = taxii_router(
        store, authenticate(store), max_content_length, clock or store.clock, metrics, on_ingest=judge.on_ingest
    )
    app.include_router(router)
    signer = SessionSigner(session_secret or secrets.token_bytes(32))
    app.include_router(login_router(store, signer))
    app.include_router(assets_router())
    dashboard = dashboard_router(store, settings, auth=session_auth(store, signer))
    app.include_router(dashboard, prefix="/dashboard")
    app.middleware("http")(security_headers)
    return app


def install_metrics(app: FastAPI, metrics: HubMetrics) -> None:
    """Time every request by its route template; serve ``/metrics`` for Prometheus."""

    @app.middleware("http")
    async def measure(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        start = time.perf_counter()
        response = await call_next(request)
        route = getattr(request.scope.get("route"), "path", "unmatched")
        metrics.requests.labels(request.method, route, str(response.status_code)).observe(time.perf_counter() - start)
        return response

    @app.get("/metrics", include_in_schema=False)
    def exposition() -> Response:
        return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)
