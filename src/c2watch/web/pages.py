"""The HTML pages: overview, the month view of a threat ID, a destination's history, the monthly report."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from c2watch.analysis import Month, destination_history, month_view, monthly_report, overview
from c2watch.web.context import Dashboard
from c2watch.web.errors import ErrorRenderer, guarded_route

__all__ = ["page_router"]


def html_error(dash: Dashboard) -> ErrorRenderer:
    def render(request: Request, status: int, message: str) -> Response:
        return dash.render(request, "error.html", status_code=status, status=status, message=message)

    return render


def page_router(dash: Dashboard) -> APIRouter:
    router = APIRouter(route_class=guarded_route(html_error(dash)), include_in_schema=False)

    @router.get("/", name="dashboard.overview", response_class=HTMLResponse)
    def overview_page(request: Request) -> Response:
        return dash.render(request, "overview.html", overview=overview(dash.store))

    @router.get("/report/monthly", name="dashboard.report", response_class=HTMLResponse)
    def report_page(request: Request) -> Response:
        return dash.render(request, "report.html", report=monthly_report(dash.store, dash.zone))

    @router.get("/threats/{threat_id:path}", name="dashboard.threat", response_class=HTMLResponse)
    def threat_page(request: Request, threat_id: str, month: str | None = None) -> Response:
        chosen = Month.parse(month) if month is not None else None
        view = month_view(dash.store, dash.zone, threat_id, chosen, with_traces=False)
        return dash.render(request, "threat.html", view=view)

    @router.get("/destinations/{target_pk}", name="dashboard.destination", response_class=HTMLResponse)
    def destination_page(request: Request, target_pk: int) -> Response:
        history = destination_history(dash.store, dash.zone, target_pk, with_traces=False)
        return dash.render(request, "destination.html", history=history)

    return router
