"""The registry of watchlist formats and the detection used by ``fmt="auto"``.

A format is one module with ``parse(lines, path) -> (entries, line_errors)`` and
``sniff(lines) -> bool``; adding one means writing that module and adding one
:class:`WatchlistFormat` to :data:`REGISTRY`. Detection asks the formats in registry order, so
put the more specific sniffers first. Feed formats may also read JSON (``json_hint``), judge
expiry against the import time (``parse_at``) and say how rows map to threat IDs (``threat_rule``);
a parser's :class:`~c2watch.watchlist.feed.Ignored` errors are rows skipped by design.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from c2watch.errors import LineError, WatchlistError
from c2watch.models import WatchlistEntry
from c2watch.watchlist import c2lemon, feodo, misp, native, plain, stix_feed, threatfox, urlhaus
from c2watch.watchlist.decode import SourceLine
from c2watch.watchlist.feed import json_problem, looks_like_json, sniff_json
from c2watch.watchlist.table import first_significant

__all__ = [
    "AUTO",
    "FORMATS",
    "REGISTRY",
    "Parser",
    "Sniffer",
    "TimedParser",
    "WatchlistFormat",
    "detect",
    "parse_lines",
    "parser_for",
    "threat_rule",
]

Parser = Callable[[Sequence[SourceLine], Path | str], tuple[list[WatchlistEntry], list[LineError]]]
"""Parses every line of a file; raises :class:`WatchlistError` only when the file as a whole is unusable."""

TimedParser = Callable[[Sequence[SourceLine], Path | str, dt.datetime], tuple[list[WatchlistEntry], list[LineError]]]
"""A parser that judges expiry (STIX ``valid_until``) against the given import time."""

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
    """How its header looks, for the "cannot detect format" message ("" for JSON-only formats)."""
    json_hint: str = ""
    """How its JSON document looks ("" for formats that read no JSON)."""
    threat_rule: str = ""
    """How its rows map to threat IDs (shown by every import)."""
    parse_at: TimedParser | None = None
    """The parser that takes the import time, for formats whose rows expire."""


REGISTRY: tuple[WatchlistFormat, ...] = (
    WatchlistFormat(c2lemon.NAME, c2lemon.parse, c2lemon.sniff, c2lemon.HINT, threat_rule="the #uid column"),
    WatchlistFormat(native.NAME, native.parse, native.sniff, native.HINT, threat_rule="the threat_id column"),
    WatchlistFormat(
        stix_feed.NAME,
        stix_feed.parse,
        stix_feed.sniff,
        "",
        stix_feed.JSON_HINT,
        stix_feed.THREAT_RULE,
        stix_feed.parse_at,
    ),
    WatchlistFormat(misp.NAME, misp.parse, misp.sniff, "", misp.JSON_HINT, misp.THREAT_RULE),
    WatchlistFormat(
        threatfox.NAME, threatfox.parse, threatfox.sniff, threatfox.HINT, threatfox.JSON_HINT, threatfox.THREAT_RULE
    ),
    WatchlistFormat(feodo.NAME, feodo.parse, feodo.sniff, feodo.HINT, feodo.JSON_HINT, feodo.THREAT_RULE),
    WatchlistFormat(urlhaus.NAME, urlhaus.parse, urlhaus.sniff, urlhaus.HINT, urlhaus.JSON_HINT, urlhaus.THREAT_RULE),
    WatchlistFormat(plain.NAME, plain.parse, plain.sniff, plain.HINT, threat_rule=plain.THREAT_RULE),
)

FORMATS: dict[str, Parser] = {fmt.name: fmt.parse for fmt in REGISTRY}
_BY_NAME = {fmt.name: fmt for fmt in REGISTRY}


def detect(lines: Sequence[SourceLine], path: Path | str = "<text>") -> str:
    """The name of the first format whose sniffer accepts ``lines``; else :class:`WatchlistError`."""
    for fmt in REGISTRY:
        if fmt.sniff(lines):
            return fmt.name
    if looks_like_json(lines):
        problem = json_problem(lines)
        if problem is not None:
            raise WatchlistError(path, [problem])
        known = stix_feed.not_a_feed(sniff_json(lines))
        if known is not None:
            raise WatchlistError(path, [LineError(0, f"this is {known}")])
        hints = " or ".join(fmt.json_hint for fmt in REGISTRY if fmt.json_hint)
        raise WatchlistError(path, [LineError(0, f"cannot detect format of this JSON document; it must {hints}")])
    header = first_significant(lines)
    hints = " or ".join(fmt.hint for fmt in REGISTRY if fmt.hint)
    message = f"cannot detect format; header must {hints}"
    raise WatchlistError(path, [LineError(header.number if header else 0, message)])


def parse_lines(
    name: str, lines: Sequence[SourceLine], path: Path | str, now: dt.datetime | None = None
) -> tuple[list[WatchlistEntry], list[LineError]]:
    """Parse ``lines`` in format ``name``; ``now`` is the import time for formats whose rows expire."""
    fmt = _BY_NAME[name]
    if fmt.parse_at is not None and now is not None:
        return fmt.parse_at(lines, path, now)
    return fmt.parse(lines, path)


def threat_rule(name: str) -> str:
    """How format ``name`` maps rows to threat IDs."""
    return _BY_NAME[name].threat_rule


def parser_for(name: str, path: Path | str = "<text>") -> Parser | None:
    """The parser of format ``name``; None for ``auto``; :class:`WatchlistError` for an unknown name."""
    if name == AUTO:
        return None
    if name not in FORMATS:
        known = ", ".join([AUTO, *FORMATS])
        raise WatchlistError(path, [LineError(0, f"unknown format {name!r}; known formats: {known}")])
    return FORMATS[name]
