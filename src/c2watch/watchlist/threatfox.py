"""ThreatFox (abuse.ch) IOC exports, CSV and JSON.

CSV: a ``#`` banner, the quoted column names as a comment, rows separated by ``", "``::

    # "first_seen_utc","ioc_id","ioc_value","ioc_type","threat_type","fk_malware","malware_alias",...
    "2024-07-16 06:45:19", "1301611", "198.51.100.7:443", "ip:port", "botnet_cc", "win.cobalt_strike", ...

JSON export (``/export/json/...``): an object keyed by IOC id, each value a list of one record with the
CSV's fields (``malware`` for ``fk_malware``)::

    {"1301611": [{"ioc_value": "198.51.100.7:443", "ioc_type": "ip:port", "malware": "win.cobalt_strike", ...}]}

The API's answer (``{"query_status": "ok", "data": [{"id": ..., "ioc": ..., ...}]}``) is read too.

``ip:port``, ``domain`` and ``url`` IOCs are kept; hash IOCs (``md5_hash``, ``sha256_hash`` ...) and other
types are skipped by design and reported. Threat ID: ``threatfox:<fk_malware>`` (the Malpedia name, e.g.
``threatfox:win.cobalt_strike``), else ``threatfox:<malware_printable>``. ``ioc_id`` is the record id,
``first_seen_utc`` the report date.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from c2watch.errors import LineError, WatchlistError
from c2watch.models import WatchlistEntry
from c2watch.models.net import is_ip_literal
from c2watch.watchlist.decode import SourceLine
from c2watch.watchlist.feed import (
    FeedError,
    Ignored,
    column_header,
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
from c2watch.watchlist.rows import RowSchema
from c2watch.watchlist.table import parse_body, significant

__all__ = ["HINT", "JSON_HINT", "NAME", "REQUIRED", "THREAT_RULE", "parse", "sniff"]

NAME = "threatfox"
REQUIRED = ("first_seen_utc", "ioc_id", "ioc_value", "ioc_type")
HINT = 'be a ThreatFox CSV export, whose column names are a comment (\'# "first_seen_utc","ioc_id","ioc_value",...\')'
JSON_HINT = (
    'be a ThreatFox JSON export ({"<ioc id>": [{"ioc_value": ..., "ioc_type": ...}]}), API answer or API records'
    " (one JSON object a line)"
)
THREAT_RULE = "threatfox:<fk_malware>, else threatfox:<malware_printable>"
KEPT_TYPES = ("ip:port", "domain", "url")

_SCHEMA = RowSchema(
    labels={"threat_id": "fk_malware", "reported_on": "first_seen_utc", "ip": "ioc_value", "port": "ioc_value"}
    | {"domain": "ioc_value", "url": "ioc_value"}
)
_API_FIELDS = {"id": "ioc_id", "ioc": "ioc_value", "malware": "fk_malware", "first_seen": "first_seen_utc"}
_EXPORT_FIELDS = {"malware": "fk_malware"}


def sniff(lines: Sequence[SourceLine]) -> bool:
    """True for a CSV export (its column comment) or a JSON export or API answer."""
    if looks_like_json(lines):
        return _json_shape(sniff_json(lines)) is not None
    return column_header(lines, REQUIRED) is not None


def parse(lines: Sequence[SourceLine], path: Path | str) -> tuple[list[WatchlistEntry], list[LineError]]:
    """Parse a ThreatFox CSV or JSON export."""
    if looks_like_json(lines):
        return _parse_json(load_json(lines, path), path)
    return _parse_csv(lines, path)


# CSV -----------------------------------------------------------------------------------------------------------


def _parse_csv(lines: Sequence[SourceLine], path: Path | str) -> tuple[list[WatchlistEntry], list[LineError]]:
    found = column_header(lines, REQUIRED)
    if found is None:
        message = 'missing ThreatFox column comment: expected \'# "first_seen_utc","ioc_id","ioc_value",...\''
        rows = significant(lines)
        raise WatchlistError(path, [LineError(rows[0].number if rows else 0, message)])
    header, names = found
    body = [line for line in significant(lines) if line.number > header.number]

    def parse_row(number: int, cells: list[str]) -> tuple[WatchlistEntry | None, list[LineError]]:
        return _record(dict(zip(names, cells, strict=True)), line=number)

    entries, errors = parse_body(body, len(names), parse_row, skipinitialspace=True)
    return entries, errors + footer_errors(lines, len(body))


# JSON ----------------------------------------------------------------------------------------------------------


def _json_shape(document: Any) -> str | None:
    """``export`` (id -> [record]), ``api`` (query_status + data), ``records`` (a list of API records, as
    newline-delimited JSON gives them) or None."""
    if isinstance(document, list):
        first = document[0] if document else None
        return "records" if isinstance(first, dict) and {"ioc", "ioc_type"} <= set(first) else None
    if not isinstance(document, dict) or not document:
        return None
    if "query_status" in document and isinstance(document.get("data"), list):
        return "api"
    first = next(iter(document.values()))
    if isinstance(first, list) and first and isinstance(first[0], dict) and {"ioc_value", "ioc_type"} <= set(first[0]):
        return "export"
    return None


def _parse_json(document: Any, path: Path | str) -> tuple[list[WatchlistEntry], list[LineError]]:
    shape = _json_shape(document)
    if shape is None:
        message = 'not a ThreatFox JSON export: expected {"<ioc id>": [{"ioc_value": ..., "ioc_type": ...}]}'
        raise WatchlistError(path, [FeedError(0, message, at="$")])
    entries: list[WatchlistEntry] = []
    errors: list[LineError] = []
    records = _export_records(document) if shape == "export" else _api_records(document)
    for at, record in records:
        if isinstance(record, LineError):
            errors.append(record)
            continue
        entry, row_errors = _record(record, at=at)
        errors += row_errors
        if entry is not None:
            entries.append(entry)
    return entries, errors


def _export_records(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, str] | LineError]]:
    for ioc_id, value in document.items():
        at = member("$", ioc_id)
        if not isinstance(value, list):
            yield at, FeedError(0, "expected a list of IOC records", at=at)
            continue
        for index, record in enumerate(value):
            yield _cells(member(at, index), record, _EXPORT_FIELDS, {"ioc_id": ioc_id})


def _api_records(document: dict[str, Any] | list[Any]) -> Iterator[tuple[str, dict[str, str] | LineError]]:
    """The records of an API answer (``$.data[i]``) or of newline-delimited JSON (``$[i]``, line i + 1)."""
    base, items = ("$", document) if isinstance(document, list) else ("$.data", document["data"])
    for index, record in enumerate(items):
        yield _cells(member(base, index), record, _API_FIELDS, {})


def _cells(
    at: str, record: object, renames: Mapping[str, str], extra: Mapping[str, str]
) -> tuple[str, dict[str, str] | LineError]:
    """A JSON record as the CSV's cells (field names of the CSV, values as text, tag lists joined)."""
    if not isinstance(record, dict):
        return at, FeedError(0, "expected an IOC record (a JSON object)", at=at)
    cells = dict(extra)
    for key, value in record.items():
        name = renames.get(str(key), str(key))
        if isinstance(value, list):
            cells[name] = ",".join(text_of(item) for item in value)
        else:
            cells[name] = text_of(value)
    return at, cells


