"""DNS probe: what the destination's name resolves to now (A and AAAA) and what else DNS says of it (CNAME, zone,
SOA, name servers, PTR names of the allowed addresses), through the configured nameservers."""

from __future__ import annotations

from c2watch.config import Settings
from c2watch.models.probes import DnsFields, DnsResult, ProbeTarget
from c2watch.probes.base import ProbeContext, Stopwatch
from c2watch.probes.dnsfacts import DnsFacts, dns_facts

__all__ = ["probe"]


async def probe(target: ProbeTarget, settings: Settings, ctx: ProbeContext) -> DnsResult:
    """Resolve the target's host name; an IP-only target has nothing to resolve (``not-applicable``)."""
    watch = Stopwatch(ctx.clock)
    if not target.host_is_name:
        return watch.result("dns", "not-applicable", DnsFields(name=None))
    if target.remote_name:  # [egress] dns = "proxy": the observer's resolver never asks for the name
        return watch.result("dns", "by-proxy", DnsFields(name=target.host))
    if not target.addresses and target.refused and target.refused[0].startswith("reserved name"):
        return watch.result("dns", "refused-by-guard", DnsFields(name=target.host, error="refused-by-guard"))
    assert ctx.resolver is not None, "the cycle opens the resolver"
    resolution = await ctx.resolver.resolve(target.host)
    fields = DnsFields(name=target.host)
    if resolution.error:
        fields["error"] = resolution.error
    else:
        fields["addresses"], fields["ttl"] = list(resolution.addresses), resolution.ttl
    _add_facts(fields, await dns_facts(ctx.resolver.dnspython, target.host, target.addresses))
    return watch.result("dns", "error" if resolution.error else "resolved", fields)


def _add_facts(fields: DnsFields, facts: DnsFacts) -> None:
    """What else DNS says (the allowed addresses' PTR names only: a refused address is never asked about)."""
    fields["cnames"], fields["name_servers"] = list(facts.cnames), list(facts.name_servers)
    fields["zone"], fields["soa"] = facts.zone, facts.soa
    fields["ptr_names"] = {address: list(names) for address, names in facts.ptr_names.items()}
    if facts.errors:
        fields["facts_errors"] = dict(facts.errors)
