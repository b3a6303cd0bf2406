"""What DNS says of a destination beyond its addresses: the CNAME chain, the zone with its SOA and name servers, and
the PTR names of its addresses. Sinkholes and parking providers give themselves away here (docs/signatures.md).

Every question goes to the configured resolver, never to the destination; a failure is data (``error`` per
question: ``nxdomain``, ``servfail``, ``timeout``, ``no-answer``), never an exception. The number of questions is
bounded: one CNAME, the SOA walk up the name (at most its labels), one NS, and PTR for at most ``MAX_PTR`` addresses.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

import dns.asyncresolver
import dns.exception
import dns.name
import dns.resolver
import dns.reversename

from c2watch.probes.resolve import error_kind

__all__ = ["MAX_PTR", "DnsFacts", "dns_facts"]

MAX_PTR = 4


@dataclass(frozen=True)
class DnsFacts:
    """The answers (names without their final dot) and, per question that failed, why."""

    cnames: tuple[str, ...] = ()
    zone: str | None = None
    soa: str | None = None
    name_servers: tuple[str, ...] = ()
    ptr_names: dict[str, tuple[str, ...]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def nxdomain(self) -> bool:
        return self.errors.get("zone") == "nxdomain" or self.errors.get("cname") == "nxdomain"


def _text(name: dns.name.Name | str) -> str:
    return str(name).rstrip(".").lower()


async def _ask(resolver: dns.asyncresolver.Resolver, name: str, rdtype: str) -> tuple[list[str], str | None]:
    try:
        answer = await resolver.resolve(name, rdtype, search=False, raise_on_no_answer=True)
    except (dns.exception.DNSException, OSError) as exc:
        return [], error_kind(exc)
    return [rr.to_text() for rr in answer], None


async def _zone(resolver: dns.asyncresolver.Resolver, name: str) -> tuple[str | None, str | None, str | None]:
    """(zone, its SOA, error): the closest enclosing zone, found by asking SOA up the name's labels."""
    labels = name.rstrip(".").split(".")
    first_error = None
    for start in range(len(labels) - 1):  # never the root or a top-level domain alone
        candidate = ".".join(labels[start:])
        records, error = await _ask(resolver, candidate, "SOA")
        if records:
            return candidate.lower(), records[0], None
        if error == "nxdomain" and start == 0:
            return None, None, error
        if error not in ("no-answer", "nxdomain"):
            return None, None, error
        first_error = first_error or error
    return None, None, first_error


async def _ptr(resolver: dns.asyncresolver.Resolver, address: str) -> tuple[list[str], str | None]:
    try:
        name = dns.reversename.from_address(address).to_text()
    except (ValueError, dns.exception.SyntaxError):
        return [], "not-an-address"
    return await _ask(resolver, name, "PTR")


async def dns_facts(resolver: dns.asyncresolver.Resolver, name: str | None, addresses: Sequence[str]) -> DnsFacts:
    """The facts of ``name`` (None for an IP-only destination) and of ``addresses``."""
    errors: dict[str, str] = {}
    cnames: list[str] = []
    zone = soa = None
    name_servers: list[str] = []
    if name is not None:
        cnames, cname_error = await _ask(resolver, name, "CNAME")
        zone, soa, zone_error = await _zone(resolver, name)
        errors.update({k: v for k, v in (("cname", cname_error), ("zone", zone_error)) if v and v != "no-answer"})
        if zone is not None:
            name_servers, ns_error = await _ask(resolver, zone, "NS")
            errors.update({"ns": ns_error} if ns_error else {})
    asked = list(addresses[:MAX_PTR])
    ptrs = await asyncio.gather(*(_ptr(resolver, a) for a in asked))
    ptr_names = {a: tuple(sorted(_text(n) for n in names)) for a, (names, _) in zip(asked, ptrs, strict=True) if names}
    return DnsFacts(
        tuple(_text(c) for c in cnames), zone, soa, tuple(sorted(_text(n) for n in name_servers)), ptr_names, errors
    )
