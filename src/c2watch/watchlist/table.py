"""Split watchlist lines into CSV cells: one physical line is one row.

Shared by every CSV-based format: skipping blank and comment lines, finding the header,
splitting a line with :mod:`csv` and checking the number of fields.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from c2watch.errors import LineError, WatchlistError
from c2watch.models import WatchlistEntry
from c2watch.watchlist.decode import SourceLine

__all__ = [
    "RowParser",
    "RowsParser",
    "first_significant",
    "fit_width",
    "is_skippable",
    "parse_body",
    "parse_rows",
    "significant",
    "split_header",
    "split_line",
]

RowParser = Callable[[int, list[str]], tuple[WatchlistEntry | None, list[LineError]]]
"""Turns the cells of one data row (and its line number) into an entry or the row's errors."""

RowsParser = Callable[[int, list[str]], tuple[list[WatchlistEntry], list[LineError]]]
"""Turns the cells of one data row into its entries (a row may list several destinations) and errors."""


def is_skippable(text: str) -> bool:
    """A blank line, a ``#`` comment, or a row of only empty cells (``,,,`` as Excel writes)."""
    stripped = text.strip()
    return not stripped or stripped.startswith("#") or not stripped.strip(", \t")


def significant(lines: Sequence[SourceLine]) -> list[SourceLine]:
    """The lines that are neither blank nor comments."""
    return [line for line in lines if not is_skippable(line.text)]


def first_significant(lines: Iterable[SourceLine]) -> SourceLine | None:
    """The first line that is neither blank nor a comment (the header of CSV formats)."""
    return next((line for line in lines if not is_skippable(line.text)), None)


def split_line(line: SourceLine, skipinitialspace: bool = False) -> list[str]:
    """The whitespace-trimmed cells of one line; raises :class:`csv.Error` on bad quoting.

    ``skipinitialspace`` reads ``"a", "b"`` (separator ``", "``, as ThreatFox writes) as two quoted cells.
    """
    reader = csv.reader([line.text], strict=True, skipinitialspace=skipinitialspace)
    return [cell.strip() for cell in next(reader, [])]


def split_header(lines: Sequence[SourceLine], path: Path | str) -> tuple[SourceLine, list[str], list[SourceLine]]:
    """The header line, its cells (lower-cased, trailing empty cells dropped) and the data lines."""
    rows = significant(lines)
    if not rows:
        raise WatchlistError(path, [LineError(0, "missing header: the file has no data")])
    header = rows[0]
    try:
        cells = [cell.lower() for cell in split_line(header)]
    except csv.Error as exc:
        raise WatchlistError(path, [LineError(header.number, f"bad CSV in header: {exc}")]) from None
    while cells and not cells[-1]:
        cells.pop()
    return header, cells, rows[1:]


def fit_width(cells: list[str], width: int) -> list[str] | None:
    """``cells`` cut to ``width`` when the extra cells are empty; None when the count is wrong."""
    if len(cells) < width or any(cells[width:]):
        return None
    return cells[:width]


def parse_body(
    body: Sequence[SourceLine], width: int, parse_row: RowParser, skipinitialspace: bool = False
) -> tuple[list[WatchlistEntry], list[LineError]]:
    """Parse every data line (one entry per row); collect all entries and all line errors."""

    def one(number: int, cells: list[str]) -> tuple[list[WatchlistEntry], list[LineError]]:
        entry, errors = parse_row(number, cells)
        return ([] if entry is None else [entry]), errors

    return parse_rows(body, width, one, skipinitialspace)


def parse_rows(
    body: Sequence[SourceLine], width: int, parse_row: RowsParser, skipinitialspace: bool = False
) -> tuple[list[WatchlistEntry], list[LineError]]:
    """Parse every data line (any number of entries per row); collect all entries and all line errors."""
    entries: list[WatchlistEntry] = []
    errors: list[LineError] = []
    for line in body:
        try:
            cells = split_line(line, skipinitialspace)
        except csv.Error as exc:
            errors.append(LineError(line.number, f"bad CSV: {exc}"))
            continue
        fitted = fit_width(cells, width)
        if fitted is None:
            errors.append(LineError(line.number, f"expected {width} fields, found {len(cells)}"))
            continue
        row_entries, row_errors = parse_row(line.number, fitted)
        errors += row_errors
        entries += row_entries
    return entries, errors
