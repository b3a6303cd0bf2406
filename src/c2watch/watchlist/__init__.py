"""Parse watchlist files (C2 destinations listed by CERTs) into normalised entries.

:func:`parse_watchlist` reports every bad row as a :class:`~c2watch.errors.LineError` and keeps
the good ones; it raises :class:`~c2watch.errors.WatchlistError` only when the whole file is
unusable (unreadable, empty, binary, undecodable, missing or bad header, unknown format).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from c2watch.errors import LineError, WatchlistError
from c2watch.models import WatchlistEntry
from c2watch.watchlist.decode import DecodedText, read_text
from c2watch.watchlist.formats import AUTO, FORMATS, detect, parser_for
from c2watch.watchlist.refang import (
    normalize_date,
    normalize_domain,
    normalize_hash,
    normalize_ip,
    normalize_port,
    normalize_url,
    refang,
)
from c2watch.watchlist.table import first_significant

__all__ = [
    "AUTO",
    "FORMATS",
    "ParseResult",
    "normalize_date",
    "normalize_domain",
    "normalize_hash",
    "normalize_ip",
    "normalize_port",
    "normalize_url",
    "parse_watchlist",
    "refang",
]


@dataclass
class ParseResult:
    """The good entries and every line error of one file, with its format and encoding."""

    entries: list[WatchlistEntry]
    errors: list[LineError]
    format: str
    encoding: str


def parse_watchlist(path: Path | str, fmt: str = AUTO) -> ParseResult:
    """Parse the watchlist file at ``path`` in format ``fmt`` (a name of :data:`FORMATS` or ``auto``)."""
    path = Path(path)
    parser = parser_for(fmt, path)
    decoded = read_text(path)
    _check_header_readable(decoded, path)
    name = fmt if parser else detect(decoded.lines, path)
    entries, errors = FORMATS[name](decoded.lines, path)
    all_errors = sorted([*decoded.errors, *errors], key=lambda err: err.line)
    return ParseResult(_drop_duplicates(entries), all_errors, name, decoded.encoding)


def _check_header_readable(decoded: DecodedText, path: Path) -> None:
    """A too-long line before the header (or no other line) makes the whole file unusable."""
    if not decoded.errors:
        return
    header = first_significant(decoded.lines)
    first_error = decoded.errors[0]
    if header is None or first_error.line < header.number:
        raise WatchlistError(path, [first_error])


def _drop_duplicates(entries: list[WatchlistEntry]) -> list[WatchlistEntry]:
    """Entries without exact repeats (same values apart from line and row number); keeps the first."""
    seen: set[WatchlistEntry] = set()
    unique: list[WatchlistEntry] = []
    for entry in entries:
        identity = replace(entry, line=0, source_ref=None)
        if identity not in seen:
            seen.add(identity)
            unique.append(entry)
    return unique
