from __future__ import annotations

import pytest

from c2watch.analysis import monthly_report
from c2watch.errors import UnknownThreatError
from c2watch.store import Store


def test_monthly_rates_per_threat(store: Store, seeded: dict[str, list[int]]) -> None:
    report = monthly_report(store, "Asia/Tokyo")
    assert report.months == ["2021-01", "2021-02"]
    assert report.header() == ["threat ID", "reported", "2021-01", "2021-02"]
    assert report.rows() == [["X", "2020-10", "50.5", "66.7"], ["Y", "2021-01", "-", "33.9"]]
    x = report.threats[0]
    assert (x.cells["2021-01"].observations, x.cells["2021-01"].answered) == (1116, 564)
    assert (x.cells["2021-02"].observations, x.cells["2021-02"].answered) == (1008, 672)


def test_months_are_read_in_the_configured_zone(store: Store, seeded: dict[str, list[int]]) -> None:
    report = monthly_report(store, "UTC")
    assert report.months == ["2020-12", "2021-01", "2021-02"]  # 00:00-08:59 JST on Jan 1 is still December in UTC
    assert report.threats[0].cells["2020-12"].observations == 3 * 3 * 2  # slots 00:00, 04:00, 08:00 JST


def test_one_threat(store: Store, seeded: dict[str, list[int]]) -> None:
    as_dict = monthly_report(store, "Asia/Tokyo", "Y").as_dict()
    assert as_dict["months"] == ["2021-02"]
    assert as_dict["threats"] == [
        {
            "threat_id": "Y",
            "reported_on": "2021-01-15",
            "months": {"2021-02": {"observations": 168, "answered": 57, "rate": 33.9}},
        }
    ]


def test_unknown_threat(store: Store, seeded: dict[str, list[int]]) -> None:
    with pytest.raises(UnknownThreatError, match="NOPE"):
        monthly_report(store, "Asia/Tokyo", "NOPE")


def test_empty_store(store: Store) -> None:
    report = monthly_report(store, "Asia/Tokyo")
    assert report.months == [] and report.threats == []
