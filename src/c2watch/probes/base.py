"""What every probe shares: the target it is given, the context it may use, the result it returns.

Every probe has one signature, ``async def probe(target, settings, ctx) -> ProbeResult``; an unreachable or hostile
target is a result (an ``outcome`` and fields), never an exception.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from c2watch.config import Settings
from c2watch.models.net import is_ip_literal
from c2watch.safety import Guard

if TYPE_CHECKING:
    import aiohttp

    from c2watch.probes.pinger import Pinger
    from c2watch.probes.resolve import Resolver

__all__ = ["Clock", "Probe", "ProbeContext", "ProbeResult", "ProbeTarget", "Stopwatch", "utcnow"]

Clock = Callable[[], dt.datetime]
TargetKind = Literal["url", "domain", "ip"]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class ProbeTarget:
    """One destination as a probe sees it: what was chosen (url > domain > ip) and where it resolved."""

    target_id: int
    threat_id: str
    kind: TargetKind
    value: str
    host: str
    port: int
    scheme: str
    url: str
    path: str = "/"
    addresses: tuple[str, ...] = ()
    refused: tuple[str, ...] = ()

    @property
    def host_is_name(self) -> bool:
        """True when the host is a DNS name rather than an IP literal."""
        return not is_ip_literal(self.host)


@dataclass
class ProbeResult:
    kind: str
    outcome: str
    started_at: dt.datetime
    elapsed_ms: float
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass
class ProbeContext:
    """Everything a probe may touch, injected: tests swap any of it."""

    guard: Guard
    pinger: Pinger | None = None
    http: aiohttp.ClientSession | None = None
    resolver: Resolver | None = None
    clock: Clock = utcnow


class Stopwatch:
    """Wall-clock start (for the record) and monotonic elapsed milliseconds (for the measurement)."""

    def __init__(self, clock: Clock) -> None:
        self.started_at = clock()
        self._start = time.perf_counter()

    @property
    def elapsed_ms(self) -> float:
        return round((time.perf_counter() - self._start) * 1000, 3)

    def result(self, kind: str, outcome: str, **fields: Any) -> ProbeResult:
        return ProbeResult(kind, outcome, self.started_at, self.elapsed_ms, fields)


Probe = Callable[[ProbeTarget, Settings, ProbeContext], Awaitable[ProbeResult]]
