from __future__ import annotations

import datetime as dt

from c2watch.analysis import overview
from c2watch.analysis.events import refresh
from c2watch.analysis.verdicts import STATUSES
from c2watch.config import Settings
from c2watch.store import Store
from tests.helpers.seed import JST, add_threat

JUDGED_AT = dt.datetime(2021, 3, 1, tzinfo=dt.UTC)
NONE = dict.fromkeys(STATUSES, 0)


def test_overview_counts_the_stored_verdicts(store: Store, seeded: dict[str, list[int]]) -> None:
    refresh(store, Settings(), JUDGED_AT)
    result = overview(store)
    assert result.as_of == dt.datetime(2021, 2, 28, 20, tzinfo=JST)
    assert result.verdicts_computed_at == JUDGED_AT
    x, y = result.threats
    assert (x.threat_id, x.destinations, x.not_computed) == ("X", 3, 0)
    assert x.verdicts == {**NONE, "alive": 2, "never-seen": 1}
    assert (y.threat_id, y.destinations, y.verdicts) == ("Y", 1, {**NONE, "dormant": 1})
    assert y.response_rate == 33.9
    assert x.response_rate is not None and 60 < x.response_rate < 70
    as_dict = result.as_dict()
    assert as_dict["recent_days"] == 30 and as_dict["verdicts_computed_at"] == "2021-03-01T00:00:00+00:00"
    assert as_dict["threats"][1]["verdicts"]["dormant"] == 1 and as_dict["threats"][1]["not_computed"] == 0


def test_before_any_refresh_every_destination_is_not_computed(store: Store, seeded: dict[str, list[int]]) -> None:
    result = overview(store)
    assert result.verdicts_computed_at is None
    assert [(t.verdicts, t.not_computed) for t in result.threats] == [(NONE, 3), (NONE, 1)]
    assert result.as_dict()["threats"][0]["verdicts_computed_at"] is None


def test_overview_reads_verdicts_without_recomputing_them(store: Store, seeded: dict[str, list[int]]) -> None:
    refresh(store, Settings(), JUDGED_AT)
    later = dt.datetime(2021, 4, 1, tzinfo=dt.UTC)  # by then X's two alive destinations would be dormant
    assert overview(store).threats[0].verdicts["alive"] == 2
    refresh(store, Settings(), later)
    assert overview(store).threats[0].verdicts == {**NONE, "dormant": 2, "never-seen": 1}


def test_threat_without_observations(store: Store) -> None:
    add_threat(store, "NEW", 2)
    (summary,) = overview(store).threats
    assert summary.not_computed == 2 and summary.response_rate is None and summary.last_observed_at is None
    refresh(store, Settings(), JUDGED_AT)
    (summary,) = overview(store).threats
    assert summary.verdicts["never-seen"] == 2 and summary.not_computed == 0
