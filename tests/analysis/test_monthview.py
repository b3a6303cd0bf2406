from __future__ import annotations

import pytest

from c2watch.analysis import Month, MonthOutOfRangeError, destination_history, month_view
from c2watch.analysis.destination import UnknownDestinationError
from c2watch.errors import UnknownThreatError
from c2watch.store import Store
from tests.helpers.seed import add_threat


def test_month_view(store: Store, seeded: dict[str, list[int]]) -> None:
    view = month_view(store, "Asia/Tokyo", "X", Month(2021, 2))
    assert [str(m) for m in view.months] == ["2021-01", "2021-02"]
    assert len(view.traces) == 3 * 2
    assert {(t.destination.split("/")[2], t.observer) for t in view.traces} >= {("127.0.88.1:8080", "obs-1")}
    assert all(len(t.times) == 168 for t in view.traces)
    assert view.traces[0].times[:2] == ["2021-02-01 00:00:00", "2021-02-01 04:00:00"]
    assert view.pie == {"200": 336, "404": 168, "500": 168, "none": 336}
    d0, d1, d2 = view.destinations
    assert (d0.observations, d0.rate, d0.changes, d0.codes, d0.last_status) == (336, 100.0, 2, ["404", "500"], 500)
    assert (d1.rate, d1.changes, d1.codes) == (100.0, 0, ["200"])
    assert (d2.rate, d2.last_answer_at, d2.codes) == (0.0, None, ["none"])
    data = view.as_dict()
    assert data["month"] == "2021-02" and data["zone"] == "Asia/Tokyo"
    assert data["destinations"][0]["last_answer_at"] == "2021-02-28T20:00:00+09:00"


def test_default_month_is_the_latest_and_traces_can_be_left_out(store: Store, seeded: dict[str, list[int]]) -> None:
    view = month_view(store, "Asia/Tokyo", "X", with_traces=False)
    assert view.month == Month(2021, 2) and view.traces == [] and view.pie


def test_errors(store: Store, seeded: dict[str, list[int]]) -> None:
    with pytest.raises(UnknownThreatError):
        month_view(store, "Asia/Tokyo", "NOPE")
    with pytest.raises(MonthOutOfRangeError, match="2021-01 … 2021-02"):
        month_view(store, "Asia/Tokyo", "X", Month(2021, 3))
    add_threat(store, "EMPTY", 1)
    assert month_view(store, "Asia/Tokyo", "EMPTY").month is None
    with pytest.raises(MonthOutOfRangeError, match="none yet"):
        month_view(store, "Asia/Tokyo", "EMPTY", Month(2021, 1))


def test_destination_history(store: Store, seeded: dict[str, list[int]]) -> None:
    history = destination_history(store, "Asia/Tokyo", seeded["X"][1])
    assert len(history.traces) == 2 and len(history.traces[0].times) == 186 + 168
    assert {m: c.rate for m, c in history.months.items()} == {"2021-01": 51.6, "2021-02": 100.0}
    assert [h.path for h in history.histories] == ["200 → none → 200"] * 2
    assert len(history.reactivations) == 1
    data = history.as_dict()
    assert data["threat_id"] == "X" and data["destination"].endswith(":8080/gate.php")
    with pytest.raises(UnknownDestinationError):
        destination_history(store, "Asia/Tokyo", 10_000)
