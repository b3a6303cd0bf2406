"""Parse watchlist files (C2 destinations listed by CERTs) into normalised entries.

:func:`parse_watchlist` reports every bad row as a :class:`~c2watch.errors.LineError` and keeps
the good ones; it raises :class:`~c2watch.errors.WatchlistError` only when the whole file is
unusable (unreadable, empty, binary, undecodable, missing or bad header, unknown format).
Rows a feed skips by design (hash IOCs, revoked or expired indicators ...) are listed apart.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from c2watch.errors import LineError, WatchlistError
from c2watch.models import WatchlistEntry
from c2watch.watchlist import misp
from c2watch.watchlist.decode import DecodedText, cap_lines, read_text
from c2watch.watchlist.feed import Ignored, check_threat_id, forget_json, looks_like_json
from c2watch.watchlist.formats import AUTO, FORMATS, detect, parse_lines, parser_for, threat_rule
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
    "DUPLICATE",
    "FORMATS",
    "ParseResult",
    "finish_parse",
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
    ignored: list[LineError] = field(default_factory=list)
    """Rows skipped by design (:class:`~c2watch.watchlist.feed.Ignored`): reported, not errors."""
    threat_rule: str = ""
    """How the format maps rows to threat IDs (or the ``threat`` override that replaced it)."""


def parse_watchlist(
    path: Path | str, fmt: str = AUTO, *, now: dt.datetime | None = None, threat: str | None = None
) -> ParseResult:
    """Parse the watchlist file at ``path`` in format ``fmt`` (a name of :data:`FORMATS` or ``auto``).

    ``path`` may be a MISP feed directory. ``now`` is the import time against which expiring rows (STIX
    ``valid_until``) are judged (default: the wall clock); ``threat`` puts every entry under that threat ID.
    """
    path = Path(path)
    _check_threat(threat, path)
    if path.is_dir():
        path, fmt = _feed_directory(path, fmt)
    parser = parser_for(fmt, path)
    decoded = read_text(path, max_line_chars=None)
    if not looks_like_json(decoded.lines):
        decoded = cap_lines(decoded)
    _check_header_readable(decoded, path)
    try:
        name = fmt if parser else detect(decoded.lines, path)
        entries, errors = parse_lines(name, decoded.lines, path, now)
    finally:
        forget_json()
    return finish_parse(entries, [*decoded.errors, *errors], name, decoded.encoding, threat)


def finish_parse(
    entries: Sequence[WatchlistEntry],
    errors: Sequence[LineError],
    fmt: str,
    encoding: str,
    threat: str | None = None,
) -> ParseResult:
    """Sort errors from skips, apply the ``threat`` override, drop (and report) repeated destinations."""
    ignored: list[LineError] = [err for err in errors if isinstance(err, Ignored)]
    real = sorted((err for err in errors if not isinstance(err, Ignored)), key=lambda err: err.line)
    rule = threat_rule(fmt)
    kept = list(entries)
    if threat is not None:
        kept = [replace(entry, threat_id=threat) for entry in kept]
        rule = f"every destination under {threat!r} (--threat)"
    unique, repeats = _drop_duplicates(kept)
    return ParseResult(unique, real, fmt, encoding, ignored + repeats, rule)


def _check_threat(threat: str | None, path: Path | str) -> None:
    problem = None if threat is None else check_threat_id(threat)
    if problem:
        raise WatchlistError(path, [LineError(0, f"--threat: {problem}")])


def _feed_directory(path: Path, fmt: str) -> tuple[Path, str]:
    """A directory is a MISP feed: read its manifest (which names the event files beside it)."""
    if fmt not in (AUTO, misp.NAME):
        message = f"a directory can only be read as a MISP feed (--format {misp.NAME}), not as {fmt}"
        raise WatchlistError(path, [LineError(0, message)])
    manifest = path / misp.MANIFEST
    if not manifest.is_file():
        message = f"no {misp.MANIFEST}: a MISP feed directory holds {misp.MANIFEST} and <event uuid>.json files"
        raise WatchlistError(path, [LineError(0, message)])
    return manifest, misp.NAME


def _check_header_readable(decoded: DecodedText, path: Path) -> None:
    """A too-long line before the header (or no other line) makes the whole file unusable."""
    if not decoded.errors:
        return
    header = first_significant(decoded.lines)
    first_error = decoded.errors[0]
    if header is None or first_error.line < header.number:
        raise WatchlistError(path, [first_error])


DUPLICATE = "repeats a destination listed earlier under the same threat ID (the first is kept)"


def _drop_duplicates(entries: list[WatchlistEntry]) -> tuple[list[WatchlistEntry], list[LineError]]:
    """The first entry of each destination (threat ID and url/domain/ip/port, as the store identifies it), and one
    :class:`Ignored` for each repeat, at its line or record id."""
    seen: dict[tuple[str, str], WatchlistEntry] = {}
    repeats: list[LineError] = []
    for entry in entries:
        identity = (entry.threat_id, entry.key)
        first = seen.setdefault(identity, entry)
        if first is not entry and not _same_row(first, entry):
            repeats.append(Ignored(entry.line, DUPLICATE, at=_where(entry)))
    return list(seen.values()), repeats


def _same_row(first: WatchlistEntry, other: WatchlistEntry) -> bool:
    """Two destinations of one row or record (a STIX indicator under two campaigns is not a repeat of itself)."""
    return first.line == other.line and first.source_ref == other.source_ref


def _where(entry: WatchlistEntry) -> str:
    return "" if entry.line or not entry.source_ref else f"record {entry.source_ref}"
