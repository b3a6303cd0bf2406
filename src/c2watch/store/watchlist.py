"""Watchlist persistence: apply an import (add, update, reactivate, release, retire) and list threats and targets."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from c2watch.models import Target, WatchlistEntry
from c2watch.store.fit import fit_row
from c2watch.store.isolate import REFUSED, attempt, is_refusal, refused_error
from c2watch.store.tables import primary_key as _primary_key
from c2watch.store.tables import target_sources, targets, threats

__all__ = [
    "ImportReport",
    "ThreatRow",
    "apply_entries",
    "count_targets",
    "list_targets",
    "list_threats",
    "target_keys_page",
    "targets_page",
]

_CHUNK = 500
"""Targets per statement when releasing (keeps ``IN (...)`` lists within every backend's parameter limit)."""
_INSERT_CHUNK = 5_000
"""New targets per executemany (SQLAlchemy sends them as multi-row INSERT ... RETURNING batches)."""
_FIELDS = ("ip", "domain", "url", "port", "reported_on", "malware_hash", "file_type", "summary", "source_ref")


@dataclass
class ImportReport:
    """What an import changed (or, with ``dry_run``, would change)."""

    source: str
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    reactivated: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    released: list[str] = field(default_factory=list)
    """No longer listed by this source, but still by another: kept active."""
    unchanged: int = 0
    threats_added: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    dry_run: bool = False

    @property
    def changed(self) -> bool:
        return bool(
            self.added or self.updated or self.reactivated or self.retired or self.released or self.threats_added
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "dry_run": self.dry_run,
            "threats_added": self.threats_added,
            "added": len(self.added),
            "updated": len(self.updated),
            "reactivated": len(self.reactivated),
            "retired": len(self.retired),
            "released": len(self.released),
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

    Every source that lists a destination is kept (``target_sources``). A destination that ``source`` listed
    before and no longer lists is released by it, and retired (kept, no longer probed) only when no other source
    still lists it. When the database refuses the import, it is applied again entry by entry: a refused entry is
    reported in ``refused`` (with its line and the database's words), the others are stored.
    """
    try:
        with attempt(conn):
            return _apply_entries(conn, entries, source, now, careful=False)
    except REFUSED as exc:
        if not is_refusal(exc):
            raise
    return _apply_entries(conn, entries, source, now, careful=True)


def _apply_entries(
    conn: sa.Connection, entries: Sequence[WatchlistEntry], source: str, now: dt.datetime, careful: bool
) -> ImportReport:
    report = ImportReport(source=source)
    known_threats = {row.threat_id for row in conn.execute(sa.select(threats.c.threat_id))}
    report.threats_added = sorted({e.threat_id for e in entries} - known_threats)
    threat_ids = _ensure_threats(conn, entries, now)
    existing = {(row.threat_pk, row.key): row for row in conn.execute(sa.select(targets))}
    listed = _listed_by(conn, source)
    seen: dict[tuple[int, str], int] = {}
    fresh: dict[tuple[int, str], WatchlistEntry] = {}
    for entry in entries:
        ident = (threat_ids[entry.threat_id], entry.key)
        if ident in seen or ident in fresh:
            continue
        row = existing.get(ident)
        if row is None and not careful:  # added in bulk below
            fresh[ident] = entry
            continue
        if row is not None:  # still listed, even when its update is refused
            seen[ident] = int(row.id)
        with _alone(conn, entry, report) if careful else nullcontext():
            seen[ident] = _apply_one(conn, entry, ident, row, source, now, report)
    seen.update(_add_all(conn, fresh, source, now, report))
    new_listings = [{"target_pk": pk, "source": source, "listed_at": now} for pk in seen.values() if pk not in listed]
    if new_listings:
        conn.execute(target_sources.insert(), new_listings)
    _release_missing(conn, sorted(listed - set(seen.values())), source, now, report)
    return report


def _add_all(
    conn: sa.Connection,
    fresh: dict[tuple[int, str], WatchlistEntry],
    source: str,
    now: dt.datetime,
    report: ImportReport,
) -> dict[tuple[int, str], int]:
    """Insert the new targets in multi-row statements (a million in minutes, not one round trip each); their ids.

    A refusal rolls the whole import back to the entry-by-entry pass (``careful``), which inserts one at a time."""
    ids: dict[tuple[int, str], int] = {}
    items = list(fresh.items())
    statement = targets.insert().returning(targets.c.id, sort_by_parameter_order=True)
    for start in range(0, len(items), _INSERT_CHUNK):
        chunk = items[start : start + _INSERT_CHUNK]
        rows = [
            {"threat_pk": ident[0], "key": e.key, "source": source, "active": True, "first_imported_at": now}
            | _values(e)
            for ident, e in chunk
        ]
        new_ids = conn.execute(statement, rows).scalars().all()
        for (ident, entry), pk in zip(chunk, new_ids, strict=True):
            ids[ident] = int(pk)
            report.added.append(_label(entry.threat_id, entry.key))
    return ids


def _listed_by(conn: sa.Connection, source: str) -> set[int]:
    query = sa.select(target_sources.c.target_pk).where(target_sources.c.source == source)
    return set(conn.scalars(query))


def _apply_one(
    conn: sa.Connection,
    entry: WatchlistEntry,
    ident: tuple[int, str],
    row: Any,
    source: str,
    now: dt.datetime,
    report: ImportReport,
) -> int:
    """Add, reactivate or update the entry's target; its id."""
    label = _label(entry.threat_id, entry.key)
    values = _values(entry)
    if row is None:
        result = conn.execute(
            targets.insert().values(
                threat_pk=ident[0], key=entry.key, source=source, active=True, first_imported_at=now, **values
            )
        )
        report.added.append(label)
        return _primary_key(result)
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
    return int(row.id)


@contextmanager
def _alone(conn: sa.Connection, entry: WatchlistEntry, report: ImportReport) -> Iterator[None]:
    """One entry's writes in a savepoint: a refusal costs this entry only, and is noted in ``report``."""
    try:
        with attempt(conn):
            yield
    except REFUSED as exc:
        if not is_refusal(exc):
            raise
        where = f" (line {entry.line})" if entry.line else ""
        report.refused.append(f"{_label(entry.threat_id, entry.key)}{where}: {refused_error(exc)}")


def _release_missing(
    conn: sa.Connection, target_ids: list[int], source: str, now: dt.datetime, report: ImportReport
) -> None:
    """``source`` no longer lists ``target_ids``: drop its listings; retire the targets nobody lists any more."""
    for start in range(0, len(target_ids), _CHUNK):
        chunk = target_ids[start : start + _CHUNK]
        conn.execute(
            target_sources.delete().where(target_sources.c.source == source, target_sources.c.target_pk.in_(chunk))
        )
        still = set(conn.scalars(sa.select(target_sources.c.target_pk).where(target_sources.c.target_pk.in_(chunk))))
        query = (
            sa.select(targets.c.id, targets.c.key, targets.c.active, threats.c.threat_id)
            .join(threats, targets.c.threat_pk == threats.c.id)
            .where(targets.c.id.in_(chunk))
            .order_by(targets.c.id)
        )
        for row in conn.execute(query):
            if row.id in still:
                report.released.append(_label(row.threat_id, row.key))
            elif row.active:
                conn.execute(targets.update().where(targets.c.id == row.id).values(active=False, retired_at=now))
                report.retired.append(_label(row.threat_id, row.key))


def _targets_query(threat: str | None, active_only: bool) -> sa.Select[Any]:
    query = sa.select(targets, threats.c.threat_id).join(threats, targets.c.threat_pk == threats.c.id)
    if threat is not None:
        query = query.where(threats.c.threat_id == threat)
    if active_only:
        query = query.where(targets.c.active.is_(True))
    return query


def list_targets(conn: sa.Connection, threat: str | None = None, active_only: bool = False) -> list[Target]:
    query = _targets_query(threat, active_only).order_by(threats.c.threat_id, targets.c.id)
    sources = _sources(conn)
    return [_target(row, sources.get(row.id)) for row in conn.execute(query)]


def targets_page(
    conn: sa.Connection, after: int, limit: int, threat: str | None = None, active_only: bool = False
) -> list[Target]:
    """At most ``limit`` targets with ids above ``after``, by id (keyset paging: each page is one index range
    scan, however far into the watchlist; targets added meanwhile beyond the last id are still met)."""
    query = _targets_query(threat, active_only).where(targets.c.id > after).order_by(targets.c.id).limit(limit)
    rows = conn.execute(query).all()
    if not rows:
        return []
    sources = _sources(conn, rows[0].id, rows[-1].id)
    return [_target(row, sources.get(row.id)) for row in rows]


def target_keys_page(
    conn: sa.Connection, after: int, limit: int, threat: str | None = None, active_only: bool = False
) -> list[tuple[int, str, str]]:
    """(id, threat ID, key) of at most ``limit`` targets with ids above ``after``, by id: what a shard needs."""
    query = (
        sa.select(targets.c.id, threats.c.threat_id, targets.c.key)
        .join(threats, targets.c.threat_pk == threats.c.id)
        .where(targets.c.id > after)
        .order_by(targets.c.id)
        .limit(limit)
    )
    if threat is not None:
        query = query.where(threats.c.threat_id == threat)
    if active_only:
        query = query.where(targets.c.active.is_(True))
    return [(row.id, row.threat_id, row.key) for row in conn.execute(query)]


def count_targets(conn: sa.Connection, threat: str | None = None, active_only: bool = False) -> int:
    query = sa.select(sa.func.count()).select_from(targets.join(threats, targets.c.threat_pk == threats.c.id))
    if threat is not None:
        query = query.where(threats.c.threat_id == threat)
    if active_only:
        query = query.where(targets.c.active.is_(True))
    return int(conn.scalar(query) or 0)


def _sources(conn: sa.Connection, first: int | None = None, last: int | None = None) -> dict[int, list[str]]:
    """The sources listing each target (those with ids ``first`` to ``last`` when given), first listed first."""
    query = sa.select(target_sources.c.target_pk, target_sources.c.source).order_by(
        target_sources.c.listed_at, target_sources.c.source
    )
    if first is not None and last is not None:
        query = query.where(target_sources.c.target_pk.between(first, last))
    found: dict[int, list[str]] = {}
    for row in conn.execute(query):
        found.setdefault(row.target_pk, []).append(row.source)
    return found


def _target(row: Any, sources: list[str] | None) -> Target:
    extra = {
        name: str(value)
        for name in ("malware_hash", "file_type", "summary", "source", "source_ref")
        if (value := getattr(row, name)) is not None
    }
    if sources:
        extra["sources"] = ", ".join(sources)
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
