"""The month view of one threat ID: line charts of HTTP status and ping loss (one trace per destination and
observer), a pie of every HTTP answer of the month, and a per-destination table.

Days whose raw rows retention has rolled up count the same in the pie and the table (their status runs are kept
exactly); on the charts they show each status run at its first and last observation, with the day's mean loss.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from heapq import merge
from itertools import groupby
from operator import itemgetter
from typing import Any

from c2watch.analysis.localtime import LocalClock
from c2watch.analysis.monthly import threat_rows
from c2watch.analysis.months import Month, MonthOutOfRangeError, month_range
from c2watch.analysis.series import NO_ANSWER, Trace, destination_label, state_label, traces
from c2watch.models import Target
from c2watch.store import Point, RolledRun, Run, Scope, Store, merge_runs, points_of

__all__ = [
    "DestinationMonth",
    "MonthView",
    "all_runs",
    "available_months",
    "chart_points",
    "month_view",
    "pie_of",
    "runs_of",
    "state_counts",
]


@dataclass
class DestinationMonth:
    target_pk: int
    destination: str
    active: bool
    observations: int = 0
    answered: int = 0
    last_answer_at: dt.datetime | None = None
    last_status: int | None = None
    changes: int = 0
    codes: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float | None:
        return round(100.0 * self.answered / self.observations, 1) if self.observations else None

    def add(self, runs: list[Run]) -> None:
        """Fold in the runs of one observer, in time order."""
        self.changes += max(len(runs) - 1, 0)
        for run in runs:
            self.observations += run.observations
            if run.state != NO_ANSWER:
                self.answered += run.observations
                if self.last_answer_at is None or run.last_at > self.last_answer_at:
                    self.last_answer_at, self.last_status = run.last_at, run.state

    def as_dict(self, clock: LocalClock) -> dict[str, Any]:
        return {
            "target_pk": self.target_pk,
            "destination": self.destination,
            "active": self.active,
            "observations": self.observations,
            "answered": self.answered,
            "rate": self.rate,
            "last_answer_at": clock.iso(self.last_answer_at),
            "last_status": self.last_status,
            "changes": self.changes,
            "codes": self.codes,
        }


@dataclass
class MonthView:
    threat_id: str
    month: Month | None
    clock: LocalClock
    months: list[Month] = field(default_factory=list)
    traces: list[Trace] = field(default_factory=list)
    pie: dict[str, int] = field(default_factory=dict)
    destinations: list[DestinationMonth] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "threat_id": self.threat_id,
            "month": str(self.month) if self.month else None,
            "zone": self.clock.zone,
            "months": [str(m) for m in self.months],
            "traces": [t.as_dict() for t in self.traces],
            "pie": self.pie,
            "destinations": [d.as_dict(self.clock) for d in self.destinations],
        }


def available_months(store: Store, scope: Scope, zone: str) -> list[Month]:
    """Every month from the first observation of ``scope`` to the last (two index lookups)."""
    found = store.reports.span(scope)
    return [] if found is None else list(month_range(Month.of(found[0], zone), Month.of(found[1], zone)))


def runs_of(points: list[Point]) -> list[Run]:
    """Runs of equal HTTP status per destination and observer, from points already fetched for the charts."""
    runs: list[Run] = []
    for (target_pk, observer_pk), group in groupby(points, key=itemgetter(0, 1)):
        series = list(group)
        start = 0
        for status, same in groupby(series, key=itemgetter(3)):
            end = start + sum(1 for _ in same)
            state = NO_ANSWER if status is None else status
            runs.append(
                Run(target_pk, observer_pk, state, _utc(series[start][2]), _utc(series[end - 1][2]), end - start)
            )
            start = end
    return runs


def _utc(epoch: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, dt.UTC)


def pie_of(counts: dict[int | None, int]) -> dict[str, int]:
    """Status counts as pie slices: status codes ascending, then ``none`` (no HTTP answer)."""
    codes = sorted(code for code in counts if code is not None)
    slices = {str(code): counts[code] for code in codes}
    if counts.get(None):
        slices["none"] = counts[None]
    return slices


def state_counts(runs: Iterable[Run | RolledRun]) -> Counter[int | None]:
    """Observations per HTTP status (``None``: no answer) over ``runs`` (of raw rows or of rolled-up days)."""
    counts: Counter[int | None] = Counter()
    for run in runs:
        counts[None if run.state == NO_ANSWER else run.state] += run.observations
    return counts


def chart_points(points: list[Point], rolled: list[RolledRun]) -> list[Point]:
    """Raw ``points`` with the points of the ``rolled`` runs merged in (by destination, observer and time)."""
    return list(merge(points, points_of(rolled), key=itemgetter(0, 1, 2))) if rolled else points


def all_runs(points: list[Point], rolled: list[RolledRun]) -> list[Run]:
    """The status runs of raw ``points`` and of ``rolled`` days, neighbours of one state joined."""
    raw = runs_of(points)
    return merge_runs(raw, [Run(*run.span()) for run in rolled]) if rolled else raw


def _destinations(targets: list[Target], runs: list[Run]) -> list[DestinationMonth]:
    by_target: dict[int, list[Run]] = defaultdict(list)
    for run in runs:
        by_target[run.target_pk].append(run)
    rows = {t.id: DestinationMonth(t.id, destination_label(t), t.active) for t in targets}
    for target_pk, row in rows.items():
        found = by_target.get(target_pk, [])
        for _observer, series in groupby(found, key=lambda r: r.observer_pk):
            row.add(list(series))
        row.codes = list(Counter(state_label(r.state) for r in sorted(found, key=lambda r: r.first_at)))
    return [row for row in rows.values() if row.observations or row.active]


def month_view(store: Store, zone: str, threat: str, month: Month | None = None, with_traces: bool = True) -> MonthView:
    """The month view (default: the latest observed month); :class:`MonthOutOfRangeError` outside the span.

    ``with_traces=False`` leaves the chart points out (a page fetches them from the API).
    """
    threat_rows(store, threat)
    clock = LocalClock(zone)
    months = available_months(store, Scope(threat=threat), zone)
    if month is not None and month not in months:
        span = f"{months[0]} … {months[-1]}" if months else "none yet"
        raise MonthOutOfRangeError(f"no observations of {threat} in {month} (observed months: {span})")
    view = MonthView(threat, month or (months[-1] if months else None), clock, months)
    if view.month is None:
        return view
    start, end = view.month.bounds(zone)
    scope = Scope(threat=threat, start=start, end=end)
    targets = store.watchlist.targets(threat)
    labels = {t.id: destination_label(t) for t in targets}
    points = store.reports.points(scope)  # one indexed query; the pie and the table are folded from the same points
    rolled = store.reports.rollup_runs(scope)  # and from the status runs of rolled-up days, if any
    runs = all_runs(points, rolled)
    if with_traces:
        view.traces = traces(chart_points(points, rolled), labels, store.reports.observer_names(), clock)
    view.pie = pie_of(state_counts(runs))
    view.destinations = _destinations(targets, runs)
    return view
