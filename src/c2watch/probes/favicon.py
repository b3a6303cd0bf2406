"""Favicon probe (opt-in: an implant never asks for one): ``GET /favicon.ico`` on the destination, its status and
Shodan's ``http.favicon.hash`` of the bytes read, so a C2 framework's default icon can be recognised
(docs/fingerprints.md). Off by default; add ``favicon`` to ``[cycle] probes`` knowingly."""

from __future__ import annotations

import asyncio

from c2watch.config import Settings
from c2watch.errors import EgressError
from c2watch.fingerprint import favicon_hash
from c2watch.models.observation import EGRESS_FAILED
from c2watch.models.probes import FaviconFields, FaviconResult, ProbeTarget
from c2watch.probes.base import ProbeContext, Stopwatch
from c2watch.probes.http import drop_tracebacks, get_bytes
from c2watch.probes.http_errors import error_kind

__all__ = ["PATH", "probe"]

PATH = "/favicon.ico"


async def probe(target: ProbeTarget, settings: Settings, ctx: ProbeContext) -> FaviconResult:
    """One GET of the favicon; ``answered`` with the hash (None for an empty body), or ``error`` with its kind."""
    watch = Stopwatch(ctx.clock)
    if target.connect_host is None:
        return watch.result("favicon", "refused-by-guard", FaviconFields(error="refused-by-guard"))
    try:
        async with asyncio.timeout(settings.http.total_timeout + 1):
            status, body = await get_bytes(target, settings.http, ctx.session_for(target, "favicon"), PATH)
    except EgressError as exc:
        return watch.result("favicon", EGRESS_FAILED, FaviconFields(error=EGRESS_FAILED, detail=str(exc)[:300]))
    except Exception as exc:  # every failure of a hostile peer is data
        result = watch.result("favicon", "error", FaviconFields(error=error_kind(exc), detail=str(exc)[:300]))
        drop_tracebacks(exc)
        return result
    fields = FaviconFields(status=status, bytes=len(body))
    if target.addresses:
        fields["address"] = target.addresses[0]
    fields["favicon_hash"] = favicon_hash(body) if body else None
    return watch.result("favicon", "answered", fields)
