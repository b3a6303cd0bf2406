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
from c2watch.analysis.reactivation import Reactivation
from c2watch.analysis.transitions import StatusHistory

__all__ = [
    "Table",
    "correlation_table",
    "csv_cell",
    "monthly_table",
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
