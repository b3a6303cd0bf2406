"""Watchlist persistence: apply an import (add, update, reactivate, retire) and list threats and targets."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from c2watch.models import Target, WatchlistEntry
from c2watch.store.fit import fit_row
from c2watch.store.isolate import REFUSED, attempt, refused_error
from c2watch.store.tables import primary_key as _primary_key
from c2watch.store.tables import targets, threats

__all__ = ["ImportReport", "ThreatRow", "apply_entries", "list_targets", "list_threats"]

_FIELDS = ("ip", "domain", "url", "port", "reported_on", "malware_hash", "file_type", "summary", "source_ref")


@dataclass
class ImportReport:
    """What an import changed (or, with ``dry_run``, would change)."""

    source: str
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    reactivated: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    unchanged: int = 0
    threats_added: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    dry_run: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.reactivated or self.retired or self.threats_added)

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "dry_run": self.dry_run,
            "threats_added": self.threats_added,
            "added": len(self.added),
            "updated": len(self.updated),
            "reactivated": len(self.reactivated),
            "retired": len(self.retired),
            "unchanged": self.unchanged,
            "refused": self.refused,
        }


@dataclass(frozen=True)
class ThreatRow:
    threat_id: str
    reported_on: dt.date | None
    active_targets: int
    retired_targets: int


def _ensure_threats(conn: sa.Connection, entries: Sequence[WatchlistEntry], now: dt.datetime) -> dict[str, int]:
    wanted: dict[str, dt.date | None] = {}
    for entry in entries:
        known = wanted.get(entry.threat_id)
        if entry.threat_id not in wanted or (entry.reported_on and (known is None or entry.reported_on < known)):
            wanted[entry.threat_id] = entry.reported_on
    rows = conn.execute(sa.select(threats.c.threat_id, threats.c.id)).all()
    ids = {row.threat_id: row.id for row in rows}
    for threat_id, reported_on in wanted.items():
        if threat_id not in ids:
            result = conn.execute(threats.insert().values(threat_id=threat_id, reported_on=reported_on, created_at=now))
            ids[threat_id] = _primary_key(result)
    return ids


def _values(entry: WatchlistEntry) -> dict[str, Any]:
    """The entry's columns, fitted (lengths are checked by the parsers; control characters are escaped here)."""
    return fit_row(targets, {name: getattr(entry, name) for name in _FIELDS})[0]


def _label(threat_id: str, key: str) -> str:
    return f"{threat_id} {key}"


def apply_entries(
    conn: sa.Connection, entries: Sequence[WatchlistEntry], source: str, now: dt.datetime
) -> ImportReport:
    """Bring the store in line with ``entries`` from ``source`` inside the caller's transaction.

    A destination that ``source`` delivered before and no longer lists is retired (kept, no longer probed). When
    the database refuses the import, it is applied again entry by entry: a refused entry is reported in
    ``refused`` (with its line and the database's words), the others are stored; when none can be, the
    database's error is raised.
    """
    try:
        with attempt(conn):
            return _apply_entries(conn, entries, source, now, careful=False)
    except REFUSED:
        report = _apply_entries(conn, entries, source, now, careful=True)
        if not (report.added or report.updated or report.reactivated):
            raise  # every write refused: the import is wrong, not a value (the caller's transaction rolls back)
        return report


def _apply_entries(
    conn: sa.Connection, entries: Sequence[WatchlistEntry], source: str, now: dt.datetime, careful: bool
) -> ImportReport:
    report = ImportReport(source=source)
    known_threats = {row.threat_id for row in conn.execute(sa.select(threats.c.threat_id))}
    report.threats_added = sorted({e.threat_id for e in entries} - known_threats)
    threat_ids = _ensure_threats(conn, entries, now)
    existing = {(row.threat_pk, row.key): row for row in conn.execute(sa.select(targets))}
    seen: set[tuple[int, str]] = set()
    for entry in entries:
        ident = (threat_ids[entry.threat_id], entry.key)
        if ident in seen:
            continue
        seen.add(ident)
        with _alone(conn, entry, report) if careful else nullcontext():
            _apply_one(conn, entry, ident, existing.get(ident), source, now, report)
    _retire_missing(conn, existing.values(), seen, source, now, report, threat_ids)
    return report


