"""DNS probe: what the destination's name resolves to now (A and AAAA), through the configured nameservers."""

from __future__ import annotations

from c2watch.config import Settings
from c2watch.models.probes import DnsFields, DnsResult, ProbeTarget
from c2watch.probes.base import ProbeContext, Stopwatch

__all__ = ["probe"]


async def probe(target: ProbeTarget, settings: Settings, ctx: ProbeContext) -> DnsResult:
    """Resolve the target's host name; an IP-only target has nothing to resolve (``not-applicable``)."""
    watch = Stopwatch(ctx.clock)
    if not target.host_is_name:
        return watch.result("dns", "not-applicable", DnsFields(name=None))
    if not target.addresses and target.refused and target.refused[0].startswith("reserved name"):
        return watch.result("dns", "refused-by-guard", DnsFields(name=target.host, error="refused-by-guard"))
    assert ctx.resolver is not None, "the cycle opens the resolver"
    resolution = await ctx.resolver.resolve(target.host)
    if resolution.error:
        return watch.result("dns", "error", DnsFields(name=target.host, error=resolution.error))
    fields = DnsFields(name=target.host, addresses=list(resolution.addresses), ttl=resolution.ttl)
    return watch.result("dns", "resolved", fields)
