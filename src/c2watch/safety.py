"""The safety guard: which addresses may receive a probe.

Loopback, private, link-local, multicast, unspecified, reserved, shared and documentation ranges — everything that
is not globally routable — are refused unless a network in ``[safety] allow_networks`` contains the address.
A refusal is returned as a reason string and recorded as an outcome, never silently skipped.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["Guard", "IPAddress"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_DOCUMENTATION = [
    ipaddress.ip_network(net)
    for net in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32", "3fff::/20")
]
_CLASSES = (
    ("loopback", lambda a: a.is_loopback),
    ("unspecified", lambda a: a.is_unspecified),
    ("link-local", lambda a: a.is_link_local),
    ("multicast", lambda a: a.is_multicast),
    ("documentation", lambda a: any(a in net for net in _DOCUMENTATION)),
    ("private", lambda a: a.is_private),
    ("reserved", lambda a: a.is_reserved),
    ("not-global", lambda a: not a.is_global),
)


def _unmap(address: IPAddress) -> IPAddress:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


@dataclass(frozen=True)
class Guard:
    """Decides whether an address may be probed. ``Guard.from_strings(["127.0.0.0/8"])`` allows loopback."""

    allowed: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()

    @classmethod
    def from_strings(cls, networks: Iterable[str]) -> Guard:
        return cls(tuple(ipaddress.ip_network(net, strict=False) for net in networks))

    def refusal(self, address: str) -> str | None:
        """``None`` when ``address`` may be probed, else why not (e.g. ``"loopback 127.0.0.1"``)."""
        try:
            parsed = _unmap(ipaddress.ip_address(address.split("%", 1)[0]))
        except ValueError:
            return f"not an IP address {address!r}"
        if any(parsed in net for net in self.allowed):
            return None
        for name, test in _CLASSES:
            if test(parsed):
                return f"{name} address {parsed} is not in [safety] allow_networks"
        return None
