"""The native c2watch CSV format.

Header (columns in any order, case-insensitive)::

    threat_id,ip,domain,url,port,reported_on,malware_sha256,file_type,summary

``threat_id`` and at least one of ``ip``, ``domain``, ``url`` are required; the others are optional.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from c2watch.errors import LineError, WatchlistError
from c2watch.models import WatchlistEntry
from c2watch.watchlist.decode import SourceLine
from c2watch.watchlist.rows import RowSchema, build_entry
from c2watch.watchlist.table import first_significant, parse_body, split_header, split_line

__all__ = ["COLUMNS", "HINT", "NAME", "parse", "sniff"]

NAME = "c2watch"
COLUMNS = (
    "threat_id",
    "ip",
    "domain",
    "url",
    "port",
    "reported_on",
    "malware_sha256",
    "file_type",
    "summary",
)
HINT = "contain a 'threat_id' column (c2watch: " + ",".join(COLUMNS) + ")"
_TARGETS = ("ip", "domain", "url")
_FIELD_OF = {"malware_sha256": "malware_hash"}
_SCHEMA = RowSchema(labels={"malware_hash": "malware_sha256"}, hash_algorithms=("sha256",))


def sniff(lines: Sequence[SourceLine]) -> bool:
    """True when the first non-blank, non-comment line has a ``threat_id`` column."""
    header = first_significant(lines)
    if header is None:
        return False
    try:
        return "threat_id" in (cell.lower() for cell in split_line(header))
    except csv.Error:
        return False


def parse(lines: Sequence[SourceLine], path: Path | str) -> tuple[list[WatchlistEntry], list[LineError]]:
    """Parse a native file; raise :class:`WatchlistError` only for a missing or bad header."""
    header, names, body = split_header(lines, path)
    fields = [_FIELD_OF.get(name, name) for name in _check_header(header.number, names, path)]

    def parse_row(number: int, cells: list[str]) -> tuple[WatchlistEntry | None, list[LineError]]:
        return build_entry(dict(zip(fields, cells, strict=True)), number, _SCHEMA)

    return parse_body(body, len(fields), parse_row)


def _check_header(number: int, names: list[str], path: Path | str) -> list[str]:
    """The header's column names, or a :class:`WatchlistError` listing every problem with them."""
    if not set(names) & set(COLUMNS):
        message = "missing header: the first line must name the columns, e.g. " + ",".join(COLUMNS)
        raise WatchlistError(path, [LineError(number, message)])
    errors = [_unknown(number, index, name) for index, name in enumerate(names, 1) if name not in COLUMNS]
    errors += [
        LineError(number, f"column {name!r} appears {count} times", name)
        for name, count in Counter(names).items()
        if count > 1 and name in COLUMNS
    ]
    if "threat_id" not in names:
        errors.append(LineError(number, "header lacks the required column 'threat_id'", "threat_id"))
    if not set(names) & set(_TARGETS):
        errors.append(LineError(number, "header needs at least one of the columns ip, domain, url"))
    if errors:
        raise WatchlistError(path, errors)
    return names


def _unknown(number: int, index: int, name: str) -> LineError:
    if not name:
        return LineError(number, f"empty column name (column {index})")
    return LineError(number, f"unknown column {name!r}; known columns: {', '.join(COLUMNS)}", name)
