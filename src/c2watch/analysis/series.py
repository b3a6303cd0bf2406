"""Chart series: observations grouped into one trace per destination and observer."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import groupby
from operator import itemgetter
from typing import Any

from c2watch.analysis.localtime import LocalClock
from c2watch.models import Target
from c2watch.store import Point

__all__ = ["NO_ANSWER", "Trace", "destination_label", "state_label", "target_fields", "traces"]

#: The state of an observation without any HTTP answer (in status runs and on the status chart's y axis: 0).
NO_ANSWER = -1


def destination_label(target: Target) -> str:
    """What the observer probes, as the paper chooses it: the URL, else the domain, else the IP (with the port)."""
    if target.url:
        return target.url
    host = target.domain or target.ip or target.key
    return f"{host}:{target.port}" if target.port else host


def target_fields(target: Target) -> dict[str, Any]:
    """What the JSON answers say of a destination, the same everywhere."""
    return {
        "target_pk": target.id,
        "threat_id": target.threat_id,
        "destination": destination_label(target),
        "ip": target.ip,
        "domain": target.domain,
        "url": target.url,
        "port": target.port,
        "active": target.active,
    }


def state_label(state: int | None) -> str:
    """``"200"`` for a status, ``"none"`` for no HTTP answer."""
    return "none" if state is None or state == NO_ANSWER else str(state)


@dataclass
class Trace:
    """One line on the charts: a destination as seen by one observer."""

    target_pk: int
    destination: str
    observer: str
    times: list[str] = field(default_factory=list)
    http_status: list[int | None] = field(default_factory=list)
    ping_loss_pct: list[float | None] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "target_pk": self.target_pk,
            "destination": self.destination,
            "observer": self.observer,
            "times": self.times,
            "http_status": self.http_status,
            "ping_loss_pct": self.ping_loss_pct,
        }


def traces(
    points: Iterable[Point], labels: Mapping[int, str], observers: Mapping[int, str], clock: LocalClock
) -> list[Trace]:
    """Points (ordered by destination, observer, time) as traces; times in the clock's zone."""
    result = []
    for (target_pk, observer_pk), group in groupby(points, key=itemgetter(0, 1)):
        _targets, _observers, epochs, statuses, losses = zip(*group, strict=True)
        trace = Trace(target_pk, labels.get(target_pk, f"#{target_pk}"), observers.get(observer_pk, f"#{observer_pk}"))
        trace.times = clock.texts(epochs)
        trace.http_status, trace.ping_loss_pct = list(statuses), list(losses)
        result.append(trace)
    return result
