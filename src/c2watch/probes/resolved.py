"""Resolved-address probe (opt-in): for a destination named by a domain, the HTTP probe's GET sent to the address
the name resolved to, as a client that knows only the address would ask (``Host`` the address, no SNI).

The paper's §5.3 asks for it: the name and the address can part. A sinkholed or parked name points elsewhere
while the server at the reported address may still be the C2; a name re-pointed to a new server leaves the old
address to a new tenant. With this probe every observation of a named destination says what answers at its address
too (status, ``Server``, certificate, header order, title, body hash: ``details.probes.resolved`` and the STIX
details extension's ``resolved``). Off by default: a request naming the address instead of the domain is not what
an implant sends, and a watchful operator can notice it. An IP destination is left alone (the HTTP probe already
asks its address): outcome ``not-a-name``; with ``[egress] dns = "proxy"`` no address is known here:
``resolved-by-proxy``. Through a proxy the request goes through it like the HTTP probe's.
"""

from __future__ import annotations

from dataclasses import replace

from c2watch.config import Settings
from c2watch.models.probes import HttpFields, HttpResult, ProbeTarget
from c2watch.probes import http
from c2watch.probes.base import ProbeContext, Stopwatch

__all__ = ["as_address", "probe"]


def as_address(target: ProbeTarget, address: str) -> ProbeTarget:
    """``target`` asked by its address: the URL's host replaced by the address, the path and port kept."""
    host = f"[{address}]" if ":" in address else address
    url = f"{target.scheme}://{host}:{target.port}{target.path}"
    return replace(target, kind="ip", value=address, host=address, url=url, addresses=(address,), remote_name=False)


async def probe(target: ProbeTarget, settings: Settings, ctx: ProbeContext) -> HttpResult:
    """The GET of the HTTP probe, to the first allowed address the name resolved to."""
    watch = Stopwatch(ctx.clock)
    if not target.host_is_name:
        return watch.result("resolved", "not-a-name", HttpFields(url=target.url))
    if target.remote_name:  # [egress] dns = "proxy": the proxy resolves the name, no address is known here
        return watch.result("resolved", "resolved-by-proxy", HttpFields(url=target.url))
    if not target.addresses:
        return watch.result("resolved", "refused-by-guard", HttpFields(error="refused-by-guard", url=target.url))
    found = await http.probe(as_address(target, target.addresses[0]), settings, ctx)
    return replace(found, kind="resolved")
