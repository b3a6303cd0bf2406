"""Synthetic observations written straight into a store, for analysis and dashboard tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from c2watch.models import WatchlistEntry
from c2watch.store import Store

#: (destination index, observer index, time) -> (HTTP status or None, ping loss % or None)
Behaviour = Callable[[int, int, dt.datetime], tuple[int | None, float | None]]

JST = dt.timezone(dt.timedelta(hours=9))
NOW = dt.datetime(2021, 8, 1, tzinfo=dt.UTC)


def add_threat(store: Store, threat: str, destinations: int, reported_on: dt.date | None = None) -> list[int]:
    """Destinations ``http://127.0.<n>.<i>:8080/gate.php`` of ``threat``; their row ids in order."""
    net = sum(map(ord, threat)) % 200
    entries = [
        WatchlistEntry(
            threat,
            ip=f"127.0.{net}.{i + 1}",
            url=f"http://127.0.{net}.{i + 1}:8080/gate.php",
            port=8080,
            reported_on=reported_on,
        )
        for i in range(destinations)
    ]
    store.watchlist.apply(entries, f"seed-{threat}", NOW)
    return [t.id for t in store.watchlist.targets(threat)]


def add_observers(store: Store, count: int) -> list[int]:
    return [
        store.observations.ensure_observer(f"obs-{i}", f"Org {i}", f"identity--org-{i}", f"identity--sys-{i}", NOW)
        for i in range(count)
    ]


def row(
    threat: str, target_pk: int, observer_pk: int, at: dt.datetime, status: int | None, loss: float | None
) -> dict[str, Any]:
    received = None if loss is None else round(4 * (100 - loss) / 100)
    answered = status is not None
    return {
        "cycle_pk": None,
        "observer_pk": observer_pk,
        "target_pk": target_pk,
        "threat_id": threat,
        "observed_at": at,
        "simulated": True,
        "outcome": "responding" if answered else ("ping-only" if received else "silent"),
        "probed_kind": "url",
        "probed_value": f"target-{target_pk}",
        "http_outcome": "responding" if answered else "silent",
        "http_status": status,
        "ping_outcome": None if loss is None else ("alive" if received else "silent"),
        "ping_sent": None if loss is None else 4,
        "ping_received": received,
        "ping_loss_pct": loss,
    }


def seed(
    store: Store,
    threat: str,
    targets: list[int],
    observers: list[int],
    start: dt.datetime,
    end: dt.datetime,
    behaviour: Behaviour,
    step: dt.timedelta = dt.timedelta(hours=4),
) -> int:
    """One observation per destination, observer and ``step`` in ``[start, end)``; returns how many."""
    rows = []
    at = start
    while at < end:
        for t_index, target_pk in enumerate(targets):
            for o_index, observer_pk in enumerate(observers):
                status, loss = behaviour(t_index, o_index, at)
                rows.append(row(threat, target_pk, observer_pk, at, status, loss))
        at += step
    for offset in range(0, len(rows), 5000):
        store.observations.insert(rows[offset : offset + 5000])
    return len(rows)


JAN = dt.datetime(2021, 1, 1, tzinfo=JST)
FEB = dt.datetime(2021, 2, 1, tzinfo=JST)
MAR = dt.datetime(2021, 3, 1, tzinfo=JST)


def _x(index: int, observer: int, at: dt.datetime) -> tuple[int | None, float | None]:
    """Threat X: d0 200 (Jan) → 404 (Feb 1-14) → 500 (Feb 15-); d1 silent Jan 5-19, else 200; d2 never answers."""
    day = (at - JAN).days
    if index == 0:
        return (200 if at < FEB else 404 if at.astimezone(JST).day < 15 else 500), 0.0
    if index == 1:
        return (None, 100.0) if 4 <= day < 19 else (200, 0.0)
    return None, (100.0 if at < FEB else 50.0)


def _y(index: int, observer: int, at: dt.datetime) -> tuple[int | None, float | None]:
    """Threat Y (February only): 503 every other cycle until Feb 19, silent afterwards."""
    slot = int((at - FEB).total_seconds() // 14400)
    return (503 if slot % 2 == 0 and at.astimezone(JST).day < 20 else None), None


def standard(store: Store) -> dict[str, list[int]]:
    """X: 3 destinations x 2 observers, Jan-Feb 2021; Y: 1 destination x 1 observer, Feb 2021 (every 4 h, JST)."""
    observers = add_observers(store, 2)
    x = add_threat(store, "X", 3, dt.date(2020, 10, 1))
    y = add_threat(store, "Y", 1, dt.date(2021, 1, 15))
    seed(store, "X", x, observers, JAN, MAR, _x)
    seed(store, "Y", y, observers[:1], FEB, MAR, _y)
    return {"X": x, "Y": y, "observers": observers}
