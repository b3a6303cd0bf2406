"""Status-code histories: per destination and observer, the phases of one HTTP status (or no answer) and the
transitions between them, e.g. 200 → 404 → 500 → none. Phases shorter than ``min_run`` observations are treated
as noise: dropped, and the phases around them merged when they agree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any

from c2watch.analysis.localtime import LocalClock
from c2watch.analysis.series import destination_label, state_label
from c2watch.store import Run, Scope, Store

__all__ = ["Phase", "StatusHistory", "Transition", "phases", "status_histories"]


@dataclass(frozen=True)
class Phase:
    state: int
    first_at: dt.datetime
    last_at: dt.datetime
    observations: int

    @property
    def label(self) -> str:
        return state_label(self.state)


@dataclass(frozen=True)
class Transition:
    before: str
    after: str
    at: dt.datetime


@dataclass
class StatusHistory:
    threat_id: str
    target_pk: int
    destination: str
    observer: str
    phases: list[Phase] = field(default_factory=list)

    @property
    def transitions(self) -> list[Transition]:
        pairs = zip(self.phases, self.phases[1:], strict=False)
        return [Transition(a.label, b.label, b.first_at) for a, b in pairs]

    @property
    def path(self) -> str:
        """``200 → 404 → 500 → none``."""
        return " → ".join(phase.label for phase in self.phases)

    def as_dict(self, clock: LocalClock) -> dict[str, Any]:
        return {
            "threat_id": self.threat_id,
            "target_pk": self.target_pk,
            "destination": self.destination,
            "observer": self.observer,
            "path": self.path,
            "phases": [
                {
                    "state": p.label,
                    "from": clock.iso(p.first_at),
                    "to": clock.iso(p.last_at),
                    "observations": p.observations,
                }
                for p in self.phases
            ],
            "transitions": [{"from": t.before, "to": t.after, "at": clock.iso(t.at)} for t in self.transitions],
        }


def phases(runs: Iterable[Run], min_run: int = 1) -> list[Phase]:
    """Runs of one series as phases: runs shorter than ``min_run`` dropped, then equal neighbours merged."""
    merged: list[Phase] = []
    for run in runs:
        if run.observations < min_run:
            continue
        if merged and merged[-1].state == run.state:
            last = merged.pop()
            merged.append(Phase(last.state, last.first_at, run.last_at, last.observations + run.observations))
        else:
            merged.append(Phase(run.state, run.first_at, run.last_at, run.observations))
    return merged


def status_histories(store: Store, scope: Scope, min_run: int = 1) -> list[StatusHistory]:
    """One history per destination and observer of ``scope``, in the database's run order."""
    targets = {t.id: t for t in store.watchlist.targets(scope.threat)}
    observers = store.reports.observer_names()
    histories = []
    for (target_pk, observer_pk), runs in groupby(
        store.reports.status_runs(scope), key=lambda r: (r.target_pk, r.observer_pk)
    ):
        target = targets.get(target_pk)
        if target is None:
            continue
        history = StatusHistory(target.threat_id, target_pk, destination_label(target), observers.get(observer_pk, "?"))
        history.phases = phases(runs, min_run)
        histories.append(history)
    return histories
