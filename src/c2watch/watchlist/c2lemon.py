"""The CSV format of the c2lemon paper prototype.

Header and rows have twelve cells: a row number, an empty cell, then::

    #uid,#ip,#domain,#url,#port,#date,#report-date,#note,#hash,#file type

``#date`` (first seen) is only validated and backs an empty ``#report-date``; ``#note`` becomes
the summary, ``#hash`` may be md5, sha1 or sha256, the row number becomes ``source_ref``.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from c2watch.errors import LineError, WatchlistError
from c2watch.models import WatchlistEntry
from c2watch.watchlist.decode import SourceLine
from c2watch.watchlist.rows import RowSchema, build_entry
from c2watch.watchlist.table import first_significant, parse_body, split_header, split_line

__all__ = ["COLUMNS", "HEADER", "HINT", "NAME", "parse", "sniff"]

NAME = "c2lemon"
COLUMNS = ("#uid", "#ip", "#domain", "#url", "#port", "#date", "#report-date", "#note", "#hash", "#file type")
HEADER = "1,," + ",".join(COLUMNS)
HINT = f"start with '1,,#uid' (c2lemon: {HEADER})"
_FIELDS = (
    "threat_id",
    "ip",
    "domain",
    "url",
    "port",
    "first_seen",
    "reported_on",
    "summary",
    "malware_hash",
    "file_type",
)
_WIDTH = 2 + len(COLUMNS)
_SCHEMA = RowSchema(labels=dict(zip(_FIELDS, COLUMNS, strict=True)))


def sniff(lines: Sequence[SourceLine]) -> bool:
    """True when the third cell of the first non-blank, non-comment line is ``#uid``."""
    header = first_significant(lines)
    if header is None:
        return False
    try:
        cells = split_line(header)
    except csv.Error:
        return False
    return len(cells) > 2 and cells[2].lower() == "#uid"


def parse(lines: Sequence[SourceLine], path: Path | str) -> tuple[list[WatchlistEntry], list[LineError]]:
    """Parse a c2lemon file; raise :class:`WatchlistError` only for a missing or wrong header."""
    header, cells, body = split_header(lines, path)
    problem = _header_problem(cells)
    if problem:
        message = f"wrong header: {problem}; expected {HEADER!r}"
        raise WatchlistError(path, [LineError(header.number, message)])
    return parse_body(body, _WIDTH, _parse_row)


def _header_problem(cells: list[str]) -> str | None:
    """What is wrong with the header cells (lower-cased, trailing empties dropped), or None."""
    if len(cells) != _WIDTH:
        return f"{len(cells)} columns instead of {_WIDTH}"
    if cells[1]:
        return f"column 2 must be empty, not {cells[1]!r}"
    for index, (found, wanted) in enumerate(zip(cells[2:], COLUMNS, strict=True), start=3):
        if found != wanted:
            return f"column {index} is {found!r} instead of {wanted!r}"
    return None


def _parse_row(number: int, cells: list[str]) -> tuple[WatchlistEntry | None, list[LineError]]:
    values = dict(zip(_FIELDS, cells[2:], strict=True))
    return build_entry(values, number, _SCHEMA, source_ref=cells[0] or None)
