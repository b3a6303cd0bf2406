"""Change events: what changed about a destination, detected from every observer's records and stored once.

Kinds (``EVENT_KINDS``):

- ``reactivated``: an answer after at least ``alive_within`` and ``min_silent_cycles`` observations without one,
  across every observer (from ``dormant``, ``dead`` or ``never-seen``);
- ``status-changed``: one observer's consecutive HTTP answers with different status codes;
- ``body-changed``: one observer's consecutive answers with the same status code and different body SHA-256;
- ``certificate-changed``: one observer's consecutive TLS certificates differ;
- ``ttl-changed``: one observer's consecutive echo-reply TTLs differ by more than ``ttl_tolerance`` hops;
- ``blocking-suspected``: a new suspicion that a destination blocks one observer (see :mod:`.verdicts`);
- ``dead``: the destination became dead (it may leave the deny list);
- ``identity-changed``: the server answering is not the one first seen (certificate, ``Server``, header order …
  differ; see :mod:`c2watch.identity.judge`), from the start of the new identity's run;
- ``reassigned``, ``sinkholed``, ``parked``, ``domain-gone``: the destination got that verdict, from when the
  evidence began (it may leave the deny list, or, sinkholed, hits on it mean an infected host).

Detection reads the recent ``lookback`` window, so it may run any number of times: a change seen again, or seen by
another observer within ``merge_within``, is merged into the stored event (its observers are added to the
evidence) instead of being stored twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from c2watch.analysis.localtime import LocalClock
from c2watch.analysis.series import destination_label
from c2watch.analysis.verdicts import (
    DEAD,
    PAGE_SIZE,
    Shared,
    Verdict,
    VerdictRules,
    evaluate_page,
    in_watchlist_order,
    span_of,
)
from c2watch.config import Settings
from c2watch.models import Target
from c2watch.store import NEVER, Change, EventCandidate, Span, Store, StoredEvent

__all__ = ["EVENT_KINDS", "Event", "RefreshReport", "detect", "list_events", "refresh"]

EVENT_KINDS = (
    "reactivated",
    "status-changed",
    "body-changed",
    "certificate-changed",
    "ttl-changed",
    "blocking-suspected",
    "dead",
    "identity-changed",
    "reassigned",
    "sinkholed",
    "parked",
    "domain-gone",
)
_IDENTITY_KINDS = ("reassigned", "sinkholed", "parked", "domain-gone")
_EPOCH = dt.datetime.min.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class Event:
    """A stored event, with its destination and observer named."""

    id: int
    uid: str
    kind: str
    threat_id: str
    target_pk: int
    destination: str
    observer: str | None
    subject: str
    at: dt.datetime
    detected_at: dt.datetime
    summary: str
    evidence: Mapping[str, Any]

    @classmethod
    def from_stored(cls, stored: StoredEvent) -> Event:
        t = stored.target
        target = Target(stored.target_pk, stored.threat_id, t["key"], t["ip"], t["domain"], t["url"], t["port"])
        return cls(
            stored.id,
            stored.uid,
            stored.kind,
            stored.threat_id,
            stored.target_pk,
            destination_label(target),
            stored.observer,
            stored.subject,
            stored.at,
            stored.detected_at,
            stored.summary,
            stored.evidence,
        )

    def as_dict(self, clock: LocalClock | None = None) -> dict[str, Any]:
        def show(value: dt.datetime) -> str:
            return clock.iso(value) or "" if clock else value.astimezone(dt.UTC).isoformat()

        return {
            "id": self.id,
            "uid": self.uid,
            "kind": self.kind,
            "threat_id": self.threat_id,
            "target_pk": self.target_pk,
            "destination": self.destination,
            "observer": self.observer,
            "subject": self.subject,
            "at": show(self.at),
            "detected_at": show(self.detected_at),
            "summary": self.summary,
            "evidence": dict(self.evidence),
        }


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.astimezone(dt.UTC).isoformat()


_WHAT = {
    "status-changed": "HTTP status",
    "body-changed": "body SHA-256",
    "certificate-changed": "TLS certificate",
    "ttl-changed": "echo-reply TTL",
}


def _short(kind: str, value: str) -> str:
    return value[:12] if kind in ("body-changed", "certificate-changed") else value


def _change(change: Change, verdict: Verdict, names: Mapping[int, str], rules: VerdictRules) -> EventCandidate:
    observer = names.get(change.observer_pk, str(change.observer_pk))
    before, after = _short(change.kind, change.before), _short(change.kind, change.after)
    subject = f"{before}→{after}" if change.kind != "ttl-changed" else f"{observer}:{before}→{after}"
    evidence: dict[str, Any] = {
        "from": change.before,
        "to": change.after,
        "previous_at": _iso(change.previous_at),
        "observers": [observer],
    }
    if change.kind == "body-changed":
        evidence["http_status"] = change.http_status
    return EventCandidate(
        change.kind,
        change.target_pk,
        verdict.threat_id,
        change.observer_pk,
        subject,
        change.at,
        f"{verdict.destination}: {_WHAT[change.kind]} {before} → {after} (seen by {observer})",
        evidence,
        change.at - rules.merge_within,
        change.at + rules.merge_within,
    )


def _revivals(
    store: Store,
    rules: VerdictRules,
    verdicts: Mapping[int, Verdict],
    names: Mapping[int, str],
    now: dt.datetime,
    threat: str | None,
    span: Span | None,
) -> list[EventCandidate]:
    since = now - rules.lookback
    found = store.verdicts.revival_candidates(since, now, rules.answer_probes, rules.min_silent_cycles, threat, span)
    before = store.verdicts.last_answers_before(
        [r.target_pk for r in found if r.previous_at is None], since, rules.answer_probes
    )
    candidates = []
    for revival in found:
        verdict = verdicts.get(revival.target_pk)
        previous = revival.previous_at or before.get(revival.target_pk)
        start = previous or (verdict.first_observed_at if verdict else None)
        if verdict is None or start is None or revival.at - start < rules.alive_within:
            continue
        was = "never-seen" if previous is None else (DEAD if revival.at - previous >= rules.dead_after else "dormant")
        observer = names.get(revival.observer_pk, str(revival.observer_pk))
        evidence = {
            "from": was,
            "last_answer_at": _iso(previous),
            "silent_cycles": revival.silent,
            "silent_hours": round((revival.at - start).total_seconds() / 3600, 1),
            "http_status": revival.http_status,
            "observers": [observer],
        }
        summary = (
            f"{verdict.destination}: answered again (HTTP {revival.http_status or '-'}, seen by {observer}) after "
            f"{revival.silent} silent cycles over {evidence['silent_hours']} h ({was} before)"
        )
        candidates.append(
            EventCandidate(
                "reactivated",
                revival.target_pk,
                verdict.threat_id,
                revival.observer_pk,
                "",
                revival.at,
                summary,
                evidence,
                revival.at - rules.merge_within,
                revival.at + rules.merge_within,
            )
        )
    return candidates


def _blocking(verdict: Verdict) -> list[EventCandidate]:
    candidates = []
    for view in verdict.observers:
        if not view.suspected or view.blocked_since is None:
            continue
        evidence = {
            "observer": view.observer,
            "windows": view.blocked_windows,
            "since": _iso(view.blocked_since),
            "observer_last_answer_at": _iso(view.last_answer_at),
            "answering_observers": list(verdict.agreeing),
            "last_answer_at": _iso(verdict.last_answer_at),
            "observers": [view.observer],
        }
        summary = (
            f"{verdict.destination}: no answer to {view.observer} in {view.blocked_windows} windows in which "
            f"{', '.join(verdict.agreeing) or 'other observers'} got answers: likely blocking of its address"
        )
        candidates.append(
            EventCandidate(
                "blocking-suspected",
                verdict.target.id,
                verdict.threat_id,
                view.observer_pk,
                view.observer,
                view.blocked_since,
                summary,
                evidence,
                view.last_answer_at or _EPOCH,  # the same suspicion until that observer gets an answer again
            )
        )
    return candidates


def _dead(verdict: Verdict, rules: VerdictRules) -> list[EventCandidate]:
    if verdict.status != DEAD or verdict.last_answer_at is None:
        return []
    evidence = {
        "last_answer_at": _iso(verdict.last_answer_at),
        "silent_cycles": verdict.silent_cycles,
        "observers": list(verdict.agreeing),
    }
    at = verdict.last_answer_at + rules.dead_after
    summary = f"{verdict.destination}: dead ({verdict.reason}); it may leave the deny list"
    return [
        EventCandidate(
            "dead", verdict.target.id, verdict.threat_id, None, "", at, summary, evidence, verdict.last_answer_at, NEVER
        )
    ]


def _identity(verdict: Verdict, rules: VerdictRules) -> list[EventCandidate]:
    """The verdict's identity judgement as an event: its new status, or else a changed identity."""
    found = verdict.identity
    since = _time(found.get("since")) if found else None
    if not found or since is None:
        return []
    status = found.get("status")
    kind = status if status in _IDENTITY_KINDS and verdict.status == status else None
    if kind is None and found.get("identity") != "changed":
        return []
    kind = kind or "identity-changed"
    differing = [str(part) for part in found.get("differing") or []]
    matched = verdict.matched
    subject = str(matched["id"]) if matched else ",".join(differing)
    what = f"{matched['name']}" if matched else f"{', '.join(differing)} changed"
    summary = f"{verdict.destination}: {kind} since {_iso(since)} ({what})"
    evidence = {**found, "observers": list(found.get("observers") or [])}
    return [
        EventCandidate(
            kind,
            verdict.target.id,
            verdict.threat_id,
            None,
            subject,
            since,
            summary,
            evidence,
            since - rules.merge_within,
            since + rules.merge_within,
        )
    ]


