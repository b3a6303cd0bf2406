"""``--values ip|domain|url|all``: which kinds of values a deny-list output holds, the same in both modes (kept and
removable), so the list a firewall loads and the list of what may leave it name the same kind of thing."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from c2watch.analysis.blocklist import KINDS, Entry
from c2watch.errors import InputError

__all__ = ["VALUES", "of_kinds", "parse_values"]

VALUES = (*KINDS, "all")


def parse_values(text: str) -> tuple[str, ...]:
    """``ip``, ``domain``, ``url``, ``all``, or kinds joined by commas (``ip,domain``) → the kinds."""
    wanted = tuple(part.strip() for part in text.split(",") if part.strip())
    if "all" in wanted:
        return KINDS
    unknown = [kind for kind in wanted if kind not in KINDS]
    if unknown or not wanted:
        raise InputError(f"--values: unknown kind {', '.join(unknown) or '(none)'}; known: {', '.join(VALUES)}")
    return tuple(kind for kind in KINDS if kind in wanted)


def of_kinds(entries: Sequence[Entry], kinds: Collection[str]) -> list[Entry]:
    return [entry for entry in entries if entry.kind in kinds]
