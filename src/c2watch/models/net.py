"""What a host string is: an IP literal or a name (the one check the watchlist parsers and the probes share)."""

from __future__ import annotations

import ipaddress

__all__ = ["is_ip_literal"]


def is_ip_literal(text: str) -> bool:
    """True when ``text`` is an IPv4 or IPv6 address as written (no brackets, no port)."""
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
