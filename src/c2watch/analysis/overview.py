"""The overview: per threat ID its destinations, latest response rate and a provisional liveness verdict.

Provisional rule (one observer's view; a later issue brings verdicts across observers), judged per destination
at ``as_of``, the store's latest observation:

- ``alive``: an HTTP answer (any status) within the last day before ``as_of``;
- ``dormant``: no HTTP answer in that day, but one within the last 30 days;
- ``dead``: observed in the last 30 days without any HTTP answer;
- ``unobserved``: no observation in the last 30 days.

The latest response rate is the share of the threat's observations of the last 30 days with an HTTP answer.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from c2watch.store import Scope, Store
from c2watch.store.queries import TargetWindow

__all__ = ["ALIVE_WINDOW", "RECENT_WINDOW", "VERDICTS", "Overview", "ThreatSummary", "overview", "verdict"]

ALIVE_WINDOW = dt.timedelta(days=1)
RECENT_WINDOW = dt.timedelta(days=30)
VERDICTS = ("alive", "dormant", "dead", "unobserved")


def verdict(window: TargetWindow | None, as_of: dt.datetime) -> str:
    """The provisional verdict of one destination from its observations of the recent window."""
    if window is None or window.observations == 0:
        return "unobserved"
    if window.last_answer_at is None:
        return "dead"
    return "alive" if window.last_answer_at >= as_of - ALIVE_WINDOW else "dormant"


@dataclass
class ThreatSummary:
    threat_id: str
    reported_on: dt.date | None
    destinations: int
    observations: int = 0
    answered: int = 0
    last_observed_at: dt.datetime | None = None
    verdicts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(VERDICTS, 0))

    @property
    def response_rate(self) -> float | None:
        """Percent of the recent window's observations with an HTTP answer; ``None`` without observations."""
        return round(100.0 * self.answered / self.observations, 1) if self.observations else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "threat_id": self.threat_id,
            "reported_on": self.reported_on.isoformat() if self.reported_on else None,
            "destinations": self.destinations,
            "response_rate": self.response_rate,
            "last_observed_at": self.last_observed_at.isoformat() if self.last_observed_at else None,
            **self.verdicts,
        }


@dataclass
class Overview:
    as_of: dt.datetime | None
    threats: list[ThreatSummary]

    def as_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "rule": {"alive_within_days": ALIVE_WINDOW.days, "recent_days": RECENT_WINDOW.days},
            "threats": [t.as_dict() for t in self.threats],
        }


def overview(store: Store) -> Overview:
    """Every threat ID with its provisional verdict counts (one indexed range query over the recent window)."""
    summaries = {row.threat_id: ThreatSummary(row.threat_id, row.reported_on, 0) for row in store.threats()}
    spans = {threat: store.span(Scope(threat=threat)) for threat in summaries}
    lasts = [found[1] for found in spans.values() if found is not None]
    as_of = max(lasts) if lasts else None
    windows = {}
    if as_of is not None:
        windows = {w.target_pk: w for w in store.target_windows(list(summaries), as_of - RECENT_WINDOW, as_of)}
    counts: dict[str, Counter[str]] = {threat: Counter() for threat in summaries}
    for target in store.targets():
        summary = summaries[target.threat_id]
        summary.destinations += 1
        window = windows.get(target.id)
        counts[target.threat_id][verdict(window, as_of) if as_of else "unobserved"] += 1
        if window is not None:
            summary.observations += window.observations
            summary.answered += window.answered
    for threat, summary in summaries.items():
        summary.verdicts.update(counts[threat])
        found = spans[threat]
        summary.last_observed_at = found[1] if found else None
    return Overview(as_of, list(summaries.values()))
