"""The overview: per threat ID its destinations, latest response rate and how many destinations have each verdict.

The verdicts are the cross-observer ones of :mod:`c2watch.analysis.verdicts`, as stored by the last refresh (the
agent after each cycle and sync, ``c2watch observe``, ``c2watch sync``, ``c2watch status``): counted in the
database, never recomputed here. A destination without a stored verdict (none computed yet, or added to the
watchlist since) counts as ``not_computed``.

The latest response rate is the share of the threat's observations of the 30 days before ``as_of`` (the store's
latest observation) with an HTTP answer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from c2watch.analysis.verdicts import STATUSES
from c2watch.store import Scope, Store

__all__ = ["RECENT_WINDOW", "Overview", "ThreatSummary", "overview"]

RECENT_WINDOW = dt.timedelta(days=30)


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


@dataclass
class ThreatSummary:
    threat_id: str
    reported_on: dt.date | None
    destinations: int
    observations: int = 0
    answered: int = 0
    last_observed_at: dt.datetime | None = None
    verdicts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))
    verdicts_computed_at: dt.datetime | None = None

    @property
    def response_rate(self) -> float | None:
        """Percent of the recent window's observations with an HTTP answer; ``None`` without observations."""
        return round(100.0 * self.answered / self.observations, 1) if self.observations else None

    @property
    def not_computed(self) -> int:
        """Destinations without a stored verdict."""
        return max(self.destinations - sum(self.verdicts.values()), 0)

    def as_dict(self) -> dict[str, Any]:
        return {
            "threat_id": self.threat_id,
            "reported_on": self.reported_on.isoformat() if self.reported_on else None,
            "destinations": self.destinations,
            "response_rate": self.response_rate,
            "last_observed_at": _iso(self.last_observed_at),
            "verdicts": dict(self.verdicts),
            "not_computed": self.not_computed,
            "verdicts_computed_at": _iso(self.verdicts_computed_at),
        }


@dataclass
class Overview:
    as_of: dt.datetime | None
    threats: list[ThreatSummary]
    refused_records: int = 0  # pulled or imported records refused because their signature did not hold

    @property
    def verdicts_computed_at(self) -> dt.datetime | None:
        """When verdicts were stored last; ``None`` when none were computed yet."""
        return max((t.verdicts_computed_at for t in self.threats if t.verdicts_computed_at), default=None)

    def as_dict(self) -> dict[str, Any]:
        return {
            "as_of": _iso(self.as_of),
            "recent_days": RECENT_WINDOW.days,
            "statuses": list(STATUSES),
            "verdicts_computed_at": _iso(self.verdicts_computed_at),
            "threats": [t.as_dict() for t in self.threats],
            "refused_records": self.refused_records,
        }


def _add_verdicts(store: Store, summaries: dict[str, ThreatSummary]) -> None:
    for row in store.verdicts.counts():
        summary = summaries.get(row.threat_id)
        if summary is None:
            continue
        summary.verdicts[row.status] = summary.verdicts.get(row.status, 0) + row.destinations
        if summary.verdicts_computed_at is None or row.computed_at > summary.verdicts_computed_at:
            summary.verdicts_computed_at = row.computed_at


def overview(store: Store) -> Overview:
    """Every threat ID with its response rate (one indexed range query over the recent window) and its stored
    verdict counts (one grouped query)."""
    summaries = {row.threat_id: ThreatSummary(row.threat_id, row.reported_on, 0) for row in store.watchlist.threats()}
    spans = {threat: store.reports.span(Scope(threat=threat)) for threat in summaries}
    lasts = [found[1] for found in spans.values() if found is not None]
    as_of = max(lasts) if lasts else None
    windows = {}
    if as_of is not None:
        windows = {w.target_pk: w for w in store.reports.target_windows(list(summaries), as_of - RECENT_WINDOW, as_of)}
    for target in store.watchlist.targets():
        summary = summaries[target.threat_id]
        summary.destinations += 1
        window = windows.get(target.id)
        if window is not None:
            summary.observations += window.observations
            summary.answered += window.answered
    for threat, summary in summaries.items():
        found = spans[threat]
        summary.last_observed_at = found[1] if found else None
    _add_verdicts(store, summaries)
    return Overview(as_of, list(summaries.values()), sum(store.keys.refusal_counts().values()))
