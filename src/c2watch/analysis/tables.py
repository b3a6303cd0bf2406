"""The analyses as flat tables (a header and rows): what ``c2watch report … --format csv`` prints and what the
dashboard's ``?format=csv`` downloads, from one definition each.

CSV cells that a spreadsheet would run as a formula (text starting with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return, other than a lone ``-``: destinations come from watchlists) are prefixed with ``'``; numbers are
written as they are.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from c2watch.analysis.correlation import Correlation
from c2watch.analysis.localtime import LocalClock
from c2watch.analysis.monthly import MonthlyReport
from c2watch.analysis.monthview import MonthView
from c2watch.analysis.overview import Overview
from c2watch.analysis.reactivation import Reactivation
from c2watch.analysis.transitions import StatusHistory
from c2watch.analysis.verdicts import STATUSES
from c2watch.analysis.verdictview import ThreatVerdicts

__all__ = [
    "Table",
    "correlation_table",
    "csv_cell",
    "month_table",
    "monthly_table",
    "overview_table",
    "reactivation_table",
    "transition_table",
]

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Table:
    header: list[str]
    rows: list[list[Any]]

    def csv(self) -> str:
        """The table as CSV (``\\n`` line ends, formula-looking text neutralised)."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(self.header)
        writer.writerows([csv_cell(cell) for cell in row] for row in self.rows)
        return out.getvalue()


def csv_cell(cell: Any) -> Any:
    """``cell`` as written to CSV: ``None`` empty, text a spreadsheet would evaluate prefixed with ``'``."""
    if cell is None:
        return ""
    if isinstance(cell, str) and len(cell) > 1 and cell.startswith(_FORMULA_STARTS):
        return "'" + cell
    return cell


def monthly_table(report: MonthlyReport) -> Table:
    return Table(report.header(), [list(row) for row in report.rows()])


def correlation_table(found: Sequence[Correlation]) -> Table:
    header = ["threat ID", "destination", "month", "both", "HTTP only", "ping only", "neither", "agreement", "phi"]
    rows = [
        [c.threat_id, c.destination, c.month, c.both, c.http_only, c.ping_only, c.neither, c.agreement, c.phi]
        for c in found
    ]
    return Table(header, rows)


def transition_table(found: Sequence[StatusHistory], clock: LocalClock) -> Table:
    header = ["threat ID", "destination", "observer", "path", "changed at"]
    rows: list[list[Any]] = [
        [h.threat_id, h.destination, h.observer, h.path, ", ".join(str(clock.show(t.at)) for t in h.transitions)]
        for h in found
    ]
    return Table(header, rows)


def reactivation_table(found: Sequence[Reactivation], clock: LocalClock) -> Table:
    header = ["threat ID", "destination", "last answer", "answered again", "dormant days", "status"]
    rows: list[list[Any]] = [
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
    return Table(header, rows)


def overview_table(found: Overview, clock: LocalClock) -> Table:
    """The overview: per threat ID, its destinations, 30-day response rate and stored verdicts per status."""
    header = ["threat ID", "reported", "destinations", "response rate 30d (%)", *STATUSES, "not computed"]
    rows: list[list[Any]] = [
        [
            t.threat_id,
            t.reported_on.isoformat() if t.reported_on else None,
            t.destinations,
            t.response_rate,
            *(t.verdicts.get(status, 0) for status in STATUSES),
            t.not_computed,
            clock.show(t.last_observed_at),
        ]
        for t in found.threats
    ]
    return Table([*header, "last observed"], rows)


def month_table(view: MonthView, verdicts: ThreatVerdicts, clock: LocalClock) -> Table:
    """The month view's table: per destination, its stored verdict and the month's figures."""
    header = [
        "destination",
        "verdict",
        "since",
        "blocked observers",
        "observations",
        "response rate (%)",
        "last answer",
        "last status",
        "status changes",
        "codes",
    ]
    rows: list[list[Any]] = []
    for d in view.destinations:
        v = verdicts.of(d.target_pk)
        rows.append(
            [
                d.destination,
                v.status if v else None,
                clock.show(v.since) if v else None,
                " ".join(v.blocked) if v else None,
                d.observations,
                d.rate,
                clock.show(d.last_answer_at),
                d.last_status,
                d.changes,
                " ".join(d.codes),
            ]
        )
    return Table(header, rows)
