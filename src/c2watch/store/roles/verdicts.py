"""The verdicts role: per-observer answer summaries folded from the observations, the streaks, changes and revivals
the verdicts rest on, and the verdicts themselves (SQL in :mod:`c2watch.store.verdicts`,
:mod:`c2watch.store.windows` and :mod:`c2watch.store.events`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Protocol

from c2watch.identity import Rule
from c2watch.identity.judge import IdentityRules, Track
from c2watch.models import Target
from c2watch.store import answers as _answers
from c2watch.store import dashboard as _dashboard
from c2watch.store import events as _events
from c2watch.store import identities as _identities
from c2watch.store import verdicts as _verdicts
from c2watch.store import windows as _windows
from c2watch.store.database import Database

__all__ = ["VerdictLike", "Verdicts"]


class VerdictLike(Protocol):
    """What is stored of a verdict (:class:`c2watch.analysis.verdicts.Verdict`)."""

    @property
    def target(self) -> Target: ...

    @property
    def status(self) -> str: ...

    @property
    def last_answer_at(self) -> dt.datetime | None: ...

    @property
    def since(self) -> dt.datetime | None: ...

    def evidence(self) -> dict[str, Any]: ...


class Verdicts:
    def __init__(self, db: Database) -> None:
        self.db = db

    def fold_summaries(self, now: dt.datetime | None = None) -> int:
        """Fold the observations stored since the last call into the per-observer answer summaries; returns how
        many. The aggregation is read without a write lock; the result is written in a short transaction that
        moves the watermark by compare-and-set, so concurrent callers never fold a row twice."""
        now = self.db.now(now)
        with self.db.begin() as conn:
            top = _answers.safe_top(conn)
        while True:
            with self.db.begin() as conn:
                mark = _answers.watermark(conn, now)
            if mark >= top:
                return 0
            with self.db.connect() as conn:
                plan = _verdicts.plan_fold(conn, mark, top)
            with self.db.begin() as conn:
                folded = _verdicts.apply_fold(conn, plan, now)
            if folded is not None:
                return folded

    def fold_identities(self, signatures: Sequence[Rule], rules: IdentityRules, now: dt.datetime | None = None) -> int:
        """Fold the observations stored since the last call into each destination's identity track; returns how
        many (see :mod:`c2watch.store.identities`)."""
        now = self.db.now(now)
        total = 0
        while True:
            folded = _identities.fold_page(self.db, signatures, rules, now)
            if folded == 0:
                return total
            total += folded or 0

    def identity_tracks(self, target_pks: Sequence[int] | None = None) -> dict[int, Track]:
        with self.db.connect() as conn:
            return _identities.tracks(conn, target_pks)

    def answer_summaries(
        self, target_pks: Sequence[int] | None = None, span: _answers.Span | None = None
    ) -> list[_answers.Summary]:
        with self.db.connect() as conn:
            return _verdicts.summaries(conn, target_pks, span)

    def healthy_windows(
        self, since: dt.datetime, now: dt.datetime, probes: Sequence[str], origin: int, window_seconds: int
    ) -> list[tuple[int, int]]:
        with self.db.connect() as conn:
            return _windows.healthy_windows(conn, since, now, probes, origin, window_seconds)

    def blocking_streaks(
        self,
        since: dt.datetime,
        now: dt.datetime,
        probes: Sequence[str],
        origin: int,
        window_seconds: int,
        threat: str | None = None,
        span: _answers.Span | None = None,
        healthy: Sequence[tuple[int, int]] | None = None,
    ) -> list[_windows.Streak]:
        with self.db.connect() as conn:
            return _windows.blocking_streaks(conn, since, now, probes, origin, window_seconds, threat, span, healthy)

    def changes(
        self,
        since: dt.datetime,
        now: dt.datetime,
        ttl_tolerance: int,
        threat: str | None = None,
        span: _answers.Span | None = None,
    ) -> list[_windows.Change]:
        with self.db.connect() as conn:
            return _windows.changes(conn, since, now, ttl_tolerance, threat, span)

    def revival_candidates(
        self,
        since: dt.datetime,
        now: dt.datetime,
        probes: Sequence[str],
        min_silent: int,
        threat: str | None = None,
        span: _answers.Span | None = None,
    ) -> list[_windows.Revival]:
        with self.db.connect() as conn:
            return _windows.revival_candidates(conn, since, now, probes, min_silent, threat, span)

    def last_answers_before(
        self, target_pks: Sequence[int], before: dt.datetime, probes: Sequence[str]
    ) -> dict[int, dt.datetime]:
        if not target_pks:
            return {}
        with self.db.connect() as conn:
            return _windows.last_answers_before(conn, target_pks, before, probes)

    def save(self, verdicts: Sequence[VerdictLike], now: dt.datetime | None = None) -> dict[int, dt.datetime]:
        """Store the verdicts; returns each one's ``since`` (the verdict's own, from its evidence, when it has
        one)."""
        rows = [(v.target.id, v.status, v.last_answer_at, v.evidence(), v.since) for v in verdicts]
        with self.db.begin() as conn:
            return _events.save_verdicts(conn, rows, self.db.now(now))

    def stored(self, threat: str | None = None) -> list[_events.StoredVerdict]:
        with self.db.connect() as conn:
            return _events.stored_verdicts(conn, threat)

    def counts(self) -> list[_dashboard.VerdictCount]:
        with self.db.connect() as conn:
            return _dashboard.verdict_counts(conn)
