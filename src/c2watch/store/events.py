"""Stored verdicts, change events and webhook delivery cursors.

Events are recorded idempotently: each has a ``uid`` derived from what it says (a unique column, so a concurrent
double insert is ignored), and a candidate that matches an event already stored (same kind, destination and
subject, inside the candidate's ``[match_from, match_to]``) is merged into it (its observers are added to the
evidence) instead of being stored again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

import orjson
import sqlalchemy as sa

from c2watch.store.bulkupdate import update_rows
from c2watch.store.shared import insert_ignoring_duplicates
from c2watch.store.tables import events, observers, targets, threats, verdicts, webhook_cursors

__all__ = [
    "Cursor",
    "EventCandidate",
    "StoredEvent",
    "StoredVerdict",
    "cursor",
    "ensure_cursors",
    "event_query",
    "event_uid",
    "events_after",
    "list_events",
    "record_events",
    "save_verdicts",
    "stored_event",
    "stored_verdicts",
    "webhook_delivered",
    "webhook_failed",
]

_CHUNK = 400
NEVER = dt.datetime.max.replace(tzinfo=dt.UTC)


# --- cached verdicts ---


@dataclass(frozen=True)
class StoredVerdict:
    target_pk: int
    status: str
    since: dt.datetime
    computed_at: dt.datetime
    last_answer_at: dt.datetime | None
    evidence: dict[str, Any]


def save_verdicts(
    conn: sa.Connection,
    rows: Sequence[tuple[int, str, dt.datetime | None, dict[str, Any], dt.datetime | None]],
    now: dt.datetime,
) -> dict[int, dt.datetime]:
    """Store ``(target_pk, status, last_answer_at, evidence, since)`` rows; returns each one's ``since``: the
    row's own (when the state began, from the evidence), else kept from the stored verdict while the status is
    unchanged, else ``now``. A stored verdict that says the same again (its evidence compared as stored JSON text)
    only gets ``computed_at`` moved to ``now``: its evidence is not written again."""
    known = _known_verdicts(conn, [row[0] for row in rows])
    since: dict[int, dt.datetime] = {}
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    same: list[dict[str, Any]] = []
    for target_pk, status, last_answer_at, evidence, began in rows:
        previous = known.get(target_pk)
        since[target_pk] = began or (previous.since if previous and previous.status == status else now)
        text = orjson.dumps(evidence).decode() if previous else None  # as the engine and COPY write it
        if previous and previous == (status, since[target_pk], last_answer_at, text):
            same.append({"target_pk": target_pk, "computed_at": now})
            continue
        values = {
            "status": status,
            "since": since[target_pk],
            "computed_at": now,
            "last_answer_at": last_answer_at,
            "evidence": evidence,
        }
        (updates if previous else inserts).append({"target_pk": target_pk, **values})
    if inserts:
        conn.execute(verdicts.insert(), inserts)
    update_rows(conn, verdicts, ("target_pk",), updates)
    update_rows(conn, verdicts, ("target_pk",), same)
    return since


class _Known(NamedTuple):
    status: str
    since: dt.datetime
    last_answer_at: dt.datetime | None
    evidence: str  # the JSON text as stored


def _known_verdicts(conn: sa.Connection, pks: Sequence[int]) -> dict[int, _Known]:
    """The stored verdict of each of ``pks``: by chunks of ids, or for many (a page of destinations by id) in one
    scan of the ids they span."""
    v = verdicts.c
    query = sa.select(v.target_pk, v.status, v.since, v.last_answer_at, sa.cast(v.evidence, sa.Text))
    if len(pks) > _CHUNK:
        wanted = set(pks)
        spanned = conn.execute(query.where(v.target_pk.between(min(pks), max(pks))))
        return {row[0]: _Known(*row[1:]) for row in spanned if row[0] in wanted}
    known: dict[int, _Known] = {}
    for start in range(0, len(pks), _CHUNK):
        chunk = query.where(v.target_pk.in_(pks[start : start + _CHUNK]))
        known.update({row[0]: _Known(*row[1:]) for row in conn.execute(chunk)})
    return known


def stored_verdicts(conn: sa.Connection, threat: str | None = None) -> list[StoredVerdict]:
    """The verdicts computed last (of one threat's destinations when ``threat`` is given)."""
    query = sa.select(verdicts).order_by(verdicts.c.target_pk)
    if threat is not None:
        inner = sa.select(targets.c.id).join(threats, targets.c.threat_pk == threats.c.id)
        query = query.where(verdicts.c.target_pk.in_(inner.where(threats.c.threat_id == threat)))
    return [StoredVerdict(*row) for row in conn.execute(query)]


# --- events ---


def event_uid(kind: str, target_pk: int, subject: str, at: dt.datetime) -> str:
    text = f"{kind}|{target_pk}|{subject}|{at.astimezone(dt.UTC).isoformat()}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class EventCandidate:
    """An event as detected; ``match_from``/``match_to`` bound the ``at`` of a stored event that is the same one."""

    kind: str
    target_pk: int
    threat_id: str
    observer_pk: int | None
    subject: str
    at: dt.datetime
    summary: str
    evidence: dict[str, Any]
    match_from: dt.datetime
    match_to: dt.datetime = NEVER

    @property
    def uid(self) -> str:
        return event_uid(self.kind, self.target_pk, self.subject, self.at)


@dataclass(frozen=True)
class StoredEvent:
    id: int
    uid: str
    kind: str
    target_pk: int
    threat_id: str
    observer_pk: int | None
    subject: str
    at: dt.datetime
    detected_at: dt.datetime
    summary: str
    evidence: dict[str, Any]
    observer: str | None = None
    target: dict[str, Any] = field(default_factory=dict)


def _existing(conn: sa.Connection, candidates: Sequence[EventCandidate]) -> list[StoredEvent]:
    if not candidates:
        return []
    pks = sorted({c.target_pk for c in candidates})
    earliest = min(c.match_from for c in candidates)
    found: list[StoredEvent] = []
    for start in range(0, len(pks), _CHUNK):
        query = sa.select(events).where(events.c.target_pk.in_(pks[start : start + _CHUNK]), events.c.at >= earliest)
        found += [StoredEvent(*row) for row in conn.execute(query)]
    return found


def _merged_evidence(stored: dict[str, Any], new: dict[str, Any]) -> dict[str, Any] | None:
    """The stored evidence with the candidate's observers added; ``None`` when nothing is new."""
    known = list(stored.get("observers", []))
    added = [name for name in new.get("observers", []) if name not in known]
    return {**stored, "observers": known + added} if added else None


def _match(candidate: EventCandidate, stored: Sequence[StoredEvent]) -> StoredEvent | None:
    for event in stored:
        if (event.kind, event.target_pk, event.subject) == (
            candidate.kind,
            candidate.target_pk,
            candidate.subject,
        ) and (candidate.match_from <= event.at <= candidate.match_to):
            return event
    return None


def record_events(conn: sa.Connection, candidates: Sequence[EventCandidate], now: dt.datetime) -> list[int]:
    """Store the candidates that are new (merging the others into their stored event); returns the new ids."""
    stored = _existing(conn, candidates)
    new_ids: list[int] = []
    for candidate in sorted(candidates, key=lambda c: (c.at, c.kind, c.target_pk, c.subject)):
        match = _match(candidate, stored)
        if match is not None:
            evidence = _merged_evidence(match.evidence, candidate.evidence)
            if evidence is not None:
                conn.execute(events.update().where(events.c.id == match.id).values(evidence=evidence))
                stored = [e if e.id != match.id else _with_evidence(e, evidence) for e in stored]
            continue
        row = {
            "uid": candidate.uid,
            "kind": candidate.kind,
            "target_pk": candidate.target_pk,
            "threat_id": candidate.threat_id,
            "observer_pk": candidate.observer_pk,
            "subject": candidate.subject[:200],
            "at": candidate.at,
            "detected_at": now,
            "summary": candidate.summary[:1000],
            "evidence": candidate.evidence,
        }
        if not insert_ignoring_duplicates(conn, events, [row]):
            continue  # another process stored the same event a moment ago
        event_id = int(conn.execute(sa.select(events.c.id).where(events.c.uid == candidate.uid)).scalar_one())
        new_ids.append(event_id)
        stored.append(
            StoredEvent(
                event_id,
                candidate.uid,
                candidate.kind,
                candidate.target_pk,
                candidate.threat_id,
                candidate.observer_pk,
                str(row["subject"]),
                candidate.at,
                now,
                str(row["summary"]),
                candidate.evidence,
            )
        )
    return new_ids


def _with_evidence(event: StoredEvent, evidence: dict[str, Any]) -> StoredEvent:
    return replace(event, evidence=evidence)


def event_query() -> sa.Select[Any]:
    return (
        sa.select(
            events,
            observers.c.name,
            targets.c.ip,
            targets.c.domain,
            targets.c.url,
            targets.c.port,
            targets.c.key,
        )
        .select_from(events.join(targets, events.c.target_pk == targets.c.id).outerjoin(observers))
        .order_by(events.c.id)
    )


def stored_event(row: sa.Row[Any]) -> StoredEvent:
    values = list(row)
    target = dict(zip(("ip", "domain", "url", "port", "key"), values[12:], strict=True))
    return replace(StoredEvent(*values[:11]), observer=values[11], target=target)


def list_events(
    conn: sa.Connection,
    since: dt.datetime | None = None,
    threat: str | None = None,
    kinds: Sequence[str] = (),
    limit: int | None = None,
    ids: Sequence[int] = (),
) -> list[StoredEvent]:
    """Events (oldest first) that happened at or after ``since``, of one threat, of some kinds, with some ids."""
    query = event_query()
    if ids:
        query = query.where(events.c.id.in_(list(ids)))
    if since is not None:
        query = query.where(events.c.at >= since)
    if threat is not None:
        query = query.where(events.c.threat_id == threat)
    if kinds:
        query = query.where(events.c.kind.in_(list(kinds)))
    if limit is not None:
        query = query.order_by(None).order_by(events.c.id.desc()).limit(limit)
        return sorted((stored_event(row) for row in conn.execute(query)), key=lambda e: e.id)
    return [stored_event(row) for row in conn.execute(query)]


def events_after(conn: sa.Connection, event_id: int, limit: int) -> list[StoredEvent]:
    """Events stored after ``event_id``, in the order they were stored."""
    return [stored_event(row) for row in conn.execute(event_query().where(events.c.id > event_id).limit(limit))]


# --- webhook cursors ---


@dataclass(frozen=True)
class Cursor:
    url: str
    last_event_id: int
    delivered: int
    failures: int
    next_attempt_at: dt.datetime | None
    last_error: str | None


def _cursor_query(url: str) -> sa.Select[Any]:
    c = webhook_cursors.c
    return sa.select(c.url, c.last_event_id, c.delivered, c.failures, c.next_attempt_at, c.last_error).where(
        c.url == url
    )


def ensure_cursors(conn: sa.Connection, urls: Sequence[str], now: dt.datetime) -> None:
    """Create the cursor of each new webhook at the newest event: a webhook gets the events stored after it was
    configured, not the whole history."""
    if not urls:
        return
    newest = int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(events.c.id), 0))).scalar_one())
    rows = [{"url": url, "last_event_id": newest, "delivered": 0, "failures": 0, "updated_at": now} for url in urls]
    insert_ignoring_duplicates(conn, webhook_cursors, rows)


def cursor(conn: sa.Connection, url: str) -> Cursor | None:
    row = conn.execute(_cursor_query(url)).first()
    return Cursor(*row) if row is not None else None


def webhook_delivered(conn: sa.Connection, url: str, event_id: int, now: dt.datetime) -> None:
    c = webhook_cursors.c
    conn.execute(
        webhook_cursors.update()
        .where(c.url == url, c.last_event_id < event_id)
        .values(
            last_event_id=event_id,
            delivered=c.delivered + 1,
            failures=0,
            next_attempt_at=None,
            last_error=None,
            updated_at=now,
        )
    )


def webhook_failed(conn: sa.Connection, url: str, error: str, next_attempt_at: dt.datetime, now: dt.datetime) -> None:
    c = webhook_cursors.c
    conn.execute(
        webhook_cursors.update()
        .where(c.url == url)
        .values(failures=c.failures + 1, next_attempt_at=next_attempt_at, last_error=error[:500], updated_at=now)
    )
