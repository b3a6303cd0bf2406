"""Instants shown in the configured zone, formatted fast enough for tens of thousands of chart points."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo

__all__ = ["LocalClock"]

_EPOCH = dt.datetime(1970, 1, 1)
_QUARTER_HOUR = 900  # zone offsets change on quarter-hour boundaries


class LocalClock:
    """Formats UTC instants in ``zone``; offsets are cached per quarter hour and texts per second.

    >>> LocalClock("Asia/Tokyo").text(0)
    '1970-01-01 09:00:00'
    """

    def __init__(self, zone: str) -> None:
        self.zone = zone
        self.tz = ZoneInfo(zone)
        self._offsets: dict[int, int] = {}
        self._texts: dict[int, str] = {}

    def offset(self, epoch: int) -> int:
        """The zone's UTC offset in seconds at ``epoch``."""
        key = epoch // _QUARTER_HOUR
        found = self._offsets.get(key)
        if found is None:
            delta = dt.datetime.fromtimestamp(key * _QUARTER_HOUR, self.tz).utcoffset()
            found = self._offsets[key] = int(delta.total_seconds()) if delta else 0
        return found

    def text(self, epoch: int) -> str:
        """``YYYY-MM-DD HH:MM:SS`` in the zone (what plotly reads as a date)."""
        found = self._texts.get(epoch)
        if found is None:
            local = _EPOCH + dt.timedelta(seconds=epoch + self.offset(epoch))
            found = self._texts[epoch] = local.isoformat(sep=" ")
        return found

    def texts(self, epochs: Sequence[int]) -> list[str]:
        """:meth:`text` of many instants (each distinct one formatted once)."""
        known = {epoch: self.text(epoch) for epoch in set(epochs)}
        return [known[epoch] for epoch in epochs]

    def show(self, when: dt.datetime | None) -> str | None:
        """``YYYY-MM-DD HH:MM`` in the zone, for tables; ``None`` stays ``None``."""
        return None if when is None else when.astimezone(self.tz).strftime("%Y-%m-%d %H:%M")

    def iso(self, when: dt.datetime | None) -> str | None:
        """ISO 8601 with the zone's offset, for JSON."""
        return None if when is None else when.astimezone(self.tz).isoformat()
