"""The analysis pages: HTTP x ping correlation per destination and month (the paper's Fig. 6), status-code phases
and transitions, reactivations; each narrowed by threat ID and month, each table downloadable with
``?format=csv`` (the bytes ``c2watch report … --format csv`` prints).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse

from c2watch.analysis import Month, correlations, reactivations, status_histories
from c2watch.analysis.monthly import observed_months, threat_rows
from c2watch.analysis.tables import correlation_table, reactivation_table, transition_table
from c2watch.store import Scope
from c2watch.web.analysischarts import correlation_chart, reactivation_chart, transition_chart
from c2watch.web.api import scope_of
from c2watch.web.context import Dashboard
from c2watch.web.downloads import csv_download
from c2watch.web.errors import guarded_route
from c2watch.web.pages import html_error
from c2watch.web.params import FormatParam, MonthParam, Threat

__all__ = ["analysis_router"]


@dataclass(frozen=True)
class Choice:
    """What an analysis page is narrowed to, and what its form offers."""

    threat: str | None
    month: str | None
    threats: list[str]
    months: list[str]

    @classmethod
    def of(cls, dash: Dashboard, threat: str | None, month: str | None) -> Choice:
        """The choice of the query: ``threat`` checked to exist, ``month`` parsed (an empty value: all)."""
        if month is not None:
            month = str(Month.parse(month))
        chosen = threat_rows(dash.store, threat)
        months = observed_months(dash.store, [Scope(threat=row.threat_id) for row in chosen], dash.zone)
        threats = [row.threat_id for row in threat_rows(dash.store, None)]
        return cls(threat, month, threats, [str(m) for m in months])

    def query(self, **extra: Any) -> dict[str, str]:
        """The page's query (for its CSV link and the links between the analysis pages)."""
        values = {"threat": self.threat, "month": self.month, **extra}
        return {key: str(value) for key, value in values.items() if value is not None}


def render(dash: Dashboard, request: Request, name: str, choice: Choice, **context: Any) -> Response:
    return dash.render(request, name, choice=choice, **context)


def analysis_router(dash: Dashboard) -> APIRouter:
    router = APIRouter(prefix="/analysis", route_class=guarded_route(html_error(dash)), include_in_schema=False)

    @router.get("/correlation", name="dashboard.correlation", response_class=HTMLResponse)
    def correlation_page(
        request: Request, threat: str | None = Threat, month: str | None = MonthParam, fmt: str = FormatParam
    ) -> Response:
        threat, month = threat or None, month or None
        choice = Choice.of(dash, threat, month)
        found = correlations(dash.store, dash.zone, threat, Month.parse(month) if month else None)
        if fmt == "csv":
            return csv_download(correlation_table(found), "correlation", threat, choice.month)
        return render(dash, request, "correlation.html", choice, found=found, chart=correlation_chart(found))

    @router.get("/transitions", name="dashboard.transitions", response_class=HTMLResponse)
    def transitions_page(
        request: Request,
        threat: str | None = Threat,
        month: str | None = MonthParam,
        min_run: int = Query(1, ge=1, le=10_000),
        fmt: str = FormatParam,
    ) -> Response:
        threat, month = threat or None, month or None
        choice = Choice.of(dash, threat, month)
        found = status_histories(dash.store, scope_of(dash, threat, month), min_run)
        if fmt == "csv":
            return csv_download(transition_table(found, dash.clock), "transitions", threat, choice.month)
        chart = transition_chart(found, dash.clock)
        return render(dash, request, "transitions.html", choice, found=found, chart=chart, min_run=min_run)

    @router.get("/reactivations", name="dashboard.reactivations", response_class=HTMLResponse)
    def reactivations_page(
        request: Request,
        threat: str | None = Threat,
        month: str | None = MonthParam,
        min_gap_days: float = Query(7.0, gt=0, le=3650),
        min_silent: int = Query(6, ge=0, le=1_000_000),
        fmt: str = FormatParam,
    ) -> Response:
        threat, month = threat or None, month or None
        choice = Choice.of(dash, threat, month)
        gap = dt.timedelta(days=min_gap_days)
        found = reactivations(dash.store, scope_of(dash, threat, month), gap, min_silent)
        if fmt == "csv":
            return csv_download(reactivation_table(found, dash.clock), "reactivations", threat, choice.month)
        chart = reactivation_chart(found, dash.clock)
        params = {"min_gap_days": f"{min_gap_days:g}", "min_silent": str(min_silent)}
        return render(dash, request, "reactivations.html", choice, found=found, chart=chart, params=params)

    return router
