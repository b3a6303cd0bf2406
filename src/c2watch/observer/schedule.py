"""Anchored-interval slots: every ``interval`` from ``anchor`` in ``zone`` (default every 4 h from 00:00:00 JST).

Slots are computed in absolute time from the anchor on 2000-01-01 in the zone, so they never drift, and a clock
that jumps (suspend, NTP) maps to the right slot.

Anti-fingerprinting: a cycle starts :meth:`Schedule.stagger` after its slot (a stable offset derived from the
observer's name, so observers do not arrive together) plus :meth:`Schedule.jitter` (random, so no fixed
period is visible). Together they stay inside the first half of the slot.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from c2watch.config import ScheduleSettings

__all__ = ["Schedule"]


@dataclass(frozen=True)
class Schedule:
    interval: dt.timedelta
    origin: dt.datetime
    jitter_seconds: float = 0.0
    stagger_seconds: float = 0.0

    @classmethod
    def from_settings(cls, settings: ScheduleSettings) -> Schedule:
        anchor = dt.time.fromisoformat(settings.anchor)
        origin = dt.datetime.combine(dt.date(2000, 1, 1), anchor, tzinfo=ZoneInfo(settings.zone))
        interval = dt.timedelta(minutes=settings.interval_minutes)
        return cls(interval, origin, settings.jitter_seconds, settings.stagger_seconds)

    def _scale(self) -> float:
        """Stagger and jitter are scaled down together when they would reach past half of the slot."""
        total = self.jitter_seconds + self.stagger_seconds
        limit = self.interval.total_seconds() / 2
        return limit / total if total > limit else 1.0

    def slot_at_or_before(self, when: dt.datetime) -> dt.datetime:
        """The latest slot that has started at ``when``."""
        steps = (when - self.origin) // self.interval
        return (self.origin + steps * self.interval).astimezone(dt.UTC)

    def next_slot_after(self, when: dt.datetime) -> dt.datetime:
        return self.slot_at_or_before(when) + self.interval

    def jitter(self, rng: random.Random) -> dt.timedelta:
        """A random delay inside the slot so that no fixed period is visible to the destinations."""
        if not self.jitter_seconds:
            return dt.timedelta()
        return dt.timedelta(seconds=rng.uniform(0, self.jitter_seconds * self._scale()))

    def stagger(self, observer: str) -> dt.timedelta:
        """This observer's fixed offset inside every slot, derived from its name (the same on every run)."""
        fraction = int.from_bytes(hashlib.sha256(observer.encode("utf-8")).digest()[:8], "big") / 2**64
        return dt.timedelta(seconds=round(fraction * self.stagger_seconds * self._scale(), 3))
