"""JARM probe (opt-in: ten crafted TLS ClientHellos an implant would never send): the destination's TLS stack
fingerprint, to the address the guard allowed only (c2watch.fingerprint.jarm never resolves a name). Off by
default; add ``jarm`` to ``[cycle] probes`` knowingly (docs/fingerprints.md). Each connection is bounded by
``[tls] timeout``, the scan by three times that."""

from __future__ import annotations

from c2watch.config import Settings
from c2watch.fingerprint import jarm
from c2watch.models.probes import JarmFields, JarmResult, ProbeTarget
from c2watch.probes.base import ProbeContext, Stopwatch

__all__ = ["probe"]


async def probe(target: ProbeTarget, settings: Settings, ctx: ProbeContext) -> JarmResult:
    """JARM of an ``https`` destination; other schemes are ``not-applicable``."""
    watch = Stopwatch(ctx.clock)
    if target.scheme != "https":
        return watch.result("jarm", "not-applicable", JarmFields())
    if not target.addresses:
        return watch.result("jarm", "refused-by-guard", JarmFields(error="refused-by-guard"))
    address = target.addresses[0]
    scan = await jarm(address, target.port, target.host if target.host_is_name else None, settings.tls.timeout)
    answered = sum(1 for p in scan.probes if p.outcome == "server_hello")
    fields = JarmFields(address=address, jarm=scan.fingerprint, answered=answered)
    return watch.result("jarm", "fingerprinted" if scan.answered else "no-answer", fields)
