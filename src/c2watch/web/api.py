"""The JSON API: one endpoint per analysis, plus the data behind the month view and the destination page."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from c2watch.analysis import (
    Month,
    correlations,
    destination_history,
    month_view,
    monthly_report,
    overview,
    reactivations,
    status_histories,
)
from c2watch.analysis.identityview import identity_marks
from c2watch.analysis.monthly import threat_rows
from c2watch.analysis.verdictview import filter_month, month_pie, parse_statuses, threat_verdicts
from c2watch.store import Scope
from c2watch.web.context import Dashboard
from c2watch.web.errors import guarded_route, json_error
from c2watch.web.params import MonthParam, Threat, VerdictParam

__all__ = ["api_router", "scope_of"]


def scope_of(dash: Dashboard, threat: str | None, month: str | None) -> Scope:
    """The observations of ``threat`` (checked to exist) in ``month`` (parsed, in the configured zone)."""
    if threat is not None:
        threat_rows(dash.store, threat)
    if month is None:
        return Scope(threat=threat)
    start, end = Month.parse(month).bounds(dash.zone)
    return Scope(threat=threat, start=start, end=end)


def api_router(dash: Dashboard) -> APIRouter:
    router = APIRouter(prefix="/api", route_class=guarded_route(json_error), tags=["analysis"])

    @router.get("/overview", name="dashboard.api.overview")
    def api_overview() -> JSONResponse:
        """Threat IDs with destinations, the 30-day response rate and the stored verdict counts per status."""
        return JSONResponse(overview(dash.store).as_dict())

    @router.get("/report/monthly", name="dashboard.api.monthly")
    def api_monthly(threat: str | None = Threat) -> JSONResponse:
        """Monthly HTTP response rate per threat ID (the paper's Table 1)."""
        return JSONResponse(monthly_report(dash.store, dash.zone, threat).as_dict())

    @router.get("/correlation", name="dashboard.api.correlation")
    def api_correlation(threat: str | None = Threat, month: str | None = MonthParam) -> JSONResponse:
        """HTTP answer x ping reply per destination and month: counts, agreement share, phi coefficient."""
        chosen = Month.parse(month) if month else None
        found = correlations(dash.store, dash.zone, threat, chosen)
        return JSONResponse({"zone": dash.zone, "correlations": [c.as_dict() for c in found]})

    @router.get("/transitions", name="dashboard.api.transitions")
    def api_transitions(
        threat: str | None = Threat, month: str | None = MonthParam, min_run: int = Query(1, ge=1, le=10_000)
    ) -> JSONResponse:
        """Status-code phases and transitions per destination and observer (phases < min_run are noise)."""
        found = status_histories(dash.store, scope_of(dash, threat, month), min_run)
        return JSONResponse({"zone": dash.zone, "histories": [h.as_dict(dash.clock) for h in found]})

    @router.get("/reactivations", name="dashboard.api.reactivations")
    def api_reactivations(
        threat: str | None = Threat,
        month: str | None = MonthParam,
        min_gap_days: float = Query(7.0, gt=0, le=3650),
        min_silent: int = Query(6, ge=0, le=1_000_000),
    ) -> JSONResponse:
        """Destinations that gave no HTTP answer for at least ``min_gap_days``, then answered again."""
        gap = dt.timedelta(days=min_gap_days)
        found = reactivations(dash.store, scope_of(dash, threat, month), gap, min_silent)
        return JSONResponse({"zone": dash.zone, "reactivations": [r.as_dict(dash.clock) for r in found]})

    @router.get("/threats/{threat_id:path}/month/{month}", name="dashboard.api.month")
    def api_month(threat_id: str, month: str, verdict: list[str] = VerdictParam) -> JSONResponse:
        """The month view's data: traces per destination and observer, the pie, the per-destination table; with
        ``verdict``, only the destinations whose stored verdict is one of those (the pie from their traces)."""
        chosen = parse_statuses(verdict)
        view = month_view(dash.store, dash.zone, threat_id, Month.parse(month))
        if chosen:
            verdicts = threat_verdicts(dash.store, threat_id)

            def keep(target_pk: int) -> bool:
                return verdicts.keeps(target_pk, chosen)

            view = filter_month(view, keep, month_pie(dash.store, scope_of(dash, threat_id, month), keep))
        shown = {d.target_pk for d in view.destinations}
        marks = identity_marks(dash.store, threat_id, Month.parse(month).bounds(dash.zone), shown)
        return JSONResponse({**view.as_dict(), "marks": [mark.as_dict(dash.clock) for mark in marks]})

    @router.get("/destinations/{target_pk}", name="dashboard.api.destination")
    def api_destination(target_pk: int) -> JSONResponse:
        """One destination's full history."""
        return JSONResponse(destination_history(dash.store, dash.zone, target_pk).as_dict())

    return router
