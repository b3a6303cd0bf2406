"""One destination's full history: its charts over every observation, its monthly response rates, its
status-code phases per observer and its reactivations.

Rolled-up days (see :mod:`c2watch.store.rollups`) count in the months and the phases exactly; reactivations are
found among the raw observations only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from c2watch.analysis.localtime import LocalClock
from c2watch.analysis.monthly import Cell, buckets_of
from c2watch.analysis.monthview import available_months, chart_points
from c2watch.analysis.reactivation import Reactivation, reactivations
from c2watch.analysis.series import Trace, destination_label, target_fields, traces
from c2watch.analysis.transitions import StatusHistory, status_histories
from c2watch.errors import C2WatchError
from c2watch.models import Target
from c2watch.store import Scope, Store

__all__ = ["DestinationHistory", "UnknownDestinationError", "destination_history", "find_target"]


class UnknownDestinationError(C2WatchError):
    """A destination id that the store does not hold."""

    exit_code = 2


@dataclass
class DestinationHistory:
    target: Target
    clock: LocalClock
    traces: list[Trace] = field(default_factory=list)
    months: dict[str, Cell] = field(default_factory=dict)
    histories: list[StatusHistory] = field(default_factory=list)
    reactivations: list[Reactivation] = field(default_factory=list)

    @property
    def destination(self) -> str:
        return destination_label(self.target)

    def as_dict(self) -> dict[str, Any]:
        t = self.target
        return {
            **target_fields(t),
            "reported_on": t.reported_on.isoformat() if t.reported_on else None,
            "zone": self.clock.zone,
            "months": {
                m: {"observations": c.observations, "answered": c.answered, "rate": c.rate}
                for m, c in self.months.items()
            },
            "traces": [trace.as_dict() for trace in self.traces],
            "histories": [h.as_dict(self.clock) for h in self.histories],
            "reactivations": [r.as_dict(self.clock) for r in self.reactivations],
        }


def find_target(store: Store, target_pk: int) -> Target:
    for target in store.watchlist.targets():
        if target.id == target_pk:
            return target
    raise UnknownDestinationError(f"unknown destination #{target_pk}")


def destination_history(
    store: Store, zone: str, target_pk: int, min_run: int = 1, with_traces: bool = True
) -> DestinationHistory:
    """Everything observed of destination ``target_pk`` (:class:`UnknownDestinationError` if none such)."""
    target = find_target(store, target_pk)
    clock = LocalClock(zone)
    scope = Scope(threat=target.threat_id, target_pk=target_pk)
    history = DestinationHistory(target, clock)
    labels = {target.id: destination_label(target)}
    if with_traces:
        points = chart_points(
            store.reports.points(scope), store.reports.rollup_runs(scope)
        )  # rolled-up days as their runs
        history.traces = traces(points, labels, store.reports.observer_names(), clock)
    buckets = buckets_of(available_months(store, scope, zone), zone)
    counts = store.reports.monthly_counts(scope, buckets, by_target=True)
    history.months = {c.bucket: Cell(c.observations, c.answered) for c in counts}
    history.histories = status_histories(store, scope, min_run)
    history.reactivations = reactivations(store, scope)
    return history
