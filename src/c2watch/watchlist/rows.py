"""Validate the raw cells of one watchlist row and build a :class:`WatchlistEntry`.

Formats map their columns onto the canonical field names below and call :func:`build_entry`;
every bad field of the row becomes one :class:`LineError` naming the column as the file spells it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import TypeVar

from c2watch.errors import LineError
from c2watch.models import WatchlistEntry
from c2watch.store.fit import column_length
from c2watch.store.tables import targets, threats
from c2watch.text import is_clean
from c2watch.watchlist.refang import (
    HASH_LENGTHS,
    normalize_date,
    normalize_domain,
    normalize_hash,
    normalize_ip,
    normalize_port,
    normalize_url,
    url_explicit_port,
)

__all__ = ["DEFAULT_PORT", "RowSchema", "build_entry"]

DEFAULT_PORT = 80
_TARGETS = ("ip", "domain", "url")
_T = TypeVar("_T")


@dataclass(frozen=True)
class RowSchema:
    """How a format names the canonical fields in its file, and which hash algorithms it accepts."""

    labels: Mapping[str, str] = field(default_factory=dict)
    hash_algorithms: tuple[str, ...] = tuple(HASH_LENGTHS)

    def label(self, name: str) -> str:
        return self.labels.get(name, name)


class _Row:
    """The raw values of one row plus the errors found so far."""

    def __init__(self, values: Mapping[str, str], line: int, schema: RowSchema) -> None:
        self.values = values
        self.line = line
        self.schema = schema
        self.errors: list[LineError] = []

    def raw(self, name: str) -> str:
        return self.values.get(name, "").strip()

    def fail(self, name: str | None, message: str) -> None:
        self.errors.append(LineError(self.line, message, self.schema.label(name) if name else None))

    def check(self, name: str, normalize: Callable[[str], _T]) -> _T | None:
        """The normalised value of field ``name``; None when empty or bad (then an error is recorded)."""
        raw = self.raw(name)
        if not raw:
            return None
        try:
            return normalize(raw)
        except ValueError as exc:
            self.fail(name, str(exc))
            return None


def build_entry(
    values: Mapping[str, str], line: int, schema: RowSchema, source_ref: str | None = None
) -> tuple[WatchlistEntry | None, list[LineError]]:
    """Validate one row given as ``{canonical field: raw text}``; return the entry or its errors."""
    row = _Row(values, line, schema)
    threat_id = row.raw("threat_id")
    if not threat_id:
        row.fail("threat_id", "threat id is empty")
    _check_sizes(row, source_ref)
    ip, domain, url, port = _targets(row)
    reported_on = _reported_on(row)
    malware_hash = row.check("malware_hash", partial(normalize_hash, algorithms=schema.hash_algorithms))
    if row.errors:
        return None, row.errors
    entry = WatchlistEntry(
        threat_id=threat_id,
        ip=ip,
        domain=domain,
        url=url,
        port=port,
        reported_on=reported_on,
        malware_hash=malware_hash,
        file_type=row.raw("file_type") or None,
        summary=row.raw("summary") or None,
        source_ref=source_ref,
        line=line,
    )
    return entry, []


MAX_THREAT_ID = column_length(threats.c.threat_id)
MAX_SOURCE_REF = column_length(targets.c.source_ref)
MAX_URL = column_length(targets.c.url)
MAX_FILE_TYPE = column_length(targets.c.file_type)
"""Sizes of the store's columns (read off its tables): a longer value is a line error, never a database error."""


def _check_sizes(row: _Row, source_ref: str | None) -> None:
    for name, limit, what in (
        ("threat_id", MAX_THREAT_ID, "threat id"),
        ("url", MAX_URL, "URL"),
        ("file_type", MAX_FILE_TYPE, "file type"),
    ):
        if len(row.raw(name)) > limit:
            row.fail(name, f"{what} is {len(row.raw(name))} characters long (limit {limit})")
    if not is_clean(row.raw("threat_id")):
        row.fail("threat_id", "threat id holds control characters")
    if source_ref is not None and len(source_ref) > MAX_SOURCE_REF:
        row.fail(None, f"record id is {len(source_ref)} characters long (limit {MAX_SOURCE_REF})")


def _targets(row: _Row) -> tuple[str | None, str | None, str | None, int]:
    """The normalised ip, domain, url and the resolved port of the row."""
    if not any(row.raw(name) for name in _TARGETS):
        row.fail(None, "row has none of " + ", ".join(row.schema.label(name) for name in _TARGETS))
    ip = row.check("ip", normalize_ip)
    domain = row.check("domain", normalize_domain)
    url = row.check("url", normalize_url)
    explicit = row.check("port", normalize_port)
    if url is None:
        return ip, domain, None, explicit or DEFAULT_PORT
    in_url = url_explicit_port(url[0])
    if explicit and in_url and explicit != in_url:
        row.fail("port", f"port {explicit} contradicts port {in_url} in the URL")
    return ip, domain, url[0], explicit or url[1]


def _reported_on(row: _Row) -> dt.date | None:
    """The report date; when empty, the first-seen date (formats without one leave it empty)."""
    reported_on = row.check("reported_on", normalize_date)
    first_seen = row.check("first_seen", normalize_date)
    return reported_on if row.raw("reported_on") else first_seen
