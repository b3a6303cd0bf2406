"""What every probe shares: the context it may use, a stopwatch, and its signature (the target it is given and the
result it returns are records one layer down, :mod:`c2watch.models.probes`).

Every probe has one signature, ``async def probe(target, settings, ctx) -> ProbeResult[...]``; an unreachable or
hostile target is a result (an ``outcome`` and fields), never an exception.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from c2watch.config import Settings
from c2watch.models.kinds import ProbeKind
from c2watch.models.probes import AnyResult, FieldsT, ProbeResult, ProbeTarget
from c2watch.safety import Guard

if TYPE_CHECKING:
    import aiohttp

    from c2watch.probes.egress import Egress, ProxyRoute
    from c2watch.probes.pinger import Pinger
    from c2watch.probes.resolve import Resolver

__all__ = ["Clock", "Probe", "ProbeContext", "Stopwatch", "utcnow"]

Clock = Callable[[], dt.datetime]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class ProbeContext:
    """Everything a probe may touch, injected: tests swap any of it."""

    guard: Guard
    pinger: Pinger | None = None
    http: aiohttp.ClientSession | None = None
    resolver: Resolver | None = None
    clock: Clock = utcnow
    #: The proxies of ``[egress]`` (None: every probe is direct) and one HTTP session per proxy label.
    egress: Egress | None = None
    proxy_sessions: dict[str, aiohttp.ClientSession] = field(default_factory=dict)

    def route(self, target: ProbeTarget, kind: ProbeKind) -> ProxyRoute | None:
        """The proxy ``kind`` goes through for ``target``; None when it goes direct."""
        return self.egress.route(target, kind) if self.egress is not None else None

    def session_for(self, target: ProbeTarget, kind: ProbeKind) -> aiohttp.ClientSession:
        """The HTTP session of ``kind`` for ``target``: its proxy's, or the direct one."""
        route = self.route(target, kind)
        session = self.proxy_sessions.get(route.label) if route is not None else self.http
        assert session is not None, "the cycle opens the HTTP sessions"
        return session


class Stopwatch:
    """Wall-clock start (for the record) and monotonic elapsed milliseconds (for the measurement)."""

    def __init__(self, clock: Clock) -> None:
        self.started_at = clock()
        self._start = time.perf_counter()

    @property
    def elapsed_ms(self) -> float:
        return round((time.perf_counter() - self._start) * 1000, 3)

    def result(self, kind: ProbeKind, outcome: str, fields: FieldsT) -> ProbeResult[FieldsT]:
        return ProbeResult(kind, outcome, self.started_at, self.elapsed_ms, fields)


Probe = Callable[[ProbeTarget, Settings, ProbeContext], Awaitable[AnyResult]]
