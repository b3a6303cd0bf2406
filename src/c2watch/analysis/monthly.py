"""Monthly HTTP response rate per threat ID (the paper's Table 1): the share of a month's observations with any
HTTP answer (``http_status`` set), months read in the configured zone. Months without observations show ``-``.

Days whose raw rows retention has rolled up count through their daily rollups (the store adds them), so a month's
cells stay the same after retention (docs/retention.md).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from c2watch.analysis.months import Month, month_range
from c2watch.errors import UnknownThreatError
from c2watch.store import Bucket, Scope, Store, ThreatRow

__all__ = ["Cell", "MonthlyReport", "ThreatMonths", "buckets_of", "monthly_report", "threat_rows"]


@dataclass(frozen=True)
class Cell:
    observations: int
    answered: int

    @property
    def rate(self) -> float:
        """Percent of observations with an HTTP answer, one decimal."""
        return round(100.0 * self.answered / self.observations, 1) if self.observations else 0.0


@dataclass
class ThreatMonths:
    threat_id: str
    reported_on: dt.date | None
    cells: dict[str, Cell] = field(default_factory=dict)

    def shown(self, month: str) -> str:
        """The rate as the paper prints it (``74.2``, ``0``, ``100``), ``-`` without observations."""
        cell = self.cells.get(month)
        return "-" if cell is None else f"{cell.rate:g}"


@dataclass
class MonthlyReport:
    zone: str
    months: list[str]
    threats: list[ThreatMonths]

    def header(self) -> list[str]:
        return ["threat ID", "reported", *self.months]

    def rows(self) -> list[list[str]]:
        return [
            [t.threat_id, t.reported_on.strftime("%Y-%m") if t.reported_on else "-", *map(t.shown, self.months)]
            for t in self.threats
        ]

    def as_dict(self) -> dict[str, Any]:
        return {
            "zone": self.zone,
            "months": self.months,
            "threats": [
                {
                    "threat_id": t.threat_id,
                    "reported_on": t.reported_on.isoformat() if t.reported_on else None,
                    "months": {
                        month: {"observations": c.observations, "answered": c.answered, "rate": c.rate}
                        for month, c in t.cells.items()
                    },
                }
                for t in self.threats
            ],
        }


def threat_rows(store: Store, threat: str | None) -> list[ThreatRow]:
    """Every threat, or the one asked for (:class:`UnknownThreatError` when the store does not hold it)."""
    rows = store.watchlist.threats()
    if threat is None:
        return rows
    chosen = [row for row in rows if row.threat_id == threat]
    if not chosen:
        raise UnknownThreatError(f"unknown threat ID {threat!r}")
    return chosen


def buckets_of(months: list[Month], zone: str) -> list[Bucket]:
    return [(str(month), *month.bounds(zone)) for month in months]


def observed_months(store: Store, scopes: list[Scope], zone: str) -> list[Month]:
    """Every month from the first to the last observation of any of ``scopes`` (index lookups only)."""
    spans = [found for scope in scopes if (found := store.reports.span(scope)) is not None]
    if not spans:
        return []
    first = Month.of(min(s[0] for s in spans), zone)
    return list(month_range(first, Month.of(max(s[1] for s in spans), zone)))


def monthly_report(store: Store, zone: str, threat: str | None = None) -> MonthlyReport:
    """Table 1 for every threat (or one): one aggregate query over the observed months."""
    rows = threat_rows(store, threat)
    months = observed_months(store, [Scope(threat=row.threat_id) for row in rows], zone)
    counts = store.reports.monthly_counts(Scope(threat=threat), buckets_of(months, zone))
    by_threat = {row.threat_id: ThreatMonths(row.threat_id, row.reported_on) for row in rows}
    for count in counts:
        if count.threat_id in by_threat:
            by_threat[count.threat_id].cells[count.bucket] = Cell(count.observations, count.answered)
    shown = sorted({month for t in by_threat.values() for month in t.cells})
    return MonthlyReport(zone, shown, list(by_threat.values()))
