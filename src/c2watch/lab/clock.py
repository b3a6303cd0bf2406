"""Clocks for the lab: the real UTC clock, and a fake one that tests move by hand."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

__all__ = ["Clock", "FakeClock", "utc_now"]

#: Returns the current time, timezone-aware.
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The real current time in UTC."""
    return datetime.now(UTC)


class FakeClock:
    """A clock that only moves when told to: ``clock.advance(hours=4)`` or ``clock.set(when)``."""

    def __init__(self, start: datetime) -> None:
        self._now = _aware(start)

    def __call__(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> None:
        self._now = _aware(when)

    def advance(self, delta: timedelta | None = None, **parts: float) -> datetime:
        """Move forward by ``delta`` or by ``timedelta(**parts)``; return the new time."""
        self._now += delta if delta is not None else timedelta(**parts)
        return self._now


def _aware(when: datetime) -> datetime:
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"a lab clock needs a timezone-aware datetime, got {when!r}")
    return when.astimezone(UTC)
