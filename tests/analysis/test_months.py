from __future__ import annotations

import datetime as dt

import pytest

from c2watch.analysis.localtime import LocalClock
from c2watch.analysis.months import Month, MonthError, month_range


def test_parse_and_show() -> None:
    assert Month.parse("2021-03") == Month(2021, 3)
    assert str(Month(2021, 3)) == "2021-03"
    assert Month(2020, 12).next() == Month(2021, 1)
    assert Month(2021, 1).previous() == Month(2020, 12)


@pytest.mark.parametrize(
    "text", ["2021-3", "21-03", "2021/03", "2021-03-01", "", "abcd-ef", " 2021-13", "2021-00", "1969-12", "9999-01"]
)
def test_bad_months_are_refused_with_the_reason(text: str) -> None:
    with pytest.raises(MonthError, match=r"YYYY-MM|out of range"):
        Month.parse(text)


def test_bounds_are_read_in_the_zone() -> None:
    start, end = Month.parse("2021-03").bounds("Asia/Tokyo")
    assert start == dt.datetime(2021, 2, 28, 15, tzinfo=dt.UTC)
    assert end == dt.datetime(2021, 3, 31, 15, tzinfo=dt.UTC)
    assert Month.of(dt.datetime(2021, 2, 28, 15, tzinfo=dt.UTC), "Asia/Tokyo") == Month(2021, 3)
    assert Month.of(dt.datetime(2021, 2, 28, 15, tzinfo=dt.UTC), "UTC") == Month(2021, 2)


def test_bounds_follow_daylight_saving_time() -> None:
    start, end = Month.parse("2021-03").bounds("Europe/Berlin")
    assert start.hour == 23 and (end - start) == dt.timedelta(days=31) - dt.timedelta(hours=1)


def test_month_range_includes_both_ends() -> None:
    assert [str(m) for m in month_range(Month(2020, 11), Month(2021, 2))] == [
        "2020-11",
        "2020-12",
        "2021-01",
        "2021-02",
    ]


def test_local_clock_formats_in_the_zone_and_across_a_dst_change() -> None:
    tokyo = LocalClock("Asia/Tokyo")
    assert tokyo.text(int(dt.datetime(2021, 1, 31, 15, tzinfo=dt.UTC).timestamp())) == "2021-02-01 00:00:00"
    berlin = LocalClock("Europe/Berlin")
    before = int(dt.datetime(2021, 3, 28, 0, 59, tzinfo=dt.UTC).timestamp())
    assert berlin.text(before) == "2021-03-28 01:59:00"
    assert berlin.text(before + 60) == "2021-03-28 03:00:00"
    assert tokyo.show(dt.datetime(2021, 1, 1, tzinfo=dt.UTC)) == "2021-01-01 09:00"
    assert tokyo.iso(None) is None
