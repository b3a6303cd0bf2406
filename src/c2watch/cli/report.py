"""``c2watch report …``: the analyses as tables, CSV or JSON."""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any

import click
from rich.table import Table as RichTable

from c2watch.analysis import LocalClock, Month, correlations, monthly_report, reactivations, status_histories
from c2watch.analysis.tables import (
    Table,
    correlation_table,
    monthly_table,
    reactivation_table,
    transition_table,
)
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


def emit(app: App, fmt: str, table: Table, payload: Any, title: str) -> None:
    """Print ``table`` as a rich table or CSV (the dashboard's CSV download, the same bytes), or ``payload`` as
    JSON."""
    if fmt == "json":
        app.print_json(payload)
    elif fmt == "csv":
        sys.stdout.write(table.csv())
    else:
        shown = RichTable(*table.header, title=title)
        for row in table.rows:
            shown.add_row(*("-" if cell is None else str(cell) for cell in row))
        app.console.print(shown)


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
    emit(app, fmt, monthly_table(result), result.as_dict(), "monthly HTTP response rate (%)")


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
    emit(app, fmt, correlation_table(found), [c.as_dict() for c in found], "HTTP x ping")


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
    emit(app, fmt, transition_table(found, clock), [h.as_dict(clock) for h in found], "status-code transitions")


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
    emit(app, fmt, reactivation_table(found, clock), [r.as_dict(clock) for r in found], "reactivations")
