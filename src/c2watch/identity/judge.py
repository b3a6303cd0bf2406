"""Is it still the attacker's server? One destination's sightings over time judged for what the server is now.

The liveness verdict (alive, dormant, dead …) says whether something answers; this says *what* answers:

- ``domain-gone``: the name has answered NXDOMAIN in every sighting for the removal window;
- ``sinkholed``: the latest sightings match a sinkhole signature (the address, the name servers, PTR or CNAME);
- ``parked``: the latest sightings match a parking signature;
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
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields

from c2watch.identity.evidence import Evidence
from c2watch.identity.match import Match, match
from c2watch.identity.rules import Rule

__all__ = [
    "DOMAIN_GONE",
    "PARKED",
    "REASSIGNED",
    "SINKHOLED",
    "Identity",
    "IdentityRules",
    "Judgement",
    "Sighting",
    "judge",
]

DOMAIN_GONE, SINKHOLED, PARKED, REASSIGNED = "domain-gone", "sinkholed", "parked", "reassigned"
_PAGE_PARTS = ("title", "body_sha256")


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


@dataclass(frozen=True)
class Sighting:
    """One observation of the destination: when, the HTTP status if it answered, its identity and evidence."""

    at: dt.datetime
    status: int | None = None
    identity: Identity | None = None
    evidence: Evidence = field(default_factory=Evidence)
    nxdomain: bool = False

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


def differences(a: Identity, b: Identity, same_status: bool) -> tuple[str, ...]:
    """The parts known in both that differ (page parts only between answers of the same status code)."""
    names = [f.name for f in fields(Identity) if same_status or f.name not in _PAGE_PARTS]
    return tuple(n for n in names if None not in (x := getattr(a, n), y := getattr(b, n)) and x != y)


def _differ(a: Sighting, b: Sighting, rules: IdentityRules, default_page: bool = False) -> tuple[str, ...]:
    """The differing parts when ``b`` is another server than ``a``; empty when it is the same."""
    assert a.identity is not None and b.identity is not None
    parts = differences(a.identity, b.identity, a.status == b.status)
    enough = len(parts) >= rules.min_changes or (default_page and "cert_sha256" in parts)
    return parts if enough else ()


def _first_stable(answers: Sequence[Sighting], rules: IdentityRules) -> int | None:
    """Index of the first answer that starts a run of ``stable_answers`` answers of one identity."""
    need = rules.stable_answers
    for start in range(len(answers) - need + 1):
        if not any(_differ(answers[start], other, rules) for other in answers[start + 1 : start + need]):
            return start
    return None


def _latest_run(answers: Sequence[Sighting], rules: IdentityRules, kinds: dict[int, bool]) -> int:
    """Index of the first answer of the latest run of one identity (the current server)."""
    start = len(answers) - 1
    while start > 0 and not _differ(answers[start - 1], answers[-1], rules, kinds.get(len(answers) - 1, False)):
        start -= 1
    return start


def _of_kind(found: Sequence[Match], kind: str) -> Match | None:
    return next((m for m in found if m.rule.kind == kind), None)


def _streak(sightings: Sequence[Sighting], test: Callable[[Sighting], bool]) -> int:
    """How many of the latest sightings pass ``test`` in a row."""
    count = 0
    for sighting in reversed(sightings):
        if not test(sighting):
            break
        count += 1
    return count


def _domain_gone(sightings: Sequence[Sighting], rules: IdentityRules) -> Judgement | None:
    count = _streak(sightings, lambda s: s.nxdomain)
    if count < rules.min_sightings:
        return None
    first = sightings[-count]
    if sightings[-1].at - first.at < rules.removal_window:
        return None
    return Judgement(DOMAIN_GONE, "unknown", first.at, reason=f"NXDOMAIN in the last {count} sightings")


def _signature_status(
    sightings: Sequence[Sighting], signatures: Sequence[Rule], rules: IdentityRules
) -> Judgement | None:
    """Sinkholed or parked: the latest sightings (at least ``stable_answers`` of them) all match one such rule."""
    latest = [_of_kinds(match(signatures, s.evidence)) for s in sightings[-rules.stable_answers :]]
    if len(latest) < rules.stable_answers:
        return None
    for kind, status in (("sinkhole", SINKHOLED), ("parking", PARKED)):
        found = [by_kind.get(kind) for by_kind in latest]
        rule_match = found[-1]
        if rule_match is not None and all(found) and len({m.rule.id for m in found if m}) == 1:
            count = _streak(sightings, _matches_kind(signatures, kind))
            return Judgement(status, "changed", sightings[-count].at, signature=rule_match, reason=rule_match.rule.name)
    return None


def _matches_kind(signatures: Sequence[Rule], kind: str) -> Callable[[Sighting], bool]:
    return lambda sighting: _of_kind(match(signatures, sighting.evidence), kind) is not None


def _of_kinds(found: Sequence[Match]) -> dict[str, Match]:
    by_kind: dict[str, Match] = {}
    for item in found:
        by_kind.setdefault(item.rule.kind, item)
    return by_kind


def judge(sightings: Sequence[Sighting], signatures: Sequence[Rule], rules: IdentityRules | None = None) -> Judgement:
    """What the destination's server is now, from its sightings (oldest first, every observer's)."""
    rules = rules or IdentityRules()
    ordered = sorted(sightings, key=lambda s: s.at)
    special = _domain_gone(ordered, rules) or _signature_status(ordered, signatures, rules)
    if special is not None:
        return special
    return _identity(ordered, signatures, rules)


def _identity(ordered: Sequence[Sighting], signatures: Sequence[Rule], rules: IdentityRules) -> Judgement:
    answers = [s for s in ordered if s.answered]
    baseline = _first_stable(answers, rules)
    found = match(signatures, answers[-1].evidence) if answers else []
    framework = _of_kind(found, "c2-framework")
    if baseline is None:
        return Judgement(None, "unknown", framework=framework, reason=f"{len(answers)} answer(s): too few to tell")
    default_page = {len(answers) - 1: _of_kind(found, "default-page") is not None}
    current = _latest_run(answers, rules, default_page)
    if current <= baseline:
        return Judgement(None, "same", answers[baseline].at, framework=framework)
    parts = _differ(answers[baseline], answers[-1], rules, default_page[len(answers) - 1])
    if not parts:  # the run start moved back to an answer too close to tell: treat as the same server
        return Judgement(None, "same", answers[baseline].at, framework=framework)
    since, stayed = answers[current].at, len(answers) - current
    if framework is None and stayed >= rules.stable_answers and answers[-1].at - since >= rules.stay:
        reason = f"{', '.join(parts)} changed at {since.isoformat()} and stayed for {stayed} answers"
        return Judgement(REASSIGNED, "changed", since, parts, signature=_of_kind(found, "default-page"), reason=reason)
    return Judgement(None, "changed", since, parts, framework=framework)
