"""A year of synthetic history (every 4 h through 2020 in Tokyo) and a snapshot of everything the reports and the
dashboard derive from it, to compare before and after retention."""

from __future__ import annotations

import datetime as dt
from typing import Any

from c2watch.analysis import correlations, destination_history, month_view, monthly_report, status_histories
from c2watch.store import Scope, Store
from tests.helpers.seed import add_observers, add_threat, seed

JST = dt.timezone(dt.timedelta(hours=9))
START = dt.datetime(2020, 1, 1, tzinfo=JST)
END = dt.datetime(2021, 1, 1, tzinfo=JST)
ZONE = "Asia/Tokyo"


def behaviour(index: int, observer: int, at: dt.datetime) -> tuple[int | None, float | None]:
    """Phases of 17 days per destination (200, 404, silent, 500), some cycles unanswered, varying ping loss."""
    day = (at - START).days
    status = (200, 404, None, 500)[(day // 17 + index) % 4] if (at.hour + observer) % 3 else None
    loss = None if (day + index) % 5 == 0 else float((day * 7 + index * 13 + observer) % 101)
    return status, loss


def year_of_history(store: Store) -> dict[str, list[int]]:
    """Threat A: 3 destinations x 2 observers all year; threat B: 2 destinations x 1 observer from February 10."""
    observers = add_observers(store, 2)
    a = add_threat(store, "A", 3)
    b = add_threat(store, "B", 2)
    seed(store, "A", a, observers, START, END, behaviour)
    seed(store, "B", b, observers[:1], START + dt.timedelta(days=40), END, behaviour)
    return {"A": a, "B": b, "observers": observers}


def snapshot(store: Store, destinations: list[int]) -> dict[str, Any]:
    """Table 1, every month view (pie and table), the correlations, the status histories and destination months."""
    views = {}
    for threat in ("A", "B"):
        for month in month_view(store, ZONE, threat, with_traces=False).months:
            views[f"{threat} {month}"] = month_view(store, ZONE, threat, month, with_traces=False).as_dict()
    histories = [
        (h.destination, h.observer, h.path, [(p.first_at, p.last_at, p.observations) for p in h.phases])
        for h in status_histories(store, Scope())
    ]
    return {
        "table1": monthly_report(store, ZONE).as_dict(),
        "views": views,
        "correlations": [c.as_dict() for c in correlations(store, ZONE)],
        "histories": histories,
        "destinations": {pk: destination_history(store, ZONE, pk, with_traces=False).months for pk in destinations},
    }
