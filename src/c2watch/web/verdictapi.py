"""The JSON API of the verdicts across observers and the change events, as stored by the last refresh (nothing
is recomputed on a request): ``/api/verdicts``, ``/api/destinations/{id}/verdict`` and ``/api/events``."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from c2watch.analysis.destination import find_target
from c2watch.analysis.monthly import threat_rows
from c2watch.analysis.verdicts import VerdictRules
from c2watch.analysis.verdictview import (
    EventWindow,
    destination_verdict,
    parse_kinds,
    parse_statuses,
    threat_verdicts,
    timeline,
)
from c2watch.errors import InputError
from c2watch.stix.exchange import parse_since
from c2watch.web.api import scope_of
from c2watch.web.context import Dashboard
from c2watch.web.errors import guarded_route, json_error
from c2watch.web.params import KindParam, LimitParam, MonthParam, Threat, VerdictParam

__all__ = ["verdict_api_router"]

SinceParam = Query(None, description="Only events at or after this date or timestamp (UTC), e.g. 2026-11-01.")
DestinationParam = Query(None, description="Only the events of this destination id.")


def _later(start: dt.datetime | None, since: str | None) -> dt.datetime | None:
    """The later of a month's start and ``since`` (parsed)."""
    if since is None:
        return start
    try:
        parsed = parse_since(since)
    except InputError as exc:
        raise InputError(f"since: not a date or timestamp: {since!r}") from exc
    return parsed if start is None else max(start, parsed)


def verdict_api_router(dash: Dashboard) -> APIRouter:
    router = APIRouter(prefix="/api", route_class=guarded_route(json_error), tags=["verdicts"])

    @router.get("/verdicts", name="dashboard.api.verdicts")
    def api_verdicts(threat: str | None = Threat, verdict: list[str] = VerdictParam) -> JSONResponse:
        """Every destination's verdict across observers with its evidence, as stored by the last refresh, and the
        counts per status (``computed_at`` is null when none were computed yet: run ``c2watch status``)."""
        chosen = parse_statuses(verdict)
        threat_rows(dash.store, threat)
        found = threat_verdicts(dash.store, threat).as_dict(dash.clock, chosen)
        return JSONResponse({**found, "rules": VerdictRules.from_settings(dash.settings).as_dict()})

    @router.get("/destinations/{target_pk}/verdict", name="dashboard.api.destination_verdict")
    def api_destination_verdict(target_pk: int) -> JSONResponse:
        """One destination's stored verdict with its evidence (``verdict`` is null when not computed yet)."""
        target = find_target(dash.store, target_pk)
        found = destination_verdict(dash.store, target)
        return JSONResponse({"zone": dash.zone, "verdict": found.as_dict(dash.clock) if found else None})

    @router.get("/events", name="dashboard.api.events")
    def api_events(
        threat: str | None = Threat,
        month: str | None = MonthParam,
        since: str | None = SinceParam,
        destination: int | None = DestinationParam,
        kind: list[str] = KindParam,
        verdict: list[str] = VerdictParam,
        limit: int = LimitParam,
    ) -> JSONResponse:
        """Stored change events, oldest first (the newest ``limit``), and ``total``: how many match. ``month``
        bounds them in the configured zone; ``verdict`` keeps the destinations whose stored verdict is one of
        those."""
        scope = scope_of(dash, threat, month)
        if destination is not None:
            find_target(dash.store, destination)
        window = EventWindow(
            _later(scope.start, since),
            scope.end,
            threat,
            destination,
            parse_kinds(kind),
            parse_statuses(verdict),
            limit,
        )
        return JSONResponse(timeline(dash.store, window).as_dict(dash.clock))

    return router
