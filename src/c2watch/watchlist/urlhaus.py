"""URLhaus (abuse.ch) dumps: CSV (``csv.txt``, ``csv_recent``, ``csv_online``) and JSON (``json_recent``,
``json_online``).

CSV: a banner of ``#`` comments, then the column names as a comment, then quoted rows::

    # id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter
    "2766173","2024-01-01 11:58:06","http://198.51.100.7:42715/i","online","2024-01-01 11:58:06",...

Older dumps lack ``last_online``; columns are found by name; a copy whose header lost its ``# `` (and banner) is
read too. JSON: ``{"<id>": [{"dateadded", "url", "url_status", "threat", "tags": [...], ...}]}``. Every row is
one URL.

Threat ID: ``urlhaus:<family>`` of the first tag that names a malware family (:mod:`.families`:
``32-bit,elf,mips,Mozi`` gives ``urlhaus:mozi``, ``censys,github`` names none); a row whose tags name no family
is under ``urlhaus:unattributed``. ``id`` is kept as the record id, ``dateadded`` as the report date;
offline URLs are kept (whether they come back is what c2watch watches).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from c2watch.errors import LineError, WatchlistError
from c2watch.models import WatchlistEntry
from c2watch.watchlist.decode import SourceLine
from c2watch.watchlist.families import family_of
from c2watch.watchlist.feed import (
    FeedError,
    column_header,
    family_threat,
    feed_entry,
    load_json,
    looks_like_json,
    member,
    null_text,
    sniff_json,
    text_of,
)
from c2watch.watchlist.rows import RowSchema
from c2watch.watchlist.table import parse_body, significant

__all__ = ["COLUMNS", "HINT", "JSON_HINT", "NAME", "THREAT_RULE", "UNATTRIBUTED", "parse", "sniff", "threat_id"]

NAME = "urlhaus"
COLUMNS = ("id", "dateadded", "url", "url_status", "last_online", "threat", "tags", "urlhaus_link", "reporter")
REQUIRED = ("id", "dateadded", "url")
HINT = "be a URLhaus dump, whose column names are a comment ('# " + ",".join(COLUMNS) + "')"
THREAT_RULE = "urlhaus:<first tag that names a malware family>, else urlhaus:unattributed"
UNATTRIBUTED = "urlhaus:unattributed"
JSON_HINT = 'be a URLhaus JSON dump ({"<id>": [{"dateadded": ..., "url": ...}]})'
_JSON_KEYS = frozenset({"dateadded", "url"})

_SCHEMA = RowSchema(labels={"threat_id": "tags", "reported_on": "dateadded"})


def sniff(lines: Sequence[SourceLine]) -> bool:
    """True for a CSV dump whose column names (``id``, ``dateadded``, ``url``; a comment or, when a copy lost its
    ``# ``, the first line) precede the data, or a JSON dump."""
    if looks_like_json(lines):
        return _is_json_dump(sniff_json(lines))
    return column_header(lines, REQUIRED) is not None


def parse(lines: Sequence[SourceLine], path: Path | str) -> tuple[list[WatchlistEntry], list[LineError]]:
    """Parse a URLhaus dump; raise :class:`WatchlistError` when its column names are missing."""
    if looks_like_json(lines):
        return _parse_json(load_json(lines, path), path)
    found = column_header(lines, REQUIRED)
    if found is None:
        message = "missing URLhaus column comment: expected '# " + ",".join(COLUMNS) + "' before the data"
        raise WatchlistError(path, [LineError(_first_number(lines), message)])
    header, names = found
    body = [line for line in significant(lines) if line.number > header.number]

    def parse_row(number: int, cells: list[str]) -> tuple[WatchlistEntry | None, list[LineError]]:
        return _entry(number, dict(zip(names, cells, strict=True)))

    return parse_body(body, len(names), parse_row)


def _is_json_dump(document: Any) -> bool:
    """``{"<id>": [{"dateadded": ..., "url": ...}]}`` (``json_recent``, ``json_online``)."""
    if not isinstance(document, dict) or not document:
        return False
    first = next(iter(document.values()))
    return isinstance(first, list) and bool(first) and isinstance(first[0], dict) and set(first[0]) >= _JSON_KEYS


def _parse_json(document: Any, path: Path | str) -> tuple[list[WatchlistEntry], list[LineError]]:
    if not _is_json_dump(document):
        message = 'not a URLhaus JSON dump: expected {"<id>": [{"dateadded": ..., "url": ...}]}'
        raise WatchlistError(path, [FeedError(0, message, at="$")])
    entries: list[WatchlistEntry] = []
    errors: list[LineError] = []
    for url_id, records in document.items():
        at = member("$", url_id)
        if not isinstance(records, list):
            errors.append(FeedError(0, "expected a list of URL records", at=at))
            continue
        for index, record in enumerate(records):
            entry, problems = _json_entry(member(at, index), str(url_id), record)
            errors += problems
            entries += [] if entry is None else [entry]
    return entries, errors


def _json_entry(at: str, url_id: str, record: Any) -> tuple[WatchlistEntry | None, list[LineError]]:
    if not isinstance(record, dict):
        return None, [FeedError(0, "expected a URL record (a JSON object)", at=at)]
    row = {str(key): _cell(value) for key, value in record.items()}
    return _entry(0, {**row, "id": url_id}, at)


def _cell(value: object) -> str:
    """A JSON value as CSV cell text: tag lists joined with commas."""
    if isinstance(value, list):
        return ",".join(text_of(item) for item in value)
    return text_of(value)


def _first_number(lines: Sequence[SourceLine]) -> int:
    rows = significant(lines)
    return rows[0].number if rows else 0


def _entry(number: int, row: dict[str, str], at: str = "") -> tuple[WatchlistEntry | None, list[LineError]]:
    values = {"threat_id": threat_id(row), "url": row.get("url", ""), "summary": _summary(row)}
    times = {"reported_on": row.get("dateadded", "")}
    return feed_entry(values, _SCHEMA, line=number, at=at, source_ref=row.get("id") or None, times=times)


def threat_id(row: dict[str, str]) -> str:
    """``urlhaus:<family>`` of the first tag that names a malware family, else ``urlhaus:unattributed``."""
    for tag in null_text(row.get("tags", "")).split(","):
        family = family_of(tag)
        if family:
            return family_threat("urlhaus", family)
    return UNATTRIBUTED


def _summary(row: dict[str, str]) -> str:
    """What the row says about the URL, without what changes from dump to dump (status, last online)."""
    parts = [f"URLhaus {null_text(row.get('threat', '')) or 'entry'}"]
    tags = null_text(row.get("tags", ""))
    if tags:
        parts.append(f"tags: {tags}")
    return "; ".join(parts)
