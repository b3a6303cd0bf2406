"""Where the server behind a destination changed, for the month view's charts: the identity events of a threat's
destinations in a month (another server answers, reassigned, sinkholed, parked, domain gone)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from c2watch.analysis.events import list_events
from c2watch.analysis.localtime import LocalClock
from c2watch.store import Store

__all__ = ["IDENTITY_EVENT_KINDS", "Mark", "identity_marks"]

IDENTITY_EVENT_KINDS = ("identity-changed", "reassigned", "sinkholed", "parked", "domain-gone")


@dataclass(frozen=True)
class Mark:
    at: dt.datetime
    kind: str
    target_pk: int
    destination: str
    summary: str

    def as_dict(self, clock: LocalClock) -> dict[str, Any]:
        return {
            "at": clock.iso(self.at),
            "kind": self.kind,
            "target_pk": self.target_pk,
            "destination": self.destination,
            "summary": self.summary,
        }


def identity_marks(
    store: Store, threat_id: str, bounds: tuple[dt.datetime, dt.datetime], targets: Collection[int]
) -> list[Mark]:
    """The identity events of ``targets`` (destinations of ``threat_id``) within ``[start, end)``, oldest first."""
    start, end = bounds
    found = list_events(store, since=start, threat=threat_id, kinds=IDENTITY_EVENT_KINDS)
    return [
        Mark(e.at, e.kind, e.target_pk, e.destination, e.summary)
        for e in found
        if e.at < end and e.target_pk in targets
    ]
