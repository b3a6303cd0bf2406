"""An nftables set definition file of the deny list's IP addresses, loadable with ``nft -f`` (atomically: the
whole file is one transaction) and checkable with ``nft -c -f``.

It declares ``table inet c2watch`` with two sets (IPv4, IPv6; ``c2watch_block_v4``/``_v6``, or
``c2watch_removable_v4``/``_v6`` for the removable list), flushes them and adds the elements, so loading it again
replaces the contents. Rules elsewhere refer to the sets, e.g.
``ip daddr @c2watch_block_v4 drop`` in a chain of the same table. Domains and URLs have no place in an IP set:
they are counted in a comment.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from c2watch.analysis.blocklist import Entry
from c2watch.errors import InputError

__all__ = ["TABLE", "nft_set"]

TABLE = "c2watch"


def _set(name: str, kind: str, elements: Sequence[str]) -> list[str]:
    lines = [f"add set inet {TABLE} {name} {{ type {kind}; flags interval; }}", f"flush set inet {TABLE} {name}"]
    for start in range(0, len(elements), 1000):  # keeps each line short for a large list
        chunk = ", ".join(elements[start : start + 1000])
        lines.append(f"add element inet {TABLE} {name} {{ {chunk} }}")
    return lines


def nft_set(entries: Sequence[Entry], removable: bool) -> str:
    """The IP entries as an nftables file; an InputError when ``entries`` hold no IP kind at all."""
    if entries and not any(entry.kind == "ip" for entry in entries):
        raise InputError("--format nft: an nftables set holds IP addresses; use --values ip or all")
    v4 = [e.value for e in entries if e.kind == "ip" and ipaddress.ip_address(e.value).version == 4]
    v6 = [e.value for e in entries if e.kind == "ip" and ipaddress.ip_address(e.value).version == 6]
    other = sum(1 for e in entries if e.kind != "ip")
    prefix = "c2watch_removable" if removable else "c2watch_block"
    what = "may leave the deny list" if removable else "stay on the deny list"
    lines = [
        f"# c2watch deny list: {len(v4) + len(v6)} IP addresses that {what}",
        *([f"# {other} domain/URL values left out (an nftables set holds addresses)"] if other else []),
        f"add table inet {TABLE}",
        *_set(f"{prefix}_v4", "ipv4_addr", v4),
        *_set(f"{prefix}_v6", "ipv6_addr", v6),
    ]
    return "\n".join(lines) + "\n"
