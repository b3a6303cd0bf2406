"""TLS probe: complete a handshake (verification off) and record the certificate's fingerprint and the protocol."""

from __future__ import annotations

import asyncio
from typing import Any

from c2watch.config import Settings
from c2watch.errors import EgressError
from c2watch.models.observation import EGRESS_FAILED
from c2watch.models.probes import ProbeTarget, TlsFields, TlsResult
from c2watch.probes.base import ProbeContext, Stopwatch
from c2watch.probes.certificate import add_certificate
from c2watch.probes.egress import ProxyRoute, open_socket
from c2watch.probes.http import insecure_ssl_context
from c2watch.probes.http_errors import error_kind

__all__ = ["probe"]


async def _handshake(target: ProbeTarget, timeout: float, route: ProxyRoute | None, source: str) -> TlsFields:
    address = target.connect_host
    assert address is not None, "the probe checked it"
    tls: dict[str, Any] = {
        "ssl": insecure_ssl_context(),
        "server_hostname": target.host if target.host_is_name else "",
        "ssl_handshake_timeout": timeout,
    }
    if route is None:
        local = (source, 0) if source else None
        opening = asyncio.open_connection(address, target.port, local_addr=local, **tls)
    else:
        opening = asyncio.open_connection(sock=await open_socket(route, address, target.port, timeout), **tls)
    _reader, writer = await asyncio.wait_for(opening, timeout)
    try:
        ssl_object = writer.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object else None
        fields = TlsFields(
            version=ssl_object.version() if ssl_object else None,
            cipher=ssl_object.cipher()[0] if ssl_object and ssl_object.cipher() else None,
        )
        if target.addresses:
            fields["address"] = address
        add_certificate(fields, der)
        return fields
    finally:
        writer.transport.abort()


async def probe(target: ProbeTarget, settings: Settings, ctx: ProbeContext) -> TlsResult:
    """Handshake with an ``https`` target; other schemes are ``not-applicable``."""
    watch = Stopwatch(ctx.clock)
    if target.scheme != "https":
        return watch.result("tls", "not-applicable", TlsFields())
    if target.connect_host is None:
        return watch.result("tls", "refused-by-guard", TlsFields(error="refused-by-guard"))
    try:
        source = settings.observer.source_address
        fields = await _handshake(target, settings.tls.timeout, ctx.route(target, "tls"), source)
    except EgressError as exc:
        return watch.result("tls", EGRESS_FAILED, TlsFields(error=EGRESS_FAILED, detail=str(exc)[:300]))
    except Exception as exc:  # a stalled or broken handshake is data
        return watch.result("tls", "error", TlsFields(error=error_kind(exc), detail=str(exc)[:300]))
    return watch.result("tls", "handshake", fields)
