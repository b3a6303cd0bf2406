"""The hub process: ``create_hub_app(store, settings)`` builds the TAXII 2.1 server and the dashboard on a store,
with the store's upkeep and the hub's judge running while it serves.

The judge: ``hub_refresh_minutes`` after observations arrive (every push meanwhile gathered into one refresh),
verdicts and events are recomputed from every organisation's records in a worker thread, and new events go to the
hub's ``[alerts]`` webhooks. The hub's dashboard shows these verdicts."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request, Response

from c2watch.alerts import AlertLoop, store_alert_loop
from c2watch.analysis.events import RefreshReport
from c2watch.config import Settings
from c2watch.metrics import CONTENT_TYPE_LATEST, HubMetrics
from c2watch.store import Store, Upkeep
from c2watch.taxii.auth import authenticate
from c2watch.taxii.backend import StoreBackend
from c2watch.taxii.collections import OBSERVATIONS
from c2watch.taxii.errors import install_error_handlers
from c2watch.taxii.keys import keys_router
from c2watch.taxii.login import SessionSigner, login_router, session_auth
from c2watch.taxii.views import taxii_router
from c2watch.web.app import dashboard_router, security_headers
from c2watch.web.assets import assets_router

__all__ = ["DEFAULT_MAX_CONTENT_LENGTH", "HubJudge", "create_hub_app", "serving_app", "session_secret"]

log = logging.getLogger(__name__)

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
    the destinations from every organisation's records some minutes after new ones arrive (:class:`HubJudge`).

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
    backend = StoreBackend(store)
    router = taxii_router(
        backend, authenticate(backend), max_content_length, clock or store.clock, metrics, on_ingest=judge.on_ingest
    )
    app.include_router(router)
    app.include_router(keys_router(backend, authenticate(backend), clock or store.clock))
    signer = SessionSigner(session_secret or secrets.token_bytes(32))
    app.include_router(login_router(backend, signer))
    app.include_router(assets_router())
    dashboard = dashboard_router(store, settings, auth=session_auth(backend, signer))
    app.include_router(dashboard, prefix="/dashboard")
    app.middleware("http")(security_headers)
    return app


def serving_app(store: Store, settings: Settings, data_dir: Path) -> FastAPI:
    """The hub as ``c2watch hub serve`` runs it: the configured request limit, and the dashboard sessions' signing
    key kept in the data directory (so sessions survive a restart)."""
    secret = session_secret(data_dir / "hub-session.key")
    return create_hub_app(store, settings, max_content_length=settings.hub.max_content_length, session_secret=secret)


def session_secret(path: Path) -> bytes:
    """The dashboard sessions' signing key, kept in the data directory so sessions survive a restart."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(secrets.token_bytes(32))
        path.chmod(0o600)
    return path.read_bytes()


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


class HubJudge:
    """``on_ingest`` kicks the refresh; ``running()`` runs the loop while the hub serves."""

    def __init__(self, store: Store, settings: Settings, clock: Callable[[], dt.datetime]) -> None:
        minutes = settings.verdict.hub_refresh_minutes
        self.loop: AlertLoop | None = None
        if minutes > 0:
            self.loop = store_alert_loop(store, settings, clock, on_report=_log, gather=minutes * 60)

    def on_ingest(self, alias: str) -> None:
        if self.loop is not None and alias == OBSERVATIONS.alias:
            self.loop.kick()

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        if self.loop is None:
            yield
            return
        stop = asyncio.Event()
        task = asyncio.create_task(self.loop.run(stop))
        try:
            yield
        finally:
            stop.set()
            await task


def _log(result: object) -> None:
    if isinstance(result, RefreshReport):
        log.info("verdicts refreshed: %s", result.counts(), extra={"verdicts": result.as_dict()})
