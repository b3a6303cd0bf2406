"""ICMP probe: ``count`` echoes to the first allowed address through the cycle's shared pinger."""

from __future__ import annotations

from c2watch.config import Settings
from c2watch.models.probes import PingFields, PingResult, ProbeTarget
from c2watch.probes.base import ProbeContext, Stopwatch

__all__ = ["probe"]


async def probe(target: ProbeTarget, settings: Settings, ctx: ProbeContext) -> PingResult:
    """Loss %, average RTT and reply TTL; ``icmp-unavailable`` when this host may not send ICMP; ``refused-by-egress``
    when proxies are set and ``icmp`` is not in ``[egress] direct`` (an echo always shows the observer's address)."""
    watch = Stopwatch(ctx.clock)
    if ctx.egress is not None and not ctx.egress.direct("icmp"):  # ICMP cannot go through a proxy: never silently
        return watch.result("icmp", "refused-by-egress", PingFields(error="refused-by-egress"))
    if not target.addresses:
        return watch.result("icmp", "refused-by-guard", PingFields(error="refused-by-guard"))
    assert ctx.pinger is not None, "the cycle opens the pinger"
    cfg = settings.icmp
    stats = await ctx.pinger.ping(target.addresses[0], count=cfg.count, interval=cfg.interval, timeout=cfg.timeout)
    fields = PingFields(
        address=stats.address,
        sent=stats.sent,
        received=stats.received,
        loss_pct=stats.loss_pct,
        rtt_avg_ms=stats.rtt_avg_ms,
        ttl=stats.ttl,
        error=stats.error,
    )
    return watch.result("icmp", stats.outcome, fields)
