"""The paper's Table 1, reproduced by real cycles against the lab over a fast-forwarded clock (~2.5 min)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from c2watch.analysis import monthly_report, reactivations, status_histories
from c2watch.lab import Scenario
from c2watch.lab.trial import TABLE1, TABLE1_MONTHS, load_trial, run_trial, trial_settings
from c2watch.store import Scope, Store, open_store

SCENARIO = Path(__file__).parents[2] / "examples" / "table1" / "scenario.toml"


@pytest.fixture(scope="module")
def trial_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    data = tmp_path_factory.mktemp("table1")
    loaded = load_trial(SCENARIO)
    assert len(loaded.scenario) == 47
    free_ports = Scenario([replace(d, port=0) for d in loaded.scenario], seed=loaded.scenario.seed)
    trial = replace(loaded, scenario=free_ports)  # port 0: parallel test runs on one machine do not collide
    store = open_store(data / "c2watch.db")
    cycles = asyncio.run(run_trial(store, trial_settings(trial), data, trial))
    assert cycles == (31 + 28 + 31 + 30 + 31) * 6
    yield store
    store.close()


def test_every_cell_within_one_point(trial_store: Store) -> None:
    report = monthly_report(trial_store, "Asia/Tokyo")
    assert report.months == list(TABLE1_MONTHS)
    assert [t.threat_id for t in report.threats] == list(TABLE1)
    for row in report.threats:
        reported, rates = TABLE1[row.threat_id]
        assert row.reported_on is not None and row.reported_on.strftime("%Y-%m") == reported
        for month, paper in zip(TABLE1_MONTHS, rates, strict=True):
            shown = row.shown(month)
            if paper is None:
                assert shown == "-", (row.threat_id, month)
            else:
                assert abs(row.cells[month].rate - paper) <= 1.0, (row.threat_id, month, shown, paper)


def test_the_papers_stories(trial_store: Store) -> None:
    paths = {h.destination: h.path for h in status_histories(trial_store, Scope(threat="C"))}
    story = next(path for destination, path in paths.items() if destination.startswith("http://127.21.3.1:"))
    assert story == "200 → 404 → 500 → none"
    d01 = next(h for h in status_histories(trial_store, Scope(threat="D")) if "127.21.4.1:" in h.destination)
    assert d01.path.startswith("404 → 500 → 404 → 500 → 404 → ") and "200" in d01.path and d01.path.endswith("none")
    dormant = {r.threat_id for r in reactivations(trial_store, Scope())}
    assert {"B", "D"} <= dormant