def _apply_one(
    conn: sa.Connection,
    entry: WatchlistEntry,
    ident: tuple[int, str],
    row: Any,
    source: str,
    now: dt.datetime,
    report: ImportReport,
) -> None:
    label = _label(entry.threat_id, entry.key)
    values = _values(entry)
    if row is None:
        conn.execute(
            targets.insert().values(
                threat_pk=ident[0], key=entry.key, source=source, active=True, first_imported_at=now, **values
            )
        )
        report.added.append(label)
        return
    changes = {name: value for name, value in values.items() if value is not None and getattr(row, name) != value}
    if not row.active:
        conn.execute(
            targets.update()
            .where(targets.c.id == row.id)
            .values(active=True, retired_at=None, source=source, **changes)
        )
        report.reactivated.append(label)
    elif changes:
        conn.execute(targets.update().where(targets.c.id == row.id).values(**changes))
        report.updated.append(label)
    else:
        report.unchanged += 1


@contextmanager
def _alone(conn: sa.Connection, entry: WatchlistEntry, report: ImportReport) -> Iterator[None]:
    """One entry's writes in a savepoint: a refusal costs this entry only, and is noted in ``report``."""
    try:
        with attempt(conn):
            yield
    except REFUSED as exc:
        where = f" (line {entry.line})" if entry.line else ""
        report.refused.append(f"{_label(entry.threat_id, entry.key)}{where}: {refused_error(exc)}")


def _retire_missing(
    conn: sa.Connection,
    rows: Iterable[Any],
    seen: set[tuple[int, str]],
    source: str,
    now: dt.datetime,
    report: ImportReport,
    threat_ids: dict[str, int],
) -> None:
    names = {pk: name for name, pk in threat_ids.items()}
    names.update({row.id: row.threat_id for row in conn.execute(sa.select(threats.c.id, threats.c.threat_id))})
    for row in rows:
        if row.source == source and row.active and (row.threat_pk, row.key) not in seen:
            conn.execute(targets.update().where(targets.c.id == row.id).values(active=False, retired_at=now))
            report.retired.append(_label(names[row.threat_pk], row.key))


def list_targets(conn: sa.Connection, threat: str | None = None, active_only: bool = False) -> list[Target]:
    query = sa.select(targets, threats.c.threat_id).join(threats, targets.c.threat_pk == threats.c.id)
    if threat is not None:
        query = query.where(threats.c.threat_id == threat)
    if active_only:
        query = query.where(targets.c.active.is_(True))
    query = query.order_by(threats.c.threat_id, targets.c.id)
    return [_target(row) for row in conn.execute(query)]


def _target(row: Any) -> Target:
    extra = {
        name: str(value)
        for name in ("malware_hash", "file_type", "summary", "source", "source_ref")
        if (value := getattr(row, name)) is not None
    }
    return Target(
        id=row.id,
        threat_id=row.threat_id,
        key=row.key,
        ip=row.ip,
        domain=row.domain,
        url=row.url,
        port=row.port,
        active=row.active,
        reported_on=row.reported_on,
        extra=extra,
    )


def list_threats(conn: sa.Connection) -> list[ThreatRow]:
    active = sa.func.sum(sa.case((targets.c.active.is_(True), 1), else_=0))
    retired = sa.func.sum(sa.case((targets.c.active.is_(False), 1), else_=0))
    query = (
        sa.select(threats.c.threat_id, threats.c.reported_on, active.label("active"), retired.label("retired"))
        .select_from(threats.outerjoin(targets, targets.c.threat_pk == threats.c.id))
        .group_by(threats.c.id, threats.c.threat_id, threats.c.reported_on)
        .order_by(threats.c.threat_id)
    )
    return [
        ThreatRow(row.threat_id, row.reported_on, int(row.active or 0), int(row.retired or 0))
        for row in conn.execute(query)
    ]