def _time(value: Any) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if isinstance(value, str) else None


def detect(
    store: Store,
    rules: VerdictRules,
    verdicts: Sequence[Verdict],
    now: dt.datetime,
    threat: str | None = None,
    names: Mapping[int, str] | None = None,
    span: Span | None = None,
) -> list[EventCandidate]:
    """Every event the recent window and the current verdicts show (stored or not); with ``span``, the verdicts are
    one page's and only the rows of the ids it spans are read."""
    by_target = {verdict.target.id: verdict for verdict in verdicts}
    names = store.reports.observer_names() if names is None else names
    found = [
        _change(change, by_target[change.target_pk], names, rules)
        for change in store.verdicts.changes(now - rules.lookback, now, rules.ttl_tolerance, threat, span)
        if change.target_pk in by_target
    ]
    found += _revivals(store, rules, by_target, names, now, threat, span)
    for verdict in verdicts:
        found += _blocking(verdict) + _dead(verdict, rules) + _identity(verdict, rules)
    return found


@dataclass
class RefreshReport:
    """What one refresh computed: how many verdicts of each status, and the events that are new; the verdicts
    themselves only when asked for (``refresh(..., keep_verdicts=True)``)."""

    computed_at: dt.datetime
    folded: int
    verdicts: list[Verdict] = field(default_factory=list)
    new_events: list[Event] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    first: dict[str, tuple[str, int]] = field(default_factory=dict)

    def add(self, verdicts: Sequence[Verdict], keep: bool) -> None:
        """Count one page's verdicts (and keep them, with ``keep``)."""
        for verdict in verdicts:
            status, key = verdict.status, (verdict.threat_id, verdict.target.id)
            self.statuses[status] = self.statuses.get(status, 0) + 1
            self.first[status] = min(self.first.get(status, key), key)
        if keep:
            self.verdicts.extend(verdicts)

    def counts(self) -> dict[str, int]:
        """Verdicts per status, the statuses in the order the watchlist first lists one (by threat ID, then id)."""
        if self.verdicts and not self.statuses:  # a report built with its verdicts
            self.add(self.verdicts, keep=False)
        return {status: self.statuses[status] for status in sorted(self.statuses, key=self.first.__getitem__)}

    def as_dict(self) -> dict[str, Any]:
        return {
            "computed_at": _iso(self.computed_at),
            "folded_observations": self.folded,
            "verdicts": self.counts(),
            "new_events": len(self.new_events),
        }


