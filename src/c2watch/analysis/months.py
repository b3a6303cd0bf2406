"""Calendar months in the configured zone: parsing ``YYYY-MM``, their UTC bounds, and ranges of months.

>>> Month.parse("2021-03").bounds("Asia/Tokyo")[0].isoformat()
'2021-02-28T15:00:00+00:00'
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from c2watch.errors import C2WatchError, InputError

__all__ = ["Month", "MonthError", "MonthOutOfRangeError", "month_range"]

_PATTERN = re.compile(r"(\d{4})-(\d{2})")
FIRST_YEAR = 1970
LAST_YEAR = 9998


class MonthError(InputError):
    """A month that is not ``YYYY-MM`` with a month 01-12 and a year 1970-9998."""


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month; its bounds depend on the zone it is read in."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        """Parse ``YYYY-MM``; raise :class:`MonthError` saying what is wrong."""
        match = _PATTERN.fullmatch(text.strip()) if isinstance(text, str) else None
        if match is None:
            raise MonthError(f"a month is written YYYY-MM, got {text!r}")
        year, month = int(match[1]), int(match[2])
        if not 1 <= month <= 12:
            raise MonthError(f"month {text!r} is out of range: the month must be 01-12")
        if not FIRST_YEAR <= year <= LAST_YEAR:
            raise MonthError(f"month {text!r} is out of range: the year must be {FIRST_YEAR}-{LAST_YEAR}")
        return cls(year, month)

    @classmethod
    def of(cls, when: dt.datetime, zone: str) -> Month:
        """The month holding the instant ``when`` in ``zone``."""
        local = when.astimezone(ZoneInfo(zone))
        return cls(local.year, local.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def next(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> Month:
        return Month(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    def start(self, zone: str) -> dt.datetime:
        """The first instant of the month in ``zone``, in UTC."""
        return dt.datetime(self.year, self.month, 1, tzinfo=ZoneInfo(zone)).astimezone(dt.UTC)

    def bounds(self, zone: str) -> tuple[dt.datetime, dt.datetime]:
        """``[start, end)`` of the month in ``zone``, in UTC."""
        return self.start(zone), self.next().start(zone)


def month_range(first: Month, last: Month) -> Iterator[Month]:
    """Every month from ``first`` to ``last``, both included."""
    month = first
    while month <= last:
        yield month
        month = month.next()


class MonthOutOfRangeError(C2WatchError):
    """A well-formed month outside the span of a threat's (or destination's) observations."""

    exit_code = 2
