"""Is it still the attacker's server? One destination's sightings folded over time into what the server is now.

The liveness verdict (alive, dormant, dead …) says whether something answers; this says *what* answers:

- ``domain-gone``: the name has answered NXDOMAIN in every sighting for the removal window (at least
  ``min_sightings`` of them);
- ``sinkholed``: the latest ``stable_answers`` sightings or more match one sinkhole signature (the address, the name
  servers, PTR or CNAME);
- ``parked``: the same with a parking signature;
- ``reassigned``: the identity that was stable while the destination was first seen answering has been replaced by
  a different identity that stays (at least ``stable_answers`` answers over at least ``stay``), and the new one is
  not a C2 framework's;
- otherwise no new status, and the identity is ``same``, ``changed`` or ``unknown`` (too few answers to tell).

An :class:`Identity` holds the parts of an answer that belong to the server rather than to the moment: the TLS
certificate, the ``Server`` header, the order of the header names, JARM and favicon; the title and body are
compared only between answers with the same status code (a C2 that answers 404 instead of 200 changes its page, not
its owner). Two identities differ when at least ``min_changes`` of the parts known in both differ — a renewed
certificate alone is not a new owner; a changed certificate with a web server's default page is. A server that
only changes its status code, restarts or flaps keeps its identity and is never ``reassigned``.

The judgement is a fold: a :class:`Track` takes the sightings one by one and keeps only what the judgement needs
(the baseline identity, the current run of one identity, the signature and NXDOMAIN streaks), so the store can keep
one small JSON state per destination and fold each cycle's new observations into it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

from c2watch.config import Settings
from c2watch.identity.evidence import Evidence
from c2watch.identity.match import Match, match
from c2watch.identity.rules import Rule

__all__ = [
    "DOMAIN_GONE",
    "IDENTITY_STATUSES",
    "PARKED",
    "REASSIGNED",
    "SINKHOLED",
    "Identity",
    "IdentityRules",
    "Judgement",
    "Sighting",
    "Track",
    "judge",
]

DOMAIN_GONE, SINKHOLED, PARKED, REASSIGNED = "domain-gone", "sinkholed", "parked", "reassigned"
IDENTITY_STATUSES = (SINKHOLED, PARKED, REASSIGNED, DOMAIN_GONE)
_PAGE_PARTS = ("title", "body_sha256")
_STREAK_KINDS = (("sinkhole", SINKHOLED), ("parking", PARKED))


@dataclass(frozen=True)
class Identity:
    """What identifies the server behind an answer (None: not known for that answer)."""

    cert_sha256: str | None = None
    server: str | None = None
    header_order: str | None = None
    jarm: str | None = None
    favicon_hash: int | None = None
    title: str | None = None
    body_sha256: str | None = None

    def as_dict(self) -> dict[str, Any]:
        # every field is a str or an int: no deep copy (dataclasses.asdict) needed
        return {name: value for name in _IDENTITY_FIELDS if (value := getattr(self, name)) is not None}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Identity:
        return cls(**{name: value for name, value in data.items() if name in _IDENTITY_FIELDS})


_IDENTITY_FIELDS = tuple(f.name for f in fields(Identity))


@dataclass(frozen=True)
class Sighting:
    """One observation of the destination: when, the HTTP status if it answered, its identity and evidence."""

    at: dt.datetime
    status: int | None = None
    identity: Identity | None = None
    evidence: Evidence = field(default_factory=Evidence)
    nxdomain: bool = False
    observer: str = ""

    @property
    def answered(self) -> bool:
        return self.status is not None and self.identity is not None


@dataclass(frozen=True)
class IdentityRules:
    """Thresholds (``[verdict]``): see docs/verdicts.md for the reasoning."""

    min_changes: int = 2
    stable_answers: int = 3
    stay: dt.timedelta = dt.timedelta(days=3)
    removal_window: dt.timedelta = dt.timedelta(days=30)
    min_sightings: int = 6
    alive_within: dt.timedelta = dt.timedelta(hours=24)

    @classmethod
    def from_settings(cls, settings: Settings) -> IdentityRules:
        """From ``[verdict]``: the removal window and silent cycles of ``dead`` apply to ``domain-gone`` too."""
        v = settings.verdict
        return cls(
            min_changes=v.identity_min_changes,
            stable_answers=v.identity_stable_answers,
            stay=dt.timedelta(days=v.identity_stay_days),
            removal_window=dt.timedelta(days=v.dead_days),
            min_sightings=v.min_silent_cycles,
            alive_within=dt.timedelta(hours=v.alive_hours),
        )


@dataclass(frozen=True)
class Judgement:
    """What the server is now, with its evidence."""

    status: str | None
    identity: str
    since: dt.datetime | None = None
    differing: tuple[str, ...] = ()
    framework: Match | None = None
    signature: Match | None = None
    reason: str = ""
    observers: tuple[str, ...] = ()
    answering_since: dt.datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "identity": self.identity,
            "since": None if self.since is None else self.since.astimezone(dt.UTC).isoformat(),
            "differing": list(self.differing),
            "framework": None if self.framework is None else self.framework.as_dict(),
            "signature": None if self.signature is None else self.signature.as_dict(),
            "reason": self.reason,
            "observers": list(self.observers),
            "answering_since": None if self.answering_since is None else self.answering_since.isoformat(),
        }


def differences(a: Identity, b: Identity, same_status: bool) -> tuple[str, ...]:
    """The parts known in both that differ (page parts only between answers of the same status code)."""
    names = [f.name for f in fields(Identity) if same_status or f.name not in _PAGE_PARTS]
    return tuple(n for n in names if None not in (x := getattr(a, n), y := getattr(b, n)) and x != y)


@dataclass(frozen=True)
class Point:
    """One answer as the track keeps it."""

    at: dt.datetime
    status: int | None
    identity: Identity
    observer: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "status": self.status,
            "identity": self.identity.as_dict(),
            "by": self.observer,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Point:
        status = data.get("status")
        return cls(
            dt.datetime.fromisoformat(str(data["at"])),
            status if isinstance(status, int) else None,
            Identity.from_dict(data.get("identity") or {}),
            str(data.get("by") or ""),
        )


def _differ(a: Point, b: Point, rules: IdentityRules, default_page: bool = False) -> tuple[str, ...]:
    """The differing parts when ``b`` is another server than ``a``; empty when it is the same."""
    parts = differences(a.identity, b.identity, a.status == b.status)
    enough = len(parts) >= rules.min_changes or (default_page and "cert_sha256" in parts)
    return parts if enough else ()


@dataclass
class Streak:
    """Consecutive sightings that pass one test (matching one rule, or NXDOMAIN)."""

    count: int = 0
    since: dt.datetime | None = None
    rule: str = ""
    table: int = 0
    observers: list[str] = field(default_factory=list)

    def extend(self, at: dt.datetime, observer: str, rule: str = "", table: int = 0) -> None:
        if self.count == 0 or rule != self.rule:
            self.count, self.since, self.rule, self.table, self.observers = 0, at, rule, table, []
        self.count += 1
        if observer and observer not in self.observers:
            self.observers.append(observer)

    def as_dict(self) -> dict[str, Any]:
        since = None if self.since is None else self.since.isoformat()
        return {"count": self.count, "since": since, "rule": self.rule, "table": self.table, "by": self.observers}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Streak:
        if not data:
            return cls()
        since = data.get("since")
        return cls(
            int(data.get("count", 0)),
            None if since is None else dt.datetime.fromisoformat(str(since)),
            str(data.get("rule", "")),
            int(data.get("table", 0)),
            [str(name) for name in data.get("by", [])],
        )


def _table_index(found: Match) -> int:
    return found.rule.match.index(found.table) if found.table in found.rule.match else 0


def _restore(signatures: Sequence[Rule], rule_id: str, table: int) -> Match | None:
    rule = next((r for r in signatures if r.id == rule_id), None)
    if rule is None or not rule.match:
        return None
    return Match(rule, rule.match[min(table, len(rule.match) - 1)])


@dataclass
class Track:
    """One destination's identity state, folded sighting by sighting; :meth:`as_dict` / :meth:`from_dict` keep it
    as JSON between refreshes. ``evidence`` is the caller's digest of the last sighting's evidence (empty when
    unknown, as in tracks stored before it was kept), for :meth:`repeat`."""

    baseline: Point | None = None
    pending: list[Point] = field(default_factory=list)
    run_first: Point | None = None
    run_last: Point | None = None
    run_count: int = 0
    run_is_baseline: bool = False
    run_observers: list[str] = field(default_factory=list)
    nxdomain: Streak = field(default_factory=Streak)
    streaks: dict[str, Streak] = field(default_factory=dict)
    framework: tuple[str, int] | None = None
    default_page: tuple[str, int] | None = None
    last_at: dt.datetime | None = None
    last_answer_at: dt.datetime | None = None
    answering_since: dt.datetime | None = None
    evidence: str = ""

    def add(self, sighting: Sighting, signatures: Sequence[Rule], rules: IdentityRules) -> None:
        """Fold one sighting (sightings must come in time order)."""
        self._seen(sighting.at, sighting.observer, sighting.status, sighting.nxdomain, rules)
        by_kind = _of_kinds(match(signatures, sighting.evidence))
        for kind, _ in _STREAK_KINDS:
            found = by_kind.get(kind)
            if found is None:
                self.streaks.pop(kind, None)
            else:
                self.streaks.setdefault(kind, Streak()).extend(
                    sighting.at, sighting.observer, found.rule.id, _table_index(found)
                )
        if sighting.answered:
            assert sighting.identity is not None
            framework, default_page = by_kind.get("c2-framework"), by_kind.get("default-page")
            self.framework = None if framework is None else (framework.rule.id, _table_index(framework))
            self.default_page = None if default_page is None else (default_page.rule.id, _table_index(default_page))
            self._place(Point(sighting.at, sighting.status, sighting.identity, sighting.observer), rules)

    def repeat(self, at: dt.datetime, observer: str, status: int | None, rules: IdentityRules) -> bool:
        """Fold a sighting whose evidence is the previous sighting's (the caller compares :attr:`evidence`): the
        signatures match what they matched then and the identity is the same, so only the times and the streaks
        move, as :meth:`add` would move them. False (nothing changed) when the track cannot tell: call
        :meth:`add`."""
        last = None if status is None else (self.run_last if self.baseline is not None else self._pending_last())
        if status is not None and (last is None or last.status != status):
            return False
        self._seen(at, observer, status, self.nxdomain.count > 0, rules)
        for streak in self.streaks.values():
            streak.extend(at, observer, streak.rule, streak.table)
        if last is not None:
            self._place(Point(at, last.status, last.identity, observer), rules)
        return True

    def _pending_last(self) -> Point | None:
        return self.pending[-1] if self.pending else None

    def _seen(self, at: dt.datetime, observer: str, status: int | None, nxdomain: bool, rules: IdentityRules) -> None:
        """The times and the NXDOMAIN streak, whatever the signatures say."""
        self.last_at = at
        if nxdomain:
            self.nxdomain.extend(at, observer)
        else:
            self.nxdomain = Streak()
        if status is not None:
            gap = self.last_answer_at is None or at - self.last_answer_at > rules.alive_within
            self.answering_since = at if gap else self.answering_since
            self.last_answer_at = at

    def _place(self, point: Point, rules: IdentityRules) -> None:
        """An answer joins the pending answers before a baseline, else the current run (or starts a new one)."""
        if self.baseline is None:
            self._seek_baseline(point, rules)
            return
        assert self.run_last is not None
        if _differ(self.run_last, point, rules, self.default_page is not None):
            self.run_first, self.run_count, self.run_is_baseline, self.run_observers = point, 0, False, []
        self.run_last = point
        self.run_count += 1
        if point.observer and point.observer not in self.run_observers:
            self.run_observers.append(point.observer)

    def _seek_baseline(self, point: Point, rules: IdentityRules) -> None:
        """The first answer that starts ``stable_answers`` answers of one identity becomes the baseline."""
        self.pending = [*self.pending, point][-rules.stable_answers :]
        if len(self.pending) < rules.stable_answers:
            return
        first = self.pending[0]
        if any(_differ(first, other, rules) for other in self.pending[1:]):
            return
        self.baseline, self.run_first, self.run_last = first, first, self.pending[-1]
        self.run_count, self.run_is_baseline = len(self.pending), True
        self.run_observers = sorted({p.observer for p in self.pending if p.observer})
        self.pending = []

    def judgement(self, signatures: Sequence[Rule], rules: IdentityRules) -> Judgement:
        """What the destination's server is now (and since when it has answered without a gap longer than
        ``alive_within``)."""
        found = (
            self._domain_gone(rules) or self._signature_status(signatures, rules) or self._identity(signatures, rules)
        )
        return replace(found, answering_since=self.answering_since)

    def _domain_gone(self, rules: IdentityRules) -> Judgement | None:
        streak = self.nxdomain
        if streak.count < rules.min_sightings or streak.since is None or self.last_at is None:
            return None
        if self.last_at - streak.since < rules.removal_window:
            return None
        reason = f"NXDOMAIN in the last {streak.count} sightings since {streak.since.isoformat()}"
        return Judgement(DOMAIN_GONE, "unknown", streak.since, reason=reason, observers=tuple(streak.observers))

    def _signature_status(self, signatures: Sequence[Rule], rules: IdentityRules) -> Judgement | None:
        for kind, status in _STREAK_KINDS:
            streak = self.streaks.get(kind)
            if streak is None or streak.count < rules.stable_answers:
                continue
            found = _restore(signatures, streak.rule, streak.table)
            if found is None:
                continue
            reason = f"{found.rule.name}: the last {streak.count} sightings match ({found.rule.source})"
            return Judgement(
                status, "changed", streak.since, signature=found, reason=reason, observers=tuple(streak.observers)
            )
        return None

    def _identity(self, signatures: Sequence[Rule], rules: IdentityRules) -> Judgement:
        framework = None if self.framework is None else _restore(signatures, *self.framework)
        if self.baseline is None or self.run_first is None or self.run_last is None:
            answers = len(self.pending)
            return Judgement(None, "unknown", framework=framework, reason=f"{answers} answer(s): too few to tell")
        same = Judgement(
            None,
            "same",
            self.baseline.at,
            framework=framework,
            reason="the identity first seen still answers",
            observers=tuple(self.run_observers),
        )
        if self.run_is_baseline:
            return same
        default_page = self.default_page is not None
        parts = _differ(self.baseline, self.run_last, rules, default_page)
        if not parts:  # the current run differs from the one before, not from the baseline
            return same
        since, stayed = self.run_first.at, self.run_count
        observers = tuple(self.run_observers)
        if framework is None and stayed >= rules.stable_answers and self.run_last.at - since >= rules.stay:
            reason = f"{', '.join(parts)} changed at {since.isoformat()} and stayed for {stayed} answers"
            page = None if self.default_page is None else _restore(signatures, *self.default_page)
            return Judgement(REASSIGNED, "changed", since, parts, signature=page, reason=reason, observers=observers)
        reason = f"{', '.join(parts)} changed at {since.isoformat()} ({stayed} answer(s) since)"
        return Judgement(None, "changed", since, parts, framework=framework, reason=reason, observers=observers)

    def as_dict(self) -> dict[str, Any]:
        def point(p: Point | None) -> dict[str, Any] | None:
            return None if p is None else p.as_dict()

        return {
            "baseline": point(self.baseline),
            "pending": [p.as_dict() for p in self.pending],
            "run": {
                "first": point(self.run_first),
                "last": point(self.run_last),
                "count": self.run_count,
                "is_baseline": self.run_is_baseline,
                "by": self.run_observers,
            },
            "nxdomain": self.nxdomain.as_dict(),
            "streaks": {kind: streak.as_dict() for kind, streak in self.streaks.items()},
            "framework": None if self.framework is None else list(self.framework),
            "default_page": None if self.default_page is None else list(self.default_page),
            "last_at": None if self.last_at is None else self.last_at.isoformat(),
            "last_answer_at": None if self.last_answer_at is None else self.last_answer_at.isoformat(),
            "answering_since": None if self.answering_since is None else self.answering_since.isoformat(),
            "evidence": self.evidence,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Track:
        def point(value: Any) -> Point | None:
            return Point.from_dict(value) if isinstance(value, Mapping) else None

        def pair(value: Any) -> tuple[str, int] | None:
            return (str(value[0]), int(value[1])) if isinstance(value, list) and len(value) == 2 else None

        run = data.get("run") or {}

        def when(name: str) -> dt.datetime | None:
            value = data.get(name)
            return None if value is None else dt.datetime.fromisoformat(str(value))

        return cls(
            baseline=point(data.get("baseline")),
            pending=[p for p in map(point, data.get("pending") or []) if p is not None],
            run_first=point(run.get("first")),
            run_last=point(run.get("last")),
            run_count=int(run.get("count", 0)),
            run_is_baseline=bool(run.get("is_baseline", False)),
            run_observers=[str(name) for name in run.get("by", [])],
            nxdomain=Streak.from_dict(data.get("nxdomain")),
            streaks={str(k): Streak.from_dict(v) for k, v in (data.get("streaks") or {}).items()},
            framework=pair(data.get("framework")),
            default_page=pair(data.get("default_page")),
            last_at=when("last_at"),
            last_answer_at=when("last_answer_at"),
            answering_since=when("answering_since"),
            evidence=str(data.get("evidence") or ""),
        )


def _of_kinds(found: Sequence[Match]) -> dict[str, Match]:
    by_kind: dict[str, Match] = {}
    for item in found:
        by_kind.setdefault(item.rule.kind, item)
    return by_kind


def judge(sightings: Sequence[Sighting], signatures: Sequence[Rule], rules: IdentityRules | None = None) -> Judgement:
    """What the destination's server is now, from its sightings (every observer's, in any order)."""
    rules = rules or IdentityRules()
    track = Track()
    for sighting in sorted(sightings, key=lambda s: s.at):
        track.add(sighting, signatures, rules)
    return track.judgement(signatures, rules)
