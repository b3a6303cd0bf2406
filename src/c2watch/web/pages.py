"""The HTML pages: overview, the month view of a threat ID, a destination's history, the monthly report.

Verdicts and events are read as stored by the last refresh (never recomputed on a request).
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from c2watch.analysis import Month, destination_history, month_view, monthly_report, overview
from c2watch.analysis.identityview import IDENTITY_EVENT_KINDS
from c2watch.analysis.verdicts import STATUSES
from c2watch.analysis.verdictview import (
    EVENT_LIMIT,
    EventWindow,
    Timeline,
    destination_verdict,
    filter_month,
    parse_statuses,
    threat_verdicts,
    timeline,
)
from c2watch.web.context import Dashboard
from c2watch.web.errors import ErrorRenderer, guarded_route
from c2watch.web.i18n import language, translator
from c2watch.web.params import VerdictParam

__all__ = ["page_router"]


def html_error(dash: Dashboard) -> ErrorRenderer:
    def render(request: Request, status: int, message: str) -> Response:
        return dash.render(request, "error.html", status_code=status, status=status, message=message)

    return render


def threat_page(dash: Dashboard, request: Request, threat_id: str, month: str | None, verdict: list[str]) -> Response:
    """The month view with each destination's verdict, narrowed by the verdict filter, and the month's events."""
    chosen = parse_statuses(verdict)
    view = month_view(dash.store, dash.zone, threat_id, Month.parse(month) if month else None, with_traces=False)
    verdicts = threat_verdicts(dash.store, threat_id)
    counts = verdicts.counts(d.target_pk for d in view.destinations)
    events = Timeline([], 0)
    if view.month is not None:
        start, end = view.month.bounds(dash.zone)
        window = EventWindow(start, end, threat=threat_id, statuses=chosen, limit=EVENT_LIMIT)
        events = timeline(dash.store, window)
    return dash.render(
        request,
        "threat.html",
        view=filter_month(view, lambda pk: verdicts.keeps(pk, chosen)),
        verdicts=verdicts,
        statuses=STATUSES,
        chosen=chosen,
        counts=counts,
        timeline=events,
        api_query=f"?{urlencode({'verdict': ','.join(chosen)})}" if chosen else "",
        kind_labels=_kind_labels(request),
    )


def _kind_labels(request: Request) -> dict[str, str]:
    """The identity event kinds' labels, for the marks the month view draws on its HTTP chart."""
    t = translator(language(request.query_params.get("lang")))
    return {kind: t(f"k_{kind}") for kind in IDENTITY_EVENT_KINDS}


def destination_page(dash: Dashboard, request: Request, target_pk: int) -> Response:
    history = destination_history(dash.store, dash.zone, target_pk, with_traces=False)
    verdict = destination_verdict(dash.store, history.target)
    events = timeline(dash.store, EventWindow(target_pk=target_pk, limit=EVENT_LIMIT))
    return dash.render(request, "destination.html", history=history, verdict=verdict, timeline=events)


def page_router(dash: Dashboard) -> APIRouter:
    router = APIRouter(route_class=guarded_route(html_error(dash)), include_in_schema=False)

    @router.get("/", name="dashboard.overview", response_class=HTMLResponse)
    def overview_page(request: Request) -> Response:
        return dash.render(request, "overview.html", overview=overview(dash.store), statuses=STATUSES)

    @router.get("/report/monthly", name="dashboard.report", response_class=HTMLResponse)
    def report_page(request: Request) -> Response:
        return dash.render(request, "report.html", report=monthly_report(dash.store, dash.zone))

    @router.get("/threats/{threat_id:path}", name="dashboard.threat", response_class=HTMLResponse)
    def threat_route(
        request: Request, threat_id: str, month: str | None = None, verdict: list[str] = VerdictParam
    ) -> Response:
        return threat_page(dash, request, threat_id, month, verdict)

    @router.get("/destinations/{target_pk}", name="dashboard.destination", response_class=HTMLResponse)
    def destination_route(request: Request, target_pk: int) -> Response:
        return destination_page(dash, request, target_pk)

    return router
