from __future__ import annotations

import datetime as dt

from c2watch.analysis import LocalClock, status_histories
from c2watch.analysis.transitions import phases
from c2watch.store import Scope, Store
from c2watch.store.queries import Run
from tests.helpers.seed import JST


def run(state: int, day: int, count: int) -> Run:
    start = dt.datetime(2021, 1, day, tzinfo=dt.UTC)
    return Run(1, 1, state, start, start + dt.timedelta(hours=4 * (count - 1)), count)


def test_short_phases_are_noise_and_equal_neighbours_merge() -> None:
    runs = [run(200, 1, 30), run(-1, 6, 1), run(200, 7, 10), run(404, 10, 12), run(500, 13, 2), run(404, 14, 5)]
    assert [p.label for p in phases(runs)] == ["200", "none", "200", "404", "500", "404"]
    merged = phases(runs, min_run=3)
    assert [(p.label, p.observations) for p in merged] == [("200", 40), ("404", 17)]
    assert merged[0].last_at == runs[2].last_at


def test_status_paths_per_destination_and_observer(store: Store, seeded: dict[str, list[int]]) -> None:
    d0, d1, d2 = seeded["X"]
    histories = status_histories(store, Scope(threat="X"))
    assert len(histories) == 6
    paths = {(h.target_pk, h.observer): h.path for h in histories}
    assert paths[d0, "obs-0"] == paths[d0, "obs-1"] == "200 → 404 → 500"
    assert paths[d1, "obs-0"] == "200 → none → 200"
    assert paths[d2, "obs-1"] == "none"
    gate = next(h for h in histories if h.target_pk == d0)
    assert [(t.before, t.after, t.at) for t in gate.transitions] == [
        ("200", "404", dt.datetime(2021, 2, 1, tzinfo=JST)),
        ("404", "500", dt.datetime(2021, 2, 15, tzinfo=JST)),
    ]
    as_dict = gate.as_dict(LocalClock("Asia/Tokyo"))
    assert as_dict["transitions"][0] == {"from": "200", "to": "404", "at": "2021-02-01T00:00:00+09:00"}
    assert as_dict["phases"][0]["observations"] == 186


def test_scope_limits_the_runs(store: Store, seeded: dict[str, list[int]]) -> None:
    feb = Scope(threat="X", start=dt.datetime(2021, 2, 1, tzinfo=JST), end=dt.datetime(2021, 3, 1, tzinfo=JST))
    paths = {h.target_pk: h.path for h in status_histories(store, feb)}
    assert paths[seeded["X"][0]] == "404 → 500" and paths[seeded["X"][1]] == "200"
