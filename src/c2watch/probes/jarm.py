"""JARM probe (opt-in: ten crafted TLS ClientHellos an implant would never send): the destination's TLS stack
fingerprint, to the address the guard allowed only (c2watch.fingerprint.jarm never resolves a name). Off by
default; add ``jarm`` to ``[cycle] probes`` knowingly (docs/fingerprints.md). Each connection is bounded by
``[tls] timeout``, the scan by three times that."""

from __future__ import annotations

import asyncio

from c2watch.config import Settings
from c2watch.errors import EgressError
from c2watch.fingerprint import jarm
from c2watch.fingerprint.jarm import Opener
from c2watch.models.observation import EGRESS_FAILED
from c2watch.models.probes import JarmFields, JarmResult, ProbeTarget
from c2watch.probes.base import ProbeContext, Stopwatch
from c2watch.probes.egress import ProxyRoute, open_socket

__all__ = ["probe"]


async def probe(target: ProbeTarget, settings: Settings, ctx: ProbeContext) -> JarmResult:
    """JARM of an ``https`` destination; other schemes are ``not-applicable``."""
    watch = Stopwatch(ctx.clock)
    if target.scheme != "https":
        return watch.result("jarm", "not-applicable", JarmFields())
    address = target.connect_host
    if address is None:
        return watch.result("jarm", "refused-by-guard", JarmFields(error="refused-by-guard"))
    route, timeout = ctx.route(target, "jarm"), settings.tls.timeout
    source = settings.observer.source_address
    opener = _through(route, timeout) if route is not None else _from(source) if source else None
    try:
        scan = await jarm(address, target.port, target.host if target.host_is_name else None, timeout, opener=opener)
    except EgressError:
        return watch.result("jarm", EGRESS_FAILED, JarmFields(error=EGRESS_FAILED))
    answered = sum(1 for p in scan.probes if p.outcome == "server_hello")
    fields = JarmFields(jarm=scan.fingerprint, answered=answered)
    if target.addresses:
        fields["address"] = address
    return watch.result("jarm", "fingerprinted" if scan.answered else "no-answer", fields)


def _from(source: str) -> Opener:
    """Direct connections leaving from ``source`` (``[observer] source_address``)."""

    async def opener(host: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection(host, port, local_addr=(source, 0))

    return opener


def _through(route: ProxyRoute, timeout: float) -> Opener:
    async def opener(host: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection(sock=await open_socket(route, host, port, timeout))

    return opener