def refresh(
    store: Store,
    settings: Settings,
    now: dt.datetime,
    threat: str | None = None,
    keep_verdicts: bool = False,
    page_size: int | None = None,
) -> RefreshReport:
    """Bring the verdicts and events up to date with every record in the store (idempotent): fold the new
    observations into the summaries, then page by page (``page_size`` destinations by id, default
    :data:`~c2watch.analysis.verdicts.PAGE_SIZE`) judge the destinations, store their verdicts and record their new
    events. Memory holds one page; the report counts the verdicts, and holds them all only with ``keep_verdicts``
    (in watchlist order)."""
    rules = VerdictRules.from_settings(settings)
    folded = store.verdicts.fold_summaries(now)
    store.verdicts.fold_identities(rules.signatures, rules.identity, now)
    shared = Shared.read(store, rules, now)
    store.events.ensure_webhook_cursors(settings.alerts.webhooks, now)
    report = RefreshReport(now, folded)
    for targets in store.watchlist.target_pages(threat, size=page_size or PAGE_SIZE):
        verdicts = evaluate_page(store, rules, now, targets, shared, threat)
        since = store.verdicts.save(verdicts, now)
        verdicts = [_with_since(verdict, since.get(verdict.target.id)) for verdict in verdicts]
        found = detect(store, rules, verdicts, now, threat, shared.names, span_of(targets))
        new_ids = store.events.record(found, now)
        if new_ids:
            report.new_events += [Event.from_stored(e) for e in store.events.matching(ids=sorted(new_ids))]
        report.add(verdicts, keep_verdicts)
    if keep_verdicts:
        report.verdicts = in_watchlist_order(store, report.verdicts, threat)
    return report


def _with_since(verdict: Verdict, since: dt.datetime | None) -> Verdict:
    return verdict if verdict.since == since else replace(verdict, since=since)


def list_events(
    store: Store,
    since: dt.datetime | None = None,
    threat: str | None = None,
    kinds: Sequence[str] = (),
    limit: int | None = None,
) -> list[Event]:
    """Stored events, oldest first (for ``c2watch events`` and the dashboard)."""
    return [Event.from_stored(e) for e in store.events.matching(since=since, threat=threat, kinds=kinds, limit=limit)]
