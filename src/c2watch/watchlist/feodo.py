"""Feodo Tracker (abuse.ch) botnet C2 IP blocklists, CSV and JSON.

CSV (``ipblocklist.csv``): a ``#`` banner, an uncommented (usually quoted) header, rows, a footer::

    "first_seen_utc","dst_ip","dst_port","c2_status","last_online","malware"
    "2021-01-17 07:44:46","198.51.100.7","443","online","2024-01-01","QakBot"
    # END 1 entries

JSON (``ipblocklist.json``): a list of ``{"ip_address", "port", "status", "hostname", "as_number",
"as_name", "country", "first_seen", "last_online", "malware"}``.

Threat ID: ``feodo:<malware>`` (``feodo:qakbot``). Feodo Tracker has no record id: ``<ip>:<port>`` is
kept as one. ``first_seen`` is the report date; ``hostname`` (a reverse DNS name) is not a destination;
offline entries are kept. A footer whose count differs from the rows read means a truncated download.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from c2watch.errors import LineError, WatchlistError
from c2watch.models import WatchlistEntry
from c2watch.watchlist.decode import SourceLine
from c2watch.watchlist.feed import (
    FeedError,
    family_threat,
    feed_entry,
    footer_errors,
    load_json,
    looks_like_json,
    member,
    null_text,
    sniff_json,
    text_of,
)
from c2watch.watchlist.refang import normalize_ip
from c2watch.watchlist.rows import RowSchema
from c2watch.watchlist.table import first_significant, parse_body, split_header, split_line

__all__ = ["COLUMNS", "HINT", "JSON_HINT", "NAME", "THREAT_RULE", "parse", "sniff"]

NAME = "feodo"
COLUMNS = ("first_seen_utc", "dst_ip", "dst_port", "c2_status", "last_online", "malware")
REQUIRED = ("dst_ip", "dst_port", "malware")
HINT = "be a Feodo Tracker blocklist (header '" + ",".join(COLUMNS) + "')"
JSON_HINT = 'be a Feodo Tracker JSON blocklist ([{"ip_address": ..., "port": ..., "malware": ...}])'
THREAT_RULE = "feodo:<malware>"
_JSON_FIELDS = {"ip_address": "dst_ip", "port": "dst_port", "first_seen": "first_seen_utc", "status": "c2_status"}
_SCHEMA = RowSchema(
    labels={"threat_id": "malware", "ip": "dst_ip", "port": "dst_port", "reported_on": "first_seen_utc"}
)


def sniff(lines: Sequence[SourceLine]) -> bool:
    """True for the CSV header (``dst_ip``, ``dst_port``, ``malware``) or the JSON list of ``ip_address`` records."""
    if looks_like_json(lines):
        document = sniff_json(lines)
        return isinstance(document, list) and bool(document) and _is_json_record(document[0])
    header = first_significant(lines)
    if header is None:
        return False
    try:
        cells = {cell.lower() for cell in split_line(header)}
    except csv.Error:
        return False
    return set(REQUIRED) <= cells


def parse(lines: Sequence[SourceLine], path: Path | str) -> tuple[list[WatchlistEntry], list[LineError]]:
    """Parse a Feodo Tracker CSV or JSON blocklist."""
    if looks_like_json(lines):
        return _parse_json(load_json(lines, path), path)
    return _parse_csv(lines, path)


def _parse_csv(lines: Sequence[SourceLine], path: Path | str) -> tuple[list[WatchlistEntry], list[LineError]]:
    header, names, body = split_header(lines, path)
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        message = f"not a Feodo Tracker header: lacks {', '.join(missing)}; expected '{','.join(COLUMNS)}'"
        raise WatchlistError(path, [LineError(header.number, message)])

    def parse_row(number: int, cells: list[str]) -> tuple[WatchlistEntry | None, list[LineError]]:
        return _record(dict(zip(names, cells, strict=True)), line=number)

    entries, errors = parse_body(body, len(names), parse_row)
    return entries, errors + footer_errors(lines, len(body))


def _is_json_record(value: object) -> bool:
    return isinstance(value, dict) and "ip_address" in value and "port" in value


def _parse_json(document: Any, path: Path | str) -> tuple[list[WatchlistEntry], list[LineError]]:
    if not isinstance(document, list):
        message = 'not a Feodo Tracker JSON blocklist: expected a list of {"ip_address": ..., "port": ...}'
        raise WatchlistError(path, [FeedError(0, message, at="$")])
    entries: list[WatchlistEntry] = []
    errors: list[LineError] = []
    for index, record in enumerate(document):
        at = member("$", index)
        if not isinstance(record, dict):
            errors.append(FeedError(0, "expected a blocklist record (a JSON object)", at=at))
            continue
        row = {_JSON_FIELDS.get(str(key), str(key)): text_of(value) for key, value in record.items()}
        entry, row_errors = _record(row, at=at)
        errors += row_errors
        if entry is not None:
            entries.append(entry)
    return entries, errors


def _record(row: Mapping[str, str], *, line: int = 0, at: str = "") -> tuple[WatchlistEntry | None, list[LineError]]:
    ip, port = row.get("dst_ip", "").strip(), row.get("dst_port", "").strip()
    malware = null_text(row.get("malware", ""))
    values = {
        "threat_id": family_threat("feodo", malware) if malware else "",
        "ip": ip,
        "port": port,
        "summary": f"Feodo Tracker {malware or 'botnet'} C2",
    }
    times = {"reported_on": row.get("first_seen_utc", "")}
    return feed_entry(values, _SCHEMA, line=line, at=at, source_ref=_record_id(ip, port), times=times)


def _record_id(ip: str, port: str) -> str | None:
    """``<ip>:<port>`` (``[v6]:port``) of the normalised address: a defanged ``198.51.100[.]7`` is refanged."""
    if not ip:
        return None
    try:
        address = normalize_ip(ip)
    except ValueError:
        address = ip  # the row is reported as bad anyway
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
