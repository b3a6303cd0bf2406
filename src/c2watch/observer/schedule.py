"""Anchored-interval slots: every ``interval`` from ``anchor`` in ``zone`` (default every 4 h from 00:00:00 JST).

Slots are computed in absolute time from the anchor on 2000-01-01 in the zone, so they never drift, and a clock
that jumps (suspend, NTP) maps to the right slot.
"""

from __future__ import annotations

import datetime as dt
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

    @classmethod
    def from_settings(cls, settings: ScheduleSettings) -> Schedule:
        anchor = dt.time.fromisoformat(settings.anchor)
        origin = dt.datetime.combine(dt.date(2000, 1, 1), anchor, tzinfo=ZoneInfo(settings.zone))
        return cls(dt.timedelta(minutes=settings.interval_minutes), origin, settings.jitter_seconds)

    def slot_at_or_before(self, when: dt.datetime) -> dt.datetime:
        """The latest slot that has started at ``when``."""
        steps = (when - self.origin) // self.interval
        return (self.origin + steps * self.interval).astimezone(dt.UTC)

    def next_slot_after(self, when: dt.datetime) -> dt.datetime:
        return self.slot_at_or_before(when) + self.interval

    def jitter(self, rng: random.Random) -> dt.timedelta:
        """A random delay inside the slot so that no fixed period is visible to the destinations."""
        return dt.timedelta(seconds=rng.uniform(0, self.jitter_seconds)) if self.jitter_seconds else dt.timedelta()
