"""``c2watch report …``: the analyses as tables, CSV or JSON."""

from __future__ import annotations

import csv
import datetime as dt
import sys
from typing import Any

import click
from rich.table import Table

from c2watch.analysis import LocalClock, Month, correlations, monthly_report, reactivations, status_histories
from c2watch.cli.context import App, pass_app
from c2watch.store import Scope

FORMAT = click.option(
    "--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True
)
THREAT = click.option("--threat", help="Only this threat ID.")
MONTH = click.option("--month", help="Only this month (YYYY-MM, in [observer] zone).")


@click.group()
def report() -> None:
    """Analyses of the stored observations (months in the [observer] zone)."""


def emit(app: App, fmt: str, header: list[str], rows: list[list[Any]], payload: Any, title: str) -> None:
    """Print ``rows`` as a rich table or CSV, or ``payload`` as JSON."""
    if fmt == "json":
        app.print_json(payload)
    elif fmt == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerows([header, *rows])
    else:
        table = Table(*header, title=title)
        for row in rows:
            table.add_row(*("-" if cell is None else str(cell) for cell in row))
        app.console.print(table)


def scope(app: App, threat: str | None, month: str | None) -> Scope:
    if month is None:
        return Scope(threat=threat)
    start, end = Month.parse(month).bounds(app.settings.observer.zone)
    return Scope(threat=threat, start=start, end=end)


@report.command("monthly")
@THREAT
@FORMAT
@pass_app
def monthly(app: App, threat: str | None, fmt: str) -> None:
    """Monthly HTTP response rate (%) per threat ID, as in the paper's Table 1 ('-': no observations).

    Example: c2watch report monthly --format csv
    """
    result = monthly_report(app.store, app.settings.observer.zone, threat)
    emit(app, fmt, result.header(), result.rows(), result.as_dict(), "monthly HTTP response rate (%)")


@report.command("correlation")
@THREAT
@MONTH
@FORMAT
@pass_app
def correlation(app: App, threat: str | None, month: str | None, fmt: str) -> None:
    """HTTP answer x ping reply per destination and month: agreement share and phi coefficient.

    Example: c2watch report correlation --threat A --month 2021-03
    """
    found = correlations(app.store, app.settings.observer.zone, threat, Month.parse(month) if month else None)
    header = ["threat ID", "destination", "month", "both", "HTTP only", "ping only", "neither", "agreement", "phi"]
    rows = [
        [c.threat_id, c.destination, c.month, c.both, c.http_only, c.ping_only, c.neither, c.agreement, c.phi]
        for c in found
    ]
    emit(app, fmt, header, rows, [c.as_dict() for c in found], "HTTP x ping")


@report.command("transitions")
@THREAT
@MONTH
@click.option(
    "--min-run",
    type=click.IntRange(1),
    default=1,
    show_default=True,
    help="Phases shorter than this many observations are noise.",
)
@FORMAT
@pass_app
def transitions(app: App, threat: str | None, month: str | None, min_run: int, fmt: str) -> None:
    """Status-code phases per destination and observer, e.g. 200 → 404 → 500 → none.

    Example: c2watch report transitions --threat C --min-run 6
    """
    clock = LocalClock(app.settings.observer.zone)
    found = status_histories(app.store, scope(app, threat, month), min_run)
    header = ["threat ID", "destination", "observer", "path", "changed at"]
    rows = [
        [h.threat_id, h.destination, h.observer, h.path, ", ".join(str(clock.show(t.at)) for t in h.transitions)]
        for h in found
    ]
    emit(app, fmt, header, rows, [h.as_dict(clock) for h in found], "status-code transitions")


@report.command("reactivations")
@THREAT
@MONTH
@click.option("--min-gap-days", type=click.FloatRange(min=0, min_open=True), default=7.0, show_default=True)
@click.option(
    "--min-silent",
    type=click.IntRange(0),
    default=6,
    show_default=True,
    help="Observations without an answer needed inside the gap.",
)
@FORMAT
@pass_app
def reactivated(
    app: App, threat: str | None, month: str | None, min_gap_days: float, min_silent: int, fmt: str
) -> None:
    """Destinations dormant (no HTTP answer to anyone) for at least --min-gap-days, then answering again.

    Example: c2watch report reactivations --threat B --min-gap-days 14
    """
    clock = LocalClock(app.settings.observer.zone)
    gap = dt.timedelta(days=min_gap_days)
    found = reactivations(app.store, scope(app, threat, month), gap, min_silent)
    header = ["threat ID", "destination", "last answer", "answered again", "dormant days", "status"]
    rows = [
        [
            r.threat_id,
            r.destination,
            clock.show(r.last_answer_at),
            clock.show(r.reactivated_at),
            r.dormant_days,
            r.http_status,
        ]
        for r in found
    ]
    emit(app, fmt, header, rows, [r.as_dict(clock) for r in found], "reactivations")
