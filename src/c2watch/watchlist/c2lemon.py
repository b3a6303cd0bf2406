"""The CSV format of the c2lemon paper prototype.

Header and rows have twelve cells: a row number, an empty cell, then::

    #uid,#ip,#domain,#url,#port,#date,#report-date,#note,#hash,#file type

``#date`` (first seen) is only validated and backs an empty ``#report-date``; ``#note`` becomes
the summary, ``#hash`` may be md5, sha1 or sha256, the row number becomes ``source_ref``.

The prototype's own conventions define the format, and are read as it read them:

* a row whose ``#uid`` is empty is skipped: silently when the whole row is empty (the numbered padding rows
  of a spreadsheet), reported as ignored when it holds values;
* ``#port`` may list ports (``"80,443"``): one destination per port;
* ``#hash`` may hold a JSON list of ``{"md5": ..., "sha1": ..., "sha256": ...}`` objects (with or without the
  brackets): the first object's strongest hash is kept;
* a ``#url`` without a scheme (``example.com/path``) is taken as ``https://`` on port 443, else ``http://``.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Sequence
from pathlib import Path

from c2watch.errors import LineError, WatchlistError
from c2watch.models import WatchlistEntry
from c2watch.watchlist.decode import SourceLine
from c2watch.watchlist.feed import Ignored
from c2watch.watchlist.refang import refang
from c2watch.watchlist.rows import RowSchema, build_entry
from c2watch.watchlist.table import first_significant, parse_rows, split_header, split_line

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
_PORT_LIST = re.compile(r"[,;/\s]+")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_HASH_KEYS = ("sha256", "sha1", "md5")
_NO_UID = "row without #uid skipped (the prototype skips such rows)"


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
    return parse_rows(body, _WIDTH, _parse_row)


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


def _parse_row(number: int, cells: list[str]) -> tuple[list[WatchlistEntry], list[LineError]]:
    """The row's destinations, one per port of ``#port``; a row without ``#uid`` gives none."""
    values = dict(zip(_FIELDS, cells[2:], strict=True))
    if not values["threat_id"].strip():
        return [], [Ignored(number, _NO_UID, "#uid")] if any(values.values()) else []
    values["malware_hash"] = first_hash(values["malware_hash"])
    entries: list[WatchlistEntry] = []
    errors: dict[LineError, None] = {}
    for port in port_list(values["port"]):
        row = {**values, "port": port, "url": with_scheme(values["url"], port)}
        entry, row_errors = build_entry(row, number, _SCHEMA, source_ref=cells[0] or None)
        errors.update(dict.fromkeys(row_errors))
        entries += [] if entry is None else [entry]
    return ([], list(errors)) if errors else (entries, [])


def port_list(cell: str) -> list[str]:
    """The ports of a ``#port`` cell (``"80,443"`` is two); ``[""]`` when it is empty."""
    ports = [port for port in _PORT_LIST.split(cell.strip()) if port]
    return list(dict.fromkeys(ports)) or [""]


def with_scheme(url: str, port: str) -> str:
    """``url`` with ``https://`` (port 443) or ``http://`` in front when it has no scheme."""
    text = url.strip()
    if not text or _SCHEME.match(refang(text)):
        return text
    return ("https://" if port == "443" else "http://") + text


def first_hash(cell: str) -> str:
    """The hash of a ``#hash`` cell: the cell itself, or the first object's strongest hash of a JSON list."""
    text = cell.strip()
    if not text.startswith(("[", "{")):
        return text
    for candidate in (text, f"[{text}]"):
        try:
            document = json.loads(candidate)
        except ValueError:
            continue
        found = _hashes(document)
        return found[0] if found else text
    return text


def _hashes(document: object) -> list[str]:
    """The hashes of a JSON list of ``{"md5", "sha1", "sha256"}`` objects (or of one), strongest first."""
    items = document if isinstance(document, list) else [document]
    found: list[str] = []
    for item in items:
        if isinstance(item, dict):
            found += [str(item[key]) for key in _HASH_KEYS if isinstance(item.get(key), str) and item[key]]
        elif isinstance(item, str) and item:
            found.append(item)
    return found