# One record ----------------------------------------------------------------------------------------------------


def _record(row: Mapping[str, str], *, line: int = 0, at: str = "") -> tuple[WatchlistEntry | None, list[LineError]]:
    """One IOC as an entry, or why it is skipped (hash and other IOC types) or bad."""
    ioc_type = row.get("ioc_type", "").strip().lower()
    if ioc_type not in KEPT_TYPES:
        return None, [_skipped(ioc_type, line, at)]
    target = _target(ioc_type, row.get("ioc_value", ""))
    if ioc_type == "ip:port" and target["ip"] and not target["port"]:
        return None, [FeedError(line, "an ip:port IOC needs a port", "ioc_value", at=at)]
    values = {"threat_id": threat_id(row), "summary": _summary(row), **target}
    times = {"reported_on": row.get("first_seen_utc", "")}
    source_ref = row.get("ioc_id", "").strip() or None
    return feed_entry(values, _SCHEMA, line=line, at=at, source_ref=source_ref, times=times)


def _skipped(ioc_type: str, line: int, at: str) -> LineError:
    if ioc_type.endswith("_hash") or ioc_type in ("imphash", "tlsh", "ssdeep"):
        return Ignored(line, f"{ioc_type} IOC skipped: a file hash, not a network destination", at=at)
    if not ioc_type:
        return FeedError(line, "ioc_type is empty", "ioc_type", at=at)
    return Ignored(line, f"{ioc_type} IOC skipped: c2watch watches ip:port, domain and url IOCs", at=at)


def _target(ioc_type: str, value: str) -> dict[str, str]:
    if ioc_type == "domain":
        return {"domain": value}
    if ioc_type == "url":
        return {"url": value}
    host, port = split_host_port(value)
    return {"ip": host, "port": port}


def split_host_port(value: str) -> tuple[str, str]:
    """``198.51.100.7:443``, ``[2001:db8::7]:443`` or ``2001:db8::7:443`` as (address, port).

    An ``ip:port`` IOC always has a port, so an unbracketed IPv6 value loses its last group to the port
    when the rest is still an address. A value without a port comes back whole with an empty port.
    """
    text = value.strip()
    if text.startswith("[") and "]" in text:
        host, _, rest = text[1:].partition("]")
        return host, rest.removeprefix(":")
    if text.count(":") == 1:
        host, _, port = text.partition(":")
        return host, port
    host, _, port = text.rpartition(":")
    return (host, port) if is_ip_literal(host) else (text, "")


def threat_id(row: Mapping[str, str]) -> str:
    """``threatfox:<fk_malware>``, else ``threatfox:<malware_printable>``; ``threatfox:unattributed`` for
    ThreatFox's own "unknown" malware; empty when the row names none."""
    name = null_text(row.get("fk_malware", "")) or null_text(row.get("malware_printable", ""))
    if name.lower() in _UNKNOWN:
        return "threatfox:unattributed"
    return family_threat("threatfox", name) if name else ""


_UNKNOWN = frozenset({"unknown", "unknown malware"})


def _summary(row: Mapping[str, str]) -> str:
    parts = [null_text(row.get("malware_printable", "")) or "ThreatFox IOC"]
    threat_type = null_text(row.get("threat_type", ""))
    if threat_type:
        parts.append(threat_type)
    confidence = null_text(row.get("confidence_level", ""))
    if confidence:
        parts.append(f"confidence {confidence}%")
    tags = null_text(row.get("tags", ""))
    if tags:
        parts.append(f"tags: {tags}")
    return "; ".join(parts)
