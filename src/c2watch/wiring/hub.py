"""The hub process: ``create_hub_app(store, settings)`` builds the TAXII 2.1 server and the dashboard on a store,
with the store's upkeep and the hub's judge running while it serves.

The judge: ``hub_refresh_minutes`` after observations arrive (every push meanwhile gathered into one refresh, on
whichever replica it landed), verdicts and events are recomputed from every organisation's records in a worker
thread, and new events go to the hub's ``[alerts]`` webhooks; with several replicas on one PostgreSQL store this and
the store's upkeep run on one of them (elected in the store). The hub's dashboard shows these verdicts."""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from prometheus_client import start_http_server

from c2watch.alerts import GatheredJudge, store_alert_loop
from c2watch.alerts.gathered import POLL
from c2watch.analysis.events import RefreshReport
from c2watch.config import Settings
from c2watch.metrics import CONTENT_TYPE_LATEST, HubMetrics
from c2watch.store import Store, Upkeep
from c2watch.taxii.admin import admin_router
from c2watch.taxii.auth import authenticate, token_from_header
from c2watch.taxii.backend import HubBackend, StoreBackend
from c2watch.taxii.collections import OBSERVATIONS
from c2watch.taxii.errors import TaxiiError, install_error_handlers
from c2watch.taxii.keys import keys_router
from c2watch.taxii.login import login_router, session_auth
from c2watch.taxii.organization import organization_router
from c2watch.taxii.views import taxii_router
from c2watch.web.app import dashboard_router, security_headers
from c2watch.web.assets import assets_router
from c2watch.web.edl import edl_router

__all__ = ["DEFAULT_MAX_CONTENT_LENGTH", "HubJudge", "create_hub_app", "serve_metrics", "serving_app"]

log = logging.getLogger(__name__)

DEFAULT_MAX_CONTENT_LENGTH = 20 * 1024 * 1024


def create_hub_app(
    store: Store,
    settings: Settings | None = None,
    *,
    max_content_length: int = DEFAULT_MAX_CONTENT_LENGTH,
    clock: Callable[[], dt.datetime] | None = None,
) -> FastAPI:
    """A hub serving ``store``: TAXII discovery at ``/taxii2/``, the API root at ``/api/``, the dashboard at
    ``/dashboard/`` and the admin page at ``/admin/`` behind a login with an organisation token (``/login``, a
    session kept in the store), the deny lists firewalls poll at ``/edl/{ip,domain,url}.txt`` (an organisation
    token), Prometheus metrics at ``/metrics`` (behind ``[hub] metrics_token`` or an ``operator`` token; absent when
    ``[hub] metrics_listen`` serves them elsewhere: ``app.state.metrics``).
    While served (with lifespan events) it keeps the store up (monthly partitions ahead, daily retention) and judges
    the destinations from every organisation's records some minutes after new ones arrive (:class:`HubJudge`).
    """
    settings = settings or Settings()
    upkeep = Upkeep(store, settings, clock)
    judge = HubJudge(store, settings, clock or store.clock)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with upkeep.lifespan(app), judge.running():
            yield

    app = FastAPI(title="c2watch hub", version="1", docs_url=None, redoc_url=None, lifespan=lifespan)
    metrics = app.state.metrics = HubMetrics()
    install_error_handlers(app)
    backend = StoreBackend(store, settings.hub.max_object_bytes, settings.hub.max_page_bytes)
    install_metrics(app, metrics, None if settings.hub.metrics_listen else _metrics_guard(backend, settings))
    token_auth = authenticate(backend)
    router = taxii_router(
        backend, token_auth, max_content_length, clock or store.clock, metrics, on_ingest=judge.on_ingest
    )
    app.include_router(router)
    app.include_router(organization_router(token_auth))
    app.include_router(edl_router(store, settings, token_auth))  # firewalls poll with an organisation token
    app.include_router(keys_router(backend, token_auth, clock or store.clock))
    app.include_router(login_router(backend))
    app.include_router(assets_router())
    session = session_auth(backend)
    app.include_router(admin_router(backend, session))
    app.include_router(dashboard_router(store, settings, auth=session, sign_out="/logout"), prefix="/dashboard")
    app.middleware("http")(security_headers)
    return app


def serving_app(store: Store, settings: Settings) -> FastAPI:
    """The hub as ``c2watch hub serve`` runs it: the configured request limit."""
    return create_hub_app(store, settings, max_content_length=settings.hub.max_content_length)


def serve_metrics(app: FastAPI, listen: str) -> tuple[str, int]:
    """Serve the hub's metrics without a token on their own ``host:port`` (``[hub] metrics_listen``), from a
    background thread; the address they are served on."""
    host, _, port = listen.rpartition(":")
    host = host.strip("[]")
    metrics: HubMetrics = app.state.metrics
    server, _thread = start_http_server(int(port), addr=host, registry=metrics.registry)
    bound = server.server_address
    return str(bound[0]), int(bound[1])


def _metrics_guard(backend: HubBackend, settings: Settings) -> Callable[[Request], None]:
    """``/metrics`` on the public listener: the ``[hub] metrics_token`` or an ``operator`` token, else 401."""
    expected = settings.hub.metrics_token

    def guard(request: Request) -> None:
        token = token_from_header(request.headers.get("authorization", "")) or ""
        if expected and hmac.compare_digest(token.encode(), expected.encode()):
            return
        info = backend.verify_token(token) if token else None
        if info is None or not info.hub_wide:
            raise TaxiiError(
                401,
                "Unauthorized",
                "/metrics needs [hub] metrics_token or an operator token",
                {"WWW-Authenticate": 'Bearer realm="c2watch metrics"'},
            )

    return guard


def install_metrics(app: FastAPI, metrics: HubMetrics, guard: Callable[[Request], None] | None) -> None:
    """Time every request by its route template; serve ``/metrics`` for Prometheus behind ``guard`` (None: not on
    this app, the metrics are served on their own address)."""

    @app.middleware("http")
    async def measure(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        start = time.perf_counter()
        response = await call_next(request)
        route = getattr(request.scope.get("route"), "path", "unmatched")
        metrics.requests.labels(request.method, route, str(response.status_code)).observe(time.perf_counter() - start)
        return response

    if guard is None:
        return

    @app.get("/metrics", include_in_schema=False)
    def exposition(request: Request) -> Response:
        guard(request)
        return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)


class HubJudge:
    """``on_ingest`` wakes the judge; ``running()`` runs it while the hub serves. The gathering is kept in the store
    and the refresh runs on the replica leading the judge (:class:`~c2watch.alerts.GatheredJudge`)."""

    def __init__(self, store: Store, settings: Settings, clock: Callable[[], dt.datetime]) -> None:
        seconds = settings.verdict.hub_refresh_minutes * 60
        self.loop: GatheredJudge | None = None
        if seconds > 0:
            alerts = store_alert_loop(store, settings, clock, on_report=_log)
            leadership = store.maintenance.leadership("judge")
            self.loop = GatheredJudge(store, alerts, seconds, leadership, poll=min(POLL, seconds))

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
