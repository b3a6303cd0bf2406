"""Verdicts across observers: is each destination alive, dormant, dead, blocking one observer, or never seen?

Per destination, from the records of every observer (our own and those pulled from the hub), at ``now``:

- ``never-seen``: no observer ever got an answer (or nobody observed it yet);
- ``alive``: some observer got an answer within ``alive_within``;
- ``blocked-for-observer``: alive, while one observer got nothing in at least ``blocked_windows`` schedule windows in
  which another observer got an answer, since its own last answer; each of those windows counts only when that
  observer got an answer from some other destination in it (so an observer that is down is not "blocked");
- ``dead``: silent everywhere for the removal window: the last answer is at least ``dead_after`` old, observation
  went on for at least ``dead_after`` after it, and the observers made at least ``min_silent_cycles`` observations
  (silent cycles) since it;
- ``dormant``: answered before, silent for longer than ``alive_within``, not (yet) dead.

Then what answers (:mod:`c2watch.identity.judge`, from each destination's identity track): ``sinkholed``,
``parked`` and ``domain-gone`` replace any of the above, ``reassigned`` replaces alive, blocked and dormant (a new
tenant's server that went silent is still not the attacker's; a dead one stays dead). Every verdict carries the
judgement as ``identity`` (``same | changed | unknown``, the matched framework or signature, what differs, since
when, which observers).

An *answer* is one of ``answer_probes`` (default HTTP: any status code). Windows are the schedule's slots. The
aggregates come from :mod:`c2watch.store.verdicts` (incremental summaries) and :mod:`c2watch.store.windows`
(recent-window queries).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from zoneinfo import ZoneInfo

from c2watch.analysis.localtime import LocalClock
from c2watch.analysis.series import destination_label, target_fields
from c2watch.config import Settings
from c2watch.identity import Rule, configured_rules, shipped_rules
from c2watch.identity.judge import DOMAIN_GONE, PARKED, REASSIGNED, SINKHOLED, IdentityRules, Judgement
from c2watch.models import Target
from c2watch.models.kinds import ANSWER_PROBES as PROBES
from c2watch.store import Span, Store, Streak, Summary

__all__ = [
    "ALIVE",
    "BLOCKED",
    "DEAD",
    "DOMAIN_GONE",
    "DORMANT",
    "NEVER_SEEN",
    "PAGE_SIZE",
    "PARKED",
    "REASSIGNED",
    "SINKHOLED",
    "STATUSES",
    "ObserverEvidence",
    "Shared",
    "Verdict",
    "VerdictRules",
    "evaluate",
    "evaluate_page",
    "in_watchlist_order",
    "judge",
    "span_of",
    "stored_verdicts",
]

ALIVE, BLOCKED, DORMANT, DEAD, NEVER_SEEN = "alive", "blocked-for-observer", "dormant", "dead", "never-seen"
STATUSES = (ALIVE, BLOCKED, DORMANT, DEAD, NEVER_SEEN, SINKHOLED, PARKED, REASSIGNED, DOMAIN_GONE)
_REPLACES = {
    DOMAIN_GONE: STATUSES,
    SINKHOLED: STATUSES,
    PARKED: STATUSES,
    REASSIGNED: (ALIVE, BLOCKED, DORMANT),
}


@dataclass(frozen=True)
class VerdictRules:
    """Windows and thresholds (``[verdict]`` and the ``[schedule]`` slots); defaults as in the configuration."""

    answer_probes: tuple[str, ...] = ("http",)
    alive_within: dt.timedelta = dt.timedelta(hours=24)
    dead_after: dt.timedelta = dt.timedelta(days=30)
    min_silent_cycles: int = 6
    blocked_windows: int = 3
    lookback: dt.timedelta = dt.timedelta(days=2)
    merge_within: dt.timedelta = dt.timedelta(hours=24)
    ttl_tolerance: int = 2
    window: dt.timedelta = dt.timedelta(hours=4)
    origin: dt.datetime = dt.datetime(2000, 1, 1, tzinfo=ZoneInfo("Asia/Tokyo"))
    identity: IdentityRules = field(default_factory=IdentityRules)
    signatures: tuple[Rule, ...] = field(default_factory=shipped_rules)

    @classmethod
    def from_settings(cls, settings: Settings) -> VerdictRules:
        v, schedule = settings.verdict, settings.schedule
        anchor = dt.time.fromisoformat(schedule.anchor)
        return cls(
            answer_probes=tuple(v.answer_probes),
            alive_within=dt.timedelta(hours=v.alive_hours),
            dead_after=dt.timedelta(days=v.dead_days),
            min_silent_cycles=v.min_silent_cycles,
            blocked_windows=v.blocked_windows,
            lookback=dt.timedelta(days=v.lookback_days),
            merge_within=dt.timedelta(hours=v.merge_hours),
            ttl_tolerance=v.ttl_tolerance,
            window=dt.timedelta(minutes=schedule.interval_minutes),
            origin=dt.datetime.combine(dt.date(2000, 1, 1), anchor, tzinfo=ZoneInfo(schedule.zone)),
            identity=IdentityRules.from_settings(settings),
            signatures=configured_rules(settings),
        )

    @property
    def origin_epoch(self) -> int:
        return int(self.origin.timestamp())

    @property
    def window_seconds(self) -> int:
        return max(1, int(self.window.total_seconds()))

    @property
    def blocking_horizon(self) -> dt.timedelta:
        """How far back blocking streaks are counted: enough windows to reach ``blocked_windows``, and the alive
        window (a longer streak is reported as at least this long)."""
        return max(self.alive_within, self.window * (self.blocked_windows + 1))

    def window_start(self, number: int) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.origin_epoch + number * self.window_seconds, dt.UTC)

    def as_dict(self) -> dict[str, Any]:
        return {
            "answer_probes": list(self.answer_probes),
            "alive_hours": self.alive_within.total_seconds() / 3600,
            "dead_days": self.dead_after.total_seconds() / 86400,
            "min_silent_cycles": self.min_silent_cycles,
            "blocked_windows": self.blocked_windows,
            "window_minutes": self.window_seconds / 60,
            "identity_min_changes": self.identity.min_changes,
            "identity_stable_answers": self.identity.stable_answers,
            "identity_stay_days": self.identity.stay.total_seconds() / 86400,
            "signatures": len(self.signatures),
        }


def _iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return value.isoformat() if value.tzinfo is dt.UTC else value.astimezone(dt.UTC).isoformat()


def _time(value: Any) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(str(value))


@dataclass(frozen=True)
class ObserverEvidence:
    """One observer's view of one destination."""

    observer_pk: int
    observer: str
    observations: int
    first_at: dt.datetime
    last_at: dt.datetime
    last_answer_at: dt.datetime | None
    answers: Mapping[str, dt.datetime | None]
    http_status: int | None
    ttl: int | None
    silent_cycles: int
    after_last_answer: int = 0
    blocked_windows: int = 0
    blocked_since: dt.datetime | None = None
    suspected: bool = False

    def to_json(self, clock: LocalClock | None = None) -> dict[str, Any]:
        show = clock.iso if clock else _iso
        return {
            "observer": self.observer,
            "observer_pk": self.observer_pk,
            "observations": self.observations,
            "first_at": show(self.first_at),
            "last_at": show(self.last_at),
            "last_answer_at": show(self.last_answer_at),
            "last_answer_by_probe": {probe: show(at) for probe, at in self.answers.items()},
            "last_http_status": self.http_status,
            "last_ttl": self.ttl,
            "silent_cycles": self.silent_cycles,
            "silent_since_last_answer": self.after_last_answer,
            "blocked_windows": self.blocked_windows,
            "blocked_since": show(self.blocked_since),
            "suspected_blocking": self.suspected,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ObserverEvidence:
        first_at, last_at = _time(data["first_at"]), _time(data["last_at"])
        assert first_at is not None and last_at is not None
        return cls(
            observer_pk=int(data["observer_pk"]),
            observer=str(data["observer"]),
            observations=int(data["observations"]),
            first_at=first_at,
            last_at=last_at,
            last_answer_at=_time(data["last_answer_at"]),
            answers={probe: _time(at) for probe, at in data["last_answer_by_probe"].items()},
            http_status=data["last_http_status"],
            ttl=data["last_ttl"],
            silent_cycles=int(data["silent_cycles"]),
            after_last_answer=int(data["silent_since_last_answer"]),
            blocked_windows=int(data["blocked_windows"]),
            blocked_since=_time(data["blocked_since"]),
            suspected=bool(data["suspected_blocking"]),
        )


@dataclass(frozen=True)
class Verdict:
    """The verdict on one destination with its evidence."""

    target: Target
    status: str
    reason: str
    computed_at: dt.datetime
    last_answer_at: dt.datetime | None = None
    first_observed_at: dt.datetime | None = None
    last_observed_at: dt.datetime | None = None
    silent_cycles: int = 0
    observers: tuple[ObserverEvidence, ...] = ()
    agreeing: tuple[str, ...] = ()
    blocked: tuple[str, ...] = ()
    since: dt.datetime | None = None
    identity: Mapping[str, Any] | None = None

    @property
    def identity_state(self) -> str:
        """``same``, ``changed`` or ``unknown`` (no track yet: unknown)."""
        return str(self.identity.get("identity") or "unknown") if self.identity else "unknown"

    @property
    def identity_since(self) -> dt.datetime | None:
        """Since when the current identity (or the identity status's evidence) holds."""
        return _time(self.identity.get("since")) if self.identity else None

    @property
    def matched(self) -> Mapping[str, Any] | None:
        """The matched signature (sinkhole, parking, default page) or else C2 framework, if any."""
        if not self.identity:
            return None
        found = self.identity.get("signature") or self.identity.get("framework")
        return found if isinstance(found, Mapping) else None

    @property
    def destination(self) -> str:
        return destination_label(self.target)

    @property
    def threat_id(self) -> str:
        return self.target.threat_id

    def evidence(self, clock: LocalClock | None = None) -> dict[str, Any]:
        """What the verdict rests on (stored with the verdict, shown by ``c2watch status --json``)."""
        show = clock.iso if clock else _iso
        return {
            "reason": self.reason,
            "last_answer_at": show(self.last_answer_at),
            "first_observed_at": show(self.first_observed_at),
            "last_observed_at": show(self.last_observed_at),
            "silent_cycles": self.silent_cycles,
            "observers_agreeing": list(self.agreeing),
            "blocked_observers": list(self.blocked),
            "observers": [view.to_json(clock) for view in self.observers],
            "identity": dict(self.identity) if self.identity else None,
        }

    def as_dict(self, clock: LocalClock | None = None) -> dict[str, Any]:
        show = clock.iso if clock else _iso
        t = self.target
        return {
            **target_fields(t),
            "status": self.status,
            "since": show(self.since),
            "computed_at": show(self.computed_at),
            **self.evidence(clock),
        }


def _view(
    row: Summary, name: str, probes: Sequence[str], streak: Streak | None, rules: VerdictRules, now: dt.datetime
) -> ObserverEvidence:
    answers: dict[str, dt.datetime | None] = {probe: row.answer_at(probe) for probe in PROBES}
    configured = [at for probe in probes if (at := answers[probe]) is not None]
    return ObserverEvidence(
        observer_pk=row.observer_pk,
        observer=name,
        observations=row.observations,
        first_at=row.first_at,
        last_at=row.last_at,
        last_answer_at=max(configured) if configured else None,
        answers=answers,
        http_status=row.http_status,
        ttl=row.icmp_ttl,
        silent_cycles=min(row.silent(probe) for probe in probes),  # cycles since the latest of those answers
        after_last_answer=min(row.after(probe) for probe in probes),
        blocked_windows=streak.windows if streak else 0,
        blocked_since=rules.window_start(streak.first_window) if streak else None,
        suspected=_suspected(streak, rules, now),
    )


def _suspected(streak: Streak | None, rules: VerdictRules, now: dt.datetime) -> bool:
    """Enough contested windows, the latest of them inside the alive window."""
    if streak is None or streak.windows < rules.blocked_windows:
        return False
    return rules.window_start(streak.last_window) + rules.window >= now - rules.alive_within


def _hours(delta: dt.timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours / 24:.1f} d" if hours >= 48 else f"{hours:.1f} h"


def judge(
    target: Target,
    rows: Sequence[Summary],
    streaks: Mapping[int, Streak],
    names: Mapping[int, str],
    rules: VerdictRules,
    now: dt.datetime,
) -> Verdict:
    """The verdict on ``target`` from its per-observer summaries and blocking streaks (keyed by observer)."""
    probes = rules.answer_probes
    views = tuple(
        _view(row, names.get(row.observer_pk, str(row.observer_pk)), probes, streaks.get(row.observer_pk), rules, now)
        for row in rows
    )
    if not views:
        return Verdict(target, NEVER_SEEN, "not observed yet", now)
    answers = [view.last_answer_at for view in views if view.last_answer_at is not None]
    first, last = min(view.first_at for view in views), max(view.last_at for view in views)
    seen: dict[str, Any] = {"first_observed_at": first, "last_observed_at": last, "observers": views}
    if not answers:
        total = sum(view.observations for view in views)
        reason = f"never answered: {total} observations by {len(views)} observer(s) since {_iso(first)}"
        return Verdict(target, NEVER_SEEN, reason, now, **seen, agreeing=tuple(v.observer for v in views), since=first)
    latest = max(answers)
    silent = sum(view.after_last_answer for view in views)
    seen |= {"last_answer_at": latest, "silent_cycles": silent}
    if latest >= now - rules.alive_within:
        status, reason, found = _alive(views, rules, now)
        return Verdict(target, status, reason, now, **seen, **found)
    silent_for = now - latest
    agreeing = tuple(v.observer for v in views if v.after_last_answer)
    if last - latest >= rules.dead_after and silent >= rules.min_silent_cycles:
        reason = (
            f"no answer to any of {len(views)} observer(s) for {_hours(silent_for)} "
            f"({silent} silent cycles since the last answer)"
        )
        return Verdict(target, DEAD, reason, now, **seen, agreeing=agreeing, since=latest)
    reason = (
        f"no answer for {_hours(silent_for)} ({silent} silent cycles); "
        f"dead after {_hours(rules.dead_after)} of observed silence"
    )
    return Verdict(target, DORMANT, reason, now, **seen, agreeing=agreeing, since=latest)


def _alive(views: Sequence[ObserverEvidence], rules: VerdictRules, now: dt.datetime) -> tuple[str, str, dict[str, Any]]:
    """Status, reason and the other fields of an answering destination's verdict."""
    recent = tuple(v.observer for v in views if v.last_answer_at and v.last_answer_at >= now - rules.alive_within)
    blocked = tuple(v.observer for v in views if v.suspected)
    if blocked:
        windows = max(v.blocked_windows for v in views if v.suspected)
        reason = (
            f"answers {', '.join(recent)} but not {', '.join(blocked)} in {windows} windows in which the others got "
            "answers: likely blocking of that observer's address"
        )
        since = min((v.blocked_since for v in views if v.suspected and v.blocked_since), default=None)
        return BLOCKED, reason, {"agreeing": recent, "blocked": blocked, "since": since}
    reason = f"answered {len(recent)} of {len(views)} observer(s) within {_hours(rules.alive_within)}"
    return ALIVE, reason, {"agreeing": recent}


#: Destinations judged together: one page's summaries, streaks and tracks are read, judged and saved at once, so that
#: memory does not grow with the watchlist.
PAGE_SIZE = 10_000


@dataclass(frozen=True)
class Shared:
    """What every page of destinations is judged with: the observers' names and the (observer, window) pairs in
    which each observer got an answer from some destination (its health, judged on every destination)."""

    names: Mapping[int, str]
    healthy: Sequence[tuple[int, int]]

    @classmethod
    def read(cls, store: Store, rules: VerdictRules, now: dt.datetime) -> Shared:
        healthy = store.verdicts.healthy_windows(
            now - rules.blocking_horizon, now, rules.answer_probes, rules.origin_epoch, rules.window_seconds
        )
        return cls(store.reports.observer_names(), healthy)


def span_of(targets: Sequence[Target]) -> Span:
    """The ids a page of targets (by id) spans."""
    return Span(targets[0].id, targets[-1].id)


def evaluate_page(
    store: Store,
    rules: VerdictRules,
    now: dt.datetime,
    targets: Sequence[Target],
    shared: Shared,
    threat: str | None = None,
) -> list[Verdict]:
    """The verdict on each of ``targets`` (one page, by id, of ``threat``'s destinations) at ``now``, reading only
    the rows of the ids they span; the summaries must be folded already."""
    if not targets:
        return []
    span = span_of(targets)
    by_target: dict[int, list[Summary]] = defaultdict(list)
    for row in store.verdicts.answer_summaries(span=span):
        by_target[row.target_pk].append(row)
    streaks: dict[int, dict[int, Streak]] = defaultdict(dict)
    for streak in store.verdicts.blocking_streaks(
        now - rules.blocking_horizon,
        now,
        rules.answer_probes,
        rules.origin_epoch,
        rules.window_seconds,
        threat,
        span,
        shared.healthy,
    ):
        streaks[streak.target_pk][streak.observer_pk] = streak
    tracks = store.verdicts.identity_tracks([t.id for t in targets])
    verdicts = []
    for target in targets:
        verdict = judge(target, by_target.get(target.id, []), streaks.get(target.id, {}), shared.names, rules, now)
        track = tracks.get(target.id)
        judgement = track.judgement(rules.signatures, rules.identity) if track is not None else None
        verdicts.append(with_identity(verdict, judgement))
    return verdicts


def evaluate(store: Store, rules: VerdictRules, now: dt.datetime, threat: str | None = None) -> list[Verdict]:
    """The verdict on every destination (of ``threat``) at ``now``, in watchlist order; the summaries must be folded
    already. Judged page by page (:func:`evaluate_page`); the list holds them all."""
    shared = Shared.read(store, rules, now)
    verdicts = [
        verdict
        for targets in store.watchlist.target_pages(threat, size=PAGE_SIZE)
        for verdict in evaluate_page(store, rules, now, targets, shared, threat)
    ]
    return in_watchlist_order(store, verdicts, threat)


def in_watchlist_order(store: Store, verdicts: Sequence[Verdict], threat: str | None = None) -> list[Verdict]:
    """``verdicts`` in the order the watchlist lists their destinations (by threat ID, then id)."""
    order = {target.id: n for n, target in enumerate(store.watchlist.targets(threat))}
    return sorted(verdicts, key=lambda verdict: order.get(verdict.target.id, len(order)))


def with_identity(verdict: Verdict, judgement: Judgement | None) -> Verdict:
    """The verdict with what answers: a new status where the judgement has one that replaces the liveness."""
    if judgement is None:
        return verdict
    found = judgement.as_dict()
    if judgement.status is not None and verdict.status in _REPLACES[judgement.status]:
        reason = f"{judgement.status}: {judgement.reason} (liveness: {verdict.status}, {verdict.reason})"
        return replace(verdict, status=judgement.status, reason=reason, identity=found, since=judgement.since)
    if verdict.status == ALIVE and judgement.answering_since is not None:
        return replace(verdict, identity=found, since=judgement.answering_since)
    return replace(verdict, identity=found)


def stored_verdicts(store: Store, threat: str | None = None) -> list[Verdict]:
    """The verdicts as computed last (after the latest cycle or sync): fast, for the dashboard."""
    targets = {t.id: t for t in store.watchlist.targets(threat)}
    verdicts = []
    for row in store.verdicts.stored(threat):
        target = targets.get(row.target_pk)
        if target is None:
            continue
        e = row.evidence
        verdicts.append(
            Verdict(
                target,
                row.status,
                str(e["reason"]),
                row.computed_at,
                last_answer_at=row.last_answer_at,
                first_observed_at=_time(e["first_observed_at"]),
                last_observed_at=_time(e["last_observed_at"]),
                silent_cycles=int(e["silent_cycles"]),
                observers=tuple(ObserverEvidence.from_json(view) for view in e["observers"]),
                agreeing=tuple(e["observers_agreeing"]),
                blocked=tuple(e["blocked_observers"]),
                since=row.since,
                identity=e.get("identity"),
            )
        )
    return verdicts
