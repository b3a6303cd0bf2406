"""Probes, one module each behind one signature: ``async def probe(target, settings, ctx) -> ProbeResult``.

``PROBES`` has one probe for each of :data:`c2watch.models.kinds.PROBE_KINDS` (the one list of kinds); the cycle
runs the kinds named in ``[cycle] probes``.
"""

from __future__ import annotations

from c2watch.models.kinds import ProbeKind
from c2watch.models.probes import ProbeResult, ProbeTarget
from c2watch.probes import dns, favicon, http, icmp, jarm, resolved, tls
from c2watch.probes.base import Probe, ProbeContext

__all__ = ["PROBES", "Probe", "ProbeContext", "ProbeResult", "ProbeTarget"]

PROBES: dict[ProbeKind, Probe] = {
    "dns": dns.probe,
    "icmp": icmp.probe,
    "http": http.probe,
    "tls": tls.probe,
    "jarm": jarm.probe,
    "favicon": favicon.probe,
    "resolved": resolved.probe,
}
