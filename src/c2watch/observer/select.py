"""Choose what to probe for a destination (URL, then domain, then IP), resolve it, and apply the safety guard."""

from __future__ import annotations

import ipaddress
from dataclasses import replace
from urllib.parse import urlsplit

from c2watch.models import Target
from c2watch.models.probes import ProbeTarget, Resolution, TargetKind
from c2watch.probes.resolve import Resolver, is_reserved_name
from c2watch.safety import Guard

__all__ = ["choose", "prepare"]

_TLS_PORTS = (443, 8443)


def _from_url(target: Target, url: str) -> ProbeTarget:
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or {"https": 443}.get(parts.scheme, 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return ProbeTarget(target.id, target.threat_id, "url", url, host, port, parts.scheme, url, path)


def _from_host(target: Target, kind: TargetKind, host: str) -> ProbeTarget:
    port = target.port or 80
    scheme = "https" if port in _TLS_PORTS else "http"
    shown = f"[{host}]" if ":" in host else host
    url = f"{scheme}://{shown}:{port}/"
    return ProbeTarget(target.id, target.threat_id, kind, host, host, port, scheme, url)


def choose(target: Target) -> ProbeTarget:
    """URL, then domain, then IP (the paper's rule); the HTTP scheme from the URL, else https for 443/8443."""
    if target.url:
        return _from_url(target, target.url)
    if target.domain:
        return _from_host(target, "domain", target.domain)
    assert target.ip, "a target has at least one of url, domain, ip"
    return _from_host(target, "ip", target.ip)


def _name_allowed(name: str, guard_domains: tuple[str, ...]) -> bool:
    name = name.lower().rstrip(".")
    allowed = any(name == d or name.endswith("." + d) for d in guard_domains)
    return allowed or not is_reserved_name(name)


async def prepare(
    target: Target,
    guard: Guard,
    resolver: Resolver | None,
    allow_domains: tuple[str, ...] = (),
    egress: str = "",
    remote_names: bool = False,
) -> tuple[ProbeTarget, Resolution | None]:
    """The probe target with its allowed addresses; refused addresses and reasons kept in ``refused``.

    ``egress`` is the label of the proxy picked for it; with ``remote_names`` an allowed name is not resolved here
    (the proxy resolves it: ``remote_name``), IP addresses are guarded as always."""
    chosen = replace(choose(target), egress=egress)
    resolution: Resolution | None = None
    if not chosen.host_is_name:
        candidates: tuple[str, ...] = (str(ipaddress.ip_address(chosen.host)),)
    elif not _name_allowed(chosen.host, allow_domains):
        return replace(chosen, refused=(f"reserved name {chosen.host} is not in [safety] allow_domains",)), None
    elif remote_names:
        return replace(chosen, remote_name=True), None
    else:
        assert resolver is not None
        resolution = await resolver.resolve(chosen.host)
        candidates = resolution.addresses
    verdicts = [(a, guard.refusal(a)) for a in candidates]
    allowed = tuple(a for a, reason in verdicts if reason is None)
    refused = tuple(reason for _, reason in verdicts if reason is not None)
    return replace(chosen, addresses=allowed, refused=refused), resolution
