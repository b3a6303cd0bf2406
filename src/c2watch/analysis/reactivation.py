"""Dormant, then reactivated: a destination that answered HTTP, then gave no answer to any observer for at least
``min_gap`` while being observed (at least ``min_silent`` observations without an answer), then answered again.
Months without observations (an observer switched off) are not dormancy: the silent observations must exist.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from c2watch.analysis.localtime import LocalClock
from c2watch.analysis.series import destination_label
from c2watch.store import Scope, Store

__all__ = ["DEFAULT_MIN_GAP", "DEFAULT_MIN_SILENT", "Reactivation", "reactivations"]

DEFAULT_MIN_GAP = dt.timedelta(days=7)
DEFAULT_MIN_SILENT = 6


@dataclass(frozen=True)
class Reactivation:
    threat_id: str
    target_pk: int
    destination: str
    last_answer_at: dt.datetime
    reactivated_at: dt.datetime
    http_status: int
    silent_observations: int

    @property
    def dormant_days(self) -> float:
        return round((self.reactivated_at - self.last_answer_at).total_seconds() / 86400, 1)

    def as_dict(self, clock: LocalClock) -> dict[str, Any]:
        return {
            "threat_id": self.threat_id,
            "target_pk": self.target_pk,
            "destination": self.destination,
            "last_answer_at": clock.iso(self.last_answer_at),
            "reactivated_at": clock.iso(self.reactivated_at),
            "http_status": self.http_status,
            "silent_observations": self.silent_observations,
            "dormant_days": self.dormant_days,
        }


def reactivations(
    store: Store,
    scope: Scope,
    min_gap: dt.timedelta = DEFAULT_MIN_GAP,
    min_silent: int = DEFAULT_MIN_SILENT,
) -> list[Reactivation]:
    """Every reactivation inside ``scope``, per destination in time order."""
    targets = {t.id: t for t in store.watchlist.targets(scope.threat)}
    found = store.reports.revivals(scope, int(min_gap.total_seconds()), min_silent)
    return [
        Reactivation(
            targets[r.target_pk].threat_id,
            r.target_pk,
            destination_label(targets[r.target_pk]),
            r.last_answer_at,
            r.answer_at,
            r.http_status,
            r.silent,
        )
        for r in found
        if r.target_pk in targets
    ]
