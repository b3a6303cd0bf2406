"""The registry of watchlist formats and the detection used by ``fmt="auto"``.

A format is one module with ``parse(lines, path) -> (entries, line_errors)`` and
``sniff(lines) -> bool``; adding one (urlhaus, threatfox, feodo, stix, misp ...) means writing
that module and adding one :class:`WatchlistFormat` to :data:`REGISTRY`. Detection asks the
formats in registry order, so put the more specific sniffers first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from c2watch.errors import LineError, WatchlistError
from c2watch.models import WatchlistEntry
from c2watch.watchlist import c2lemon, native
from c2watch.watchlist.decode import SourceLine
from c2watch.watchlist.table import first_significant

__all__ = ["AUTO", "FORMATS", "REGISTRY", "Parser", "Sniffer", "WatchlistFormat", "detect", "parser_for"]

Parser = Callable[[Sequence[SourceLine], Path | str], tuple[list[WatchlistEntry], list[LineError]]]
"""Parses every line of a file; raises :class:`WatchlistError` only when the file as a whole is unusable."""

Sniffer = Callable[[Sequence[SourceLine]], bool]
"""Tells whether the lines look like the format (checked by ``fmt="auto"``)."""

AUTO = "auto"


@dataclass(frozen=True)
class WatchlistFormat:
    """One supported file format."""

    name: str
    parse: Parser
    sniff: Sniffer
    hint: str
    """How its header looks, for the "cannot detect format" message."""


REGISTRY: tuple[WatchlistFormat, ...] = (
    WatchlistFormat(c2lemon.NAME, c2lemon.parse, c2lemon.sniff, c2lemon.HINT),
    WatchlistFormat(native.NAME, native.parse, native.sniff, native.HINT),
)

FORMATS: dict[str, Parser] = {fmt.name: fmt.parse for fmt in REGISTRY}


def detect(lines: Sequence[SourceLine], path: Path | str = "<text>") -> str:
    """The name of the first format whose sniffer accepts ``lines``; else :class:`WatchlistError`."""
    for fmt in REGISTRY:
        if fmt.sniff(lines):
            return fmt.name
    header = first_significant(lines)
    hints = " or ".join(fmt.hint for fmt in REGISTRY)
    message = f"cannot detect format; header must {hints}"
    raise WatchlistError(path, [LineError(header.number if header else 0, message)])


def parser_for(name: str, path: Path | str = "<text>") -> Parser | None:
    """The parser of format ``name``; None for ``auto``; :class:`WatchlistError` for an unknown name."""
    if name == AUTO:
        return None
    if name not in FORMATS:
        known = ", ".join([AUTO, *FORMATS])
        raise WatchlistError(path, [LineError(0, f"unknown format {name!r}; known formats: {known}")])
    return FORMATS[name]
