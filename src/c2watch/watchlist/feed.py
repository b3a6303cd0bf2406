"""What the feed formats (URLhaus, ThreatFox, Feodo Tracker, STIX 2.1, MISP) share.

* :class:`FeedError`: a :class:`LineError` that can point into a JSON document (``at``, a JSON path
  such as ``$.objects[3].pattern``) instead of a line; :class:`Ignored`: a row skipped by design
  (hash IOC, revoked or expired indicator ...), counted and reported but not an error.
* JSON documents: :func:`looks_like_json`, :func:`load_json` (parsed once per file, errors with the
  line number), :func:`sniff_json` for the sniffers.
* :func:`feed_entry`: :func:`~c2watch.watchlist.rows.build_entry` for feed rows whose dates are
  timestamps, with the column limits of the store checked.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from c2watch.errors import LineError, WatchlistError
from c2watch.models import WatchlistEntry
from c2watch.watchlist.decode import SourceLine
from c2watch.watchlist.rows import MAX_THREAT_ID, RowSchema, build_entry
from c2watch.watchlist.table import split_line

__all__ = [
    "FeedError",
    "Ignored",
    "check_threat_id",
    "column_header",
    "comment_header",
    "decode_json",
    "family_threat",
    "feed_date",
    "feed_entry",
    "feed_time",
    "footer_errors",
    "forget_json",
    "json_problem",
    "load_json",
    "looks_like_json",
    "member",
    "null_text",
    "sniff_json",
    "text_of",
]

"""Column sizes of the store (``threats.threat_id``, ``targets.source_ref``, ``targets.url``)."""

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}")
_UTC_SUFFIX = re.compile(r"\s*(?:UTC|Z)$", re.IGNORECASE)
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_NULLS = frozenset({"", "none", "null", "n/a"})
_FOOTER = re.compile(r"^#\s*(?:END\s+(\d+)\s+entries|Number of entries:\s*(\d+))\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class FeedError(LineError):
    """A bad row of a feed; ``at`` locates it in a JSON document when it has no line number."""

    at: str = ""

    def __str__(self) -> str:
        if self.line or not self.at:
            return super().__str__()
        return f"{self.at}: {self.field + ': ' if self.field else ''}{self.message}"


@dataclass(frozen=True)
class Ignored(FeedError):
    """A row skipped by design (not a destination c2watch can watch): reported and counted, never an error."""


def member(at: str, key: str | int) -> str:
    """The JSON path of ``key`` (an object member or a list index) below ``at``."""
    if isinstance(key, int):
        return f"{at}[{key}]"
    if _IDENTIFIER.match(key):
        return f"{at}.{key}"
    return f"{at}[{json.dumps(key, ensure_ascii=False)}]"


def text_of(value: object) -> str:
    """A JSON scalar as cell text: strings trimmed, numbers as written, null and containers as ``""``."""
    if isinstance(value, bool) or value is None or isinstance(value, list | dict):
        return ""
    return str(value).strip()


def null_text(value: str) -> str:
    """``value`` with the abuse.ch spellings of "nothing" (``None``, ``null``, ``n/a``) made empty."""
    return "" if value.strip().lower() in _NULLS else value.strip()


def feed_time(value: str) -> dt.datetime:
    """An aware UTC time from ``YYYY-MM-DD``, ``YYYY-MM-DD HH:MM:SS[ UTC]`` or RFC 3339 (``...T...Z``)."""
    text = _UTC_SUFFIX.sub("", value.strip())
    shown = value.strip()[:60]
    if not _DAY.match(text):
        raise ValueError(f"time must be YYYY-MM-DD[ HH:MM:SS], not {shown!r}")
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not a valid time: {shown!r}") from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def feed_date(value: str) -> dt.date:
    """The UTC day of a feed time (see :func:`feed_time`)."""
    return feed_time(value).date()


def family_threat(prefix: str, name: str) -> str:
    """``prefix:name`` with the name trimmed, lower-cased and its inner whitespace collapsed."""
    return f"{prefix}:{' '.join(name.split()).lower()}"


def check_threat_id(threat_id: str) -> str | None:
    """Why ``threat_id`` cannot be stored, or None."""
    if not threat_id.strip():
        return "threat id is empty"
    if len(threat_id) > MAX_THREAT_ID:
        return f"threat id is {len(threat_id)} characters long (limit {MAX_THREAT_ID})"
    return None


def feed_entry(
    values: dict[str, str],
    schema: RowSchema,
    *,
    line: int = 0,
    at: str = "",
    source_ref: str | None = None,
    times: Mapping[str, str] | None = None,
) -> tuple[WatchlistEntry | None, list[LineError]]:
    """Build one entry from ``{canonical field: raw text}``; ``times`` (field -> raw timestamp) become dates.

    Errors carry ``line`` (CSV feeds) or the JSON path ``at`` (JSON feeds).
    """
    errors: list[LineError] = []
    for name, raw in (times or {}).items():
        if raw:
            try:
                values[name] = feed_date(raw).isoformat()
            except ValueError as exc:
                errors.append(LineError(line, str(exc), schema.label(name)))
    entry, row_errors = build_entry(values, line, schema, source_ref=source_ref)
    errors += row_errors
    if at:
        errors = [FeedError(0, err.message, err.field, at=at) for err in errors]
    return (None, errors) if errors else (entry, [])


def comment_header(lines: Sequence[SourceLine], required: Sequence[str]) -> tuple[SourceLine, list[str]] | None:
    """The ``#`` comment before the first data row that names the ``required`` columns, with its cells.

    abuse.ch writes its column names as a comment (``# id,dateadded,url,...``, ``# "first_seen_utc",...``).
    The cells are lower-cased; None when no such comment precedes the data.
    """
    for line in lines:
        text = line.text.strip()
        if not text:
            continue
        if not text.startswith("#"):
            return None
        try:
            cells = [cell.lower() for cell in split_line(SourceLine(line.number, text.lstrip("#")), True)]
        except csv.Error:
            continue
        if all(name in cells for name in required):
            return line, cells
    return None


def footer_errors(lines: Sequence[SourceLine], rows: int, noun: str = "rows") -> list[LineError]:
    """A footer that disagrees with the ``rows`` read: Feodo's ``# END N entries``, ThreatFox's full-dump
    ``# Number of entries: N`` (a truncated download)."""
    for line in lines:
        match = _FOOTER.match(line.text.strip())
        if match:
            count = int(match.group(1) or match.group(2))
            if count != rows:
                message = f"footer says {count} entries but the file has {rows} {noun} (truncated download?)"
                return [LineError(line.number, message)]
    return []


def column_header(lines: Sequence[SourceLine], required: Sequence[str]) -> tuple[SourceLine, list[str]] | None:
    """abuse.ch's column comment (:func:`comment_header`), or the first line of a copy whose header lost its
    ``# `` (and banner) when it names the ``required`` columns."""
    found = comment_header(lines, required)
    if found is not None:
        return found
    first = next((line for line in lines if line.text.strip() and not line.text.lstrip().startswith("#")), None)
    if first is None:
        return None
    try:
        cells = [cell.lower() for cell in split_line(first, True)]
    except csv.Error:
        return None
    return (first, cells) if all(name in cells for name in required) else None


# JSON documents -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Loaded:
    lines: Sequence[SourceLine]
    document: Any
    problem: LineError | None


_cache: list[_Loaded] = []


def looks_like_json(lines: Sequence[SourceLine]) -> bool:
    """True when the first non-blank character of the text opens a JSON object or array."""
    for line in lines:
        text = line.text.strip()
        if text:
            return text[0] in "{["
    return False


def _text(lines: Sequence[SourceLine]) -> str:
    """The lines joined again, blank lines standing in for any line left out (so JSON line numbers match)."""
    if not lines:
        return ""
    texts = [""] * lines[-1].number
    for line in lines:
        texts[line.number - 1] = line.text
    return "\n".join(texts)


def decode_json(lines: Sequence[SourceLine]) -> tuple[Any, LineError | None]:
    """The JSON document of ``lines`` and None, or None and why they are not JSON (with the line).

    Newline-delimited JSON (one object per line, as the ThreatFox API records are logged) is read as the list of
    its objects.
    """
    try:
        return json.loads(_text(lines)), None
    except json.JSONDecodeError as exc:
        records = _json_lines(lines) if exc.msg == "Extra data" else None
        if records is not None:
            return records, None
        return None, LineError(exc.lineno, f"not valid JSON: {exc.msg} (column {exc.colno})")
    except RecursionError:
        return None, LineError(0, "not usable JSON: nested too deeply")
    except ValueError as exc:  # e.g. an integer longer than Python's digit limit
        return None, LineError(0, f"not usable JSON: {exc}")


def _json_lines(lines: Sequence[SourceLine]) -> list[Any] | None:
    """The objects of newline-delimited JSON (every non-blank line one JSON object), or None."""
    records: list[Any] = []
    for line in lines:
        text = line.text.strip()
        if not text:
            continue
        try:
            record = json.loads(text)
        except ValueError:
            return None
        if not isinstance(record, dict):
            return None
        records.append(record)
    return records if len(records) > 1 else None


def _load(lines: Sequence[SourceLine]) -> _Loaded:
    """Parse ``lines`` as JSON once (the sniffers and the parser of one file share the result)."""
    if _cache and _cache[0].lines is lines:
        return _cache[0]
    loaded = _Loaded(lines, *decode_json(lines))
    _cache[:] = [loaded]
    return loaded


def forget_json() -> None:
    """Drop the parsed document kept for the last file."""
    _cache.clear()


def sniff_json(lines: Sequence[SourceLine]) -> Any | None:
    """The parsed document when ``lines`` are valid JSON, else None (for sniffers)."""
    if not looks_like_json(lines):
        return None
    loaded = _load(lines)
    return None if loaded.problem else loaded.document


def json_problem(lines: Sequence[SourceLine]) -> LineError | None:
    """Why ``lines`` are not a JSON document, or None when they are."""
    if not looks_like_json(lines):
        return LineError(0, "not a JSON document (it must start with '{' or '[')")
    return _load(lines).problem


def load_json(lines: Sequence[SourceLine], path: Path | str) -> Any:
    """The parsed JSON document; :class:`WatchlistError` with the line of the syntax error otherwise."""
    problem = json_problem(lines)
    if problem is not None:
        raise WatchlistError(path, [problem])
    return _load(lines).document
