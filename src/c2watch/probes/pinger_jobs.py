"""The bookkeeping of the pinger: one job per ping() call, one record per echo sent, their results."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

__all__ = ["CLOSED", "EchoJob", "EchoResult", "PendingEcho", "rtt_ms"]

CLOSED = "pinger closed"
_MAX_PLAUSIBLE_RTT_NS = 3600 * 1_000_000_000
_NS_PER_MS = 1_000_000


@dataclass(frozen=True, slots=True)
class EchoResult:
    """The fate of one echo: an RTT (and TTL) when answered, else None and maybe a reason."""

    rtt_ms: float | None
    ttl: int | None = None
    error: str | None = None


@dataclass(slots=True, eq=False)
class EchoJob:
    """One ping() call: ``count`` echoes to one address, ``interval`` seconds apart from ``start``."""

    address: str
    packed: bytes  # the address, packed, for the source check of replies
    count: int
    interval: float
    timeout: float
    start: float  # event-loop time of the first echo
    future: asyncio.Future[list[EchoResult]]
    echoes: list[PendingEcho] = field(default_factory=list)  # one per echo sent (or failed to send)
    unsettled: int = 0

    def due(self) -> float:
        """When the next echo is to be sent."""
        return self.start + len(self.echoes) * self.interval

    @property
    def complete(self) -> bool:
        """Every echo was sent and has its result."""
        return len(self.echoes) >= self.count and self.unsettled == 0

    def results(self) -> list[EchoResult]:
        """The result of every echo sent; outstanding ones (only when closed) count as closed."""
        closed = EchoResult(None, error=CLOSED)
        return [echo.result or closed for echo in self.echoes] or [closed]


@dataclass(slots=True, eq=False)
class PendingEcho:
    """One echo of a job: its (identifier, sequence) key, send times and, once known, its result."""

    job: EchoJob
    key: tuple[int, int]
    stamp_ns: int
    sent_real_ns: int = 0
    sent_mono_ns: int = 0
    result: EchoResult | None = None


def rtt_ms(echo: PendingEcho, received_ns: int | None, now_mono_ns: int) -> float:
    """The RTT of ``echo``: kernel receive stamp minus send time, else monotonic time at processing."""
    if received_ns is not None:
        elapsed = received_ns - echo.sent_real_ns
        if 0 <= elapsed <= _MAX_PLAUSIBLE_RTT_NS:  # the realtime clock did not step meanwhile
            return elapsed / _NS_PER_MS
    return max(now_mono_ns - echo.sent_mono_ns, 0) / _NS_PER_MS
