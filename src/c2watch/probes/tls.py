"""TLS probe: complete a handshake (verification off) and record the certificate's fingerprint and the protocol."""

from __future__ import annotations

import asyncio

from c2watch.config import Settings
from c2watch.models.probes import ProbeTarget, TlsFields, TlsResult
from c2watch.probes.base import ProbeContext, Stopwatch
from c2watch.probes.certificate import add_certificate
from c2watch.probes.http import insecure_ssl_context
from c2watch.probes.http_errors import error_kind

__all__ = ["probe"]


async def _handshake(target: ProbeTarget, timeout: float, source: str) -> TlsFields:
    address = target.addresses[0]
    _reader, writer = await asyncio.wait_for(
        asyncio.open_connection(
            address,
            target.port,
            ssl=insecure_ssl_context(),
            server_hostname=target.host if target.host_is_name else "",
            ssl_handshake_timeout=timeout,
            local_addr=(source, 0) if source else None,
        ),
        timeout,
    )
    try:
        ssl_object = writer.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object else None
        fields = TlsFields(
            address=address,
            version=ssl_object.version() if ssl_object else None,
            cipher=ssl_object.cipher()[0] if ssl_object and ssl_object.cipher() else None,
        )
        add_certificate(fields, der)
        return fields
    finally:
        writer.transport.abort()


async def probe(target: ProbeTarget, settings: Settings, ctx: ProbeContext) -> TlsResult:
    """Handshake with an ``https`` target; other schemes are ``not-applicable``."""
    watch = Stopwatch(ctx.clock)
    if target.scheme != "https":
        return watch.result("tls", "not-applicable", TlsFields())
    if not target.addresses:
        return watch.result("tls", "refused-by-guard", TlsFields(error="refused-by-guard"))
    try:
        fields = await _handshake(target, settings.tls.timeout, settings.observer.source_address)
    except Exception as exc:  # a stalled or broken handshake is data
        return watch.result("tls", "error", TlsFields(error=error_kind(exc), detail=str(exc)[:300]))
    return watch.result("tls", "handshake", fields)
