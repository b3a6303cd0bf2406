"""Name resolution with dnspython against configured nameservers; a failure is data (``error``), not an exception."""

from __future__ import annotations

import asyncio
import time

import dns.asyncresolver
import dns.exception
import dns.resolver

from c2watch.config import DnsSettings
from c2watch.models.probes import Resolution

__all__ = ["RESERVED_SUFFIXES", "Resolution", "Resolver", "error_kind", "is_reserved_name"]

# Names that must never be looked up through a real resolver (RFC 2606 / RFC 6761).
RESERVED_SUFFIXES = ("example", "invalid", "localhost", "test", "example.com", "example.net", "example.org")


def is_reserved_name(name: str) -> bool:
    name = name.lower().rstrip(".")
    return any(name == suffix or name.endswith("." + suffix) for suffix in RESERVED_SUFFIXES)


_ERRORS: tuple[tuple[type[BaseException], str], ...] = (
    (dns.resolver.NXDOMAIN, "nxdomain"),
    (dns.resolver.NoAnswer, "no-answer"),
    (dns.resolver.NoNameservers, "servfail"),
    (dns.exception.Timeout, "timeout"),
    (dns.resolver.LifetimeTimeout, "timeout"),
)


def error_kind(exc: BaseException) -> str:
    """``nxdomain``, ``no-answer``, ``servfail``, ``timeout`` or ``dns-error``."""
    return next((kind for cls, kind in _ERRORS if isinstance(exc, cls)), "dns-error")


class Resolver:
    """Resolves A and AAAA at once. ``nameservers`` empty means the system's (``/etc/resolv.conf``)."""

    def __init__(self, settings: DnsSettings) -> None:
        self._resolver = dns.asyncresolver.Resolver(configure=not settings.nameservers)
        if settings.nameservers:
            self._resolver.nameservers = list(settings.nameservers)
        self._resolver.port = settings.port
        self._resolver.lifetime = settings.timeout
        self._resolver.timeout = settings.timeout

    @property
    def dnspython(self) -> dns.asyncresolver.Resolver:
        """The configured dnspython resolver (for the DNS facts: c2watch.probes.dnsfacts)."""
        return self._resolver

    async def _query(self, name: str, rdtype: str) -> tuple[list[str], int | None, BaseException | None]:
        try:
            answer = await self._resolver.resolve(name, rdtype, search=False)
        except (dns.exception.DNSException, OSError) as exc:
            return [], None, exc
        return [rr.to_text() for rr in answer], answer.rrset.ttl if answer.rrset else None, None

    async def resolve(self, name: str) -> Resolution:
        start = time.perf_counter()
        (v4, ttl4, err4), (v6, ttl6, err6) = await asyncio.gather(self._query(name, "A"), self._query(name, "AAAA"))
        elapsed = round((time.perf_counter() - start) * 1000, 3)
        addresses = tuple(dict.fromkeys(v4 + v6))
        if addresses:
            ttls = [t for t in (ttl4, ttl6) if t is not None]
            return Resolution(name, addresses, None, min(ttls) if ttls else None, elapsed)
        worst = err4 if err4 is not None and not isinstance(err4, dns.resolver.NoAnswer) else err6 or err4
        return Resolution(name, (), error_kind(worst) if worst else "no-answer", None, elapsed)
