"""Stored verdicts and events as the dashboard shows them: a threat's verdicts by destination, a filter by status,
a timeline of events, and a month view (table, traces, pie) narrowed to the destinations the filter keeps.

Nothing is recomputed here: :func:`c2watch.analysis.events.refresh` (run by the agent, ``c2watch observe``,
``c2watch sync``, ``c2watch status`` …) judges and stores; the dashboard reads what it stored.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from c2watch.analysis.events import EVENT_KINDS, Event
from c2watch.analysis.localtime import LocalClock
from c2watch.analysis.monthview import MonthView, pie_of, state_counts
from c2watch.analysis.verdicts import STATUSES, Verdict, stored_verdicts
from c2watch.errors import InputError
from c2watch.models import Target
from c2watch.store import EventWindow, Scope, Store

__all__ = [
    "EVENT_LIMIT",
    "EventWindow",
    "ThreatVerdicts",
    "Timeline",
    "destination_verdict",
    "filter_month",
    "month_pie",
    "parse_kinds",
    "parse_statuses",
    "threat_verdicts",
    "timeline",
]

#: Events shown at most on a page (the newest).
EVENT_LIMIT = 500


def _chosen(name: str, values: Iterable[str], known: tuple[str, ...]) -> tuple[str, ...]:
    wanted = {part.strip() for value in values for part in value.split(",") if part.strip()}
    unknown = sorted(wanted - set(known))
    if unknown:
        raise InputError(f"{name}: unknown {', '.join(unknown)}; known: {', '.join(known)}")
    return tuple(value for value in known if value in wanted)


def parse_statuses(values: Iterable[str]) -> tuple[str, ...]:
    """Verdict statuses from ``alive,dormant`` and/or repeated values, in :data:`STATUSES` order; an unknown one is
    an :class:`InputError` naming it."""
    return _chosen("verdict", values, STATUSES)


def parse_kinds(values: Iterable[str]) -> tuple[str, ...]:
    """Event kinds from ``dead,reactivated`` and/or repeated values, in :data:`EVENT_KINDS` order."""
    return _chosen("kind", values, EVENT_KINDS)


@dataclass(frozen=True)
class ThreatVerdicts:
    """The stored verdicts of one threat's destinations, by destination id."""

    by_target: dict[int, Verdict]

    @property
    def computed_at(self) -> dt.datetime | None:
        """When they were computed last; ``None`` when no verdict was computed yet."""
        return max((v.computed_at for v in self.by_target.values()), default=None)

    def of(self, target_pk: int) -> Verdict | None:
        return self.by_target.get(target_pk)

    def keeps(self, target_pk: int, statuses: tuple[str, ...]) -> bool:
        """Whether the filter ``statuses`` (every destination when empty) shows destination ``target_pk``."""
        found = self.by_target.get(target_pk)
        return not statuses or (found is not None and found.status in statuses)

    def counts(self, target_pks: Iterable[int] | None = None) -> dict[str, int]:
        """Destinations per status (of ``target_pks`` when given), every status listed."""
        pks = self.by_target.keys() if target_pks is None else target_pks
        found = Counter(v.status for pk in pks if (v := self.by_target.get(pk)) is not None)
        return {status: found[status] for status in STATUSES}

    def as_dict(self, clock: LocalClock, statuses: tuple[str, ...] = ()) -> dict[str, Any]:
        shown = [v for v in self.by_target.values() if not statuses or v.status in statuses]
        return {
            "zone": clock.zone,
            "computed_at": clock.iso(self.computed_at),
            "counts": self.counts(),
            "verdicts": [v.as_dict(clock) for v in shown],
        }


def threat_verdicts(store: Store, threat: str | None = None) -> ThreatVerdicts:
    """The verdicts as stored by the last refresh (of ``threat``'s destinations when given)."""
    return ThreatVerdicts({v.target.id: v for v in stored_verdicts(store, threat)})


def destination_verdict(store: Store, target: Target) -> Verdict | None:
    """The stored verdict of one destination; ``None`` when it was not computed yet."""
    return threat_verdicts(store, target.threat_id).of(target.id)


@dataclass(frozen=True)
class Timeline:
    """Events, oldest first: the newest ``limit`` of ``total``."""

    events: list[Event]
    total: int

    @property
    def truncated(self) -> bool:
        return self.total > len(self.events)

    def as_dict(self, clock: LocalClock) -> dict[str, Any]:
        return {"zone": clock.zone, "total": self.total, "events": [e.as_dict(clock) for e in self.events]}


def timeline(store: Store, window: EventWindow) -> Timeline:
    """The stored events of ``window``."""
    found, total = store.events.in_window(window)
    return Timeline([Event.from_stored(e) for e in found], total)


def filter_month(view: MonthView, keep: Callable[[int], bool], pie: dict[str, int] | None = None) -> MonthView:
    """``view`` narrowed to the destinations ``keep`` says yes to: its table, its traces and, when given, the pie
    of those destinations (see :func:`month_pie`); ``view`` itself is left as it is."""
    traces = [t for t in view.traces if keep(t.target_pk)]
    destinations = [d for d in view.destinations if keep(d.target_pk)]
    return replace(view, traces=traces, destinations=destinations, pie=view.pie if pie is None else pie)


def month_pie(store: Store, scope: Scope, keep: Callable[[int], bool]) -> dict[str, int]:
    """The pie of ``scope``'s observations of the destinations ``keep`` says yes to, rolled-up days included (the
    same counts as :func:`c2watch.analysis.monthview.month_view` makes of every destination)."""
    counts = Counter(point[3] for point in store.reports.points(scope) if keep(point[0]))
    counts.update(state_counts([run for run in store.reports.rollup_runs(scope) if keep(run.target_pk)]))
    return pie_of(counts)
