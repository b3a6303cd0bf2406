from __future__ import annotations

import pytest

from c2watch.analysis import Month, correlations, phi
from c2watch.store import Store


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        ((10, 0, 0, 10), 1.0),
        ((0, 10, 10, 0), -1.0),
        ((5, 5, 5, 5), 0.0),
        ((10, 0, 0, 0), None),
        ((20, 10, 5, 15), 0.408),
    ],
)
def test_phi(cells: tuple[int, int, int, int], expected: float | None) -> None:
    assert phi(*cells) == expected


def test_correlation_per_destination_and_month(store: Store, seeded: dict[str, list[int]]) -> None:
    d0, d1, d2 = seeded["X"]
    found = {(c.target_pk, c.month): c for c in correlations(store, "Asia/Tokyo", "X")}
    assert set(found) == {(t, m) for t in (d0, d1, d2) for m in ("2021-01", "2021-02")}
    silent_gap = found[d1, "2021-01"]
    assert (silent_gap.both, silent_gap.http_only, silent_gap.ping_only, silent_gap.neither) == (192, 0, 0, 180)
    assert silent_gap.phi == 1.0 and silent_gap.agreement == 1.0
    ping_only = found[d2, "2021-02"]
    assert (ping_only.ping_only, ping_only.agreement, ping_only.phi) == (336, 0.0, None)
    assert ping_only.as_dict()["observations"] == 336


def test_one_month_and_no_ping_data(store: Store, seeded: dict[str, list[int]]) -> None:
    assert {c.month for c in correlations(store, "Asia/Tokyo", "X", Month(2021, 2))} == {"2021-02"}
    assert correlations(store, "Asia/Tokyo", "Y") == []  # Y has no ping results: nothing to correlate
