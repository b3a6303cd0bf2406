from __future__ import annotations

import datetime as dt

from c2watch.analysis import LocalClock, reactivations
from c2watch.store import Scope, Store
from tests.helpers.seed import JST


def test_dormant_then_reactivated(store: Store, seeded: dict[str, list[int]]) -> None:
    found = reactivations(store, Scope(threat="X"))
    assert len(found) == 1
    event = found[0]
    assert event.target_pk == seeded["X"][1]
    assert event.last_answer_at == dt.datetime(2021, 1, 4, 20, tzinfo=JST)
    assert event.reactivated_at == dt.datetime(2021, 1, 20, tzinfo=JST)
    assert (event.silent_observations, event.dormant_days, event.http_status) == (180, 15.2, 200)
    assert event.as_dict(LocalClock("Asia/Tokyo"))["reactivated_at"] == "2021-01-20T00:00:00+09:00"


def test_thresholds(store: Store, seeded: dict[str, list[int]]) -> None:
    assert reactivations(store, Scope(threat="X"), min_gap=dt.timedelta(days=16)) == []
    assert reactivations(store, Scope(threat="X"), min_silent=181) == []


def test_alternating_answers_are_dormancy_only_with_thresholds_that_small(
    store: Store, seeded: dict[str, list[int]]
) -> None:
    assert reactivations(store, Scope(threat="Y")) == []
    assert reactivations(store, Scope(threat="Y"), min_gap=dt.timedelta(hours=9), min_silent=1) == []
    assert len(reactivations(store, Scope(threat="Y"), min_gap=dt.timedelta(hours=8), min_silent=1)) == 56
    assert len(reactivations(store, Scope(), min_gap=dt.timedelta(hours=8), min_silent=1)) == 57
