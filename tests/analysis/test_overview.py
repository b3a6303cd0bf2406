from __future__ import annotations

import datetime as dt

from c2watch.analysis import overview, verdict
from c2watch.store import Store
from c2watch.store.queries import TargetWindow
from tests.analysis.seed import JST

AS_OF = dt.datetime(2021, 3, 1, tzinfo=dt.UTC)


def window(observations: int, answered: int, last_answer: dt.datetime | None) -> TargetWindow:
    return TargetWindow(1, observations, answered, last_answer, AS_OF)


def test_provisional_rule() -> None:
    assert verdict(None, AS_OF) == "unobserved"
    assert verdict(window(0, 0, None), AS_OF) == "unobserved"
    assert verdict(window(10, 0, None), AS_OF) == "dead"
    assert verdict(window(10, 1, AS_OF - dt.timedelta(hours=23)), AS_OF) == "alive"
    assert verdict(window(10, 1, AS_OF - dt.timedelta(days=2)), AS_OF) == "dormant"


def test_overview_counts(store: Store, seeded: dict[str, list[int]]) -> None:
    result = overview(store)
    assert result.as_of == dt.datetime(2021, 2, 28, 20, tzinfo=JST)
    x, y = result.threats
    assert (x.threat_id, x.destinations, x.verdicts) == ("X", 3, {"alive": 2, "dormant": 0, "dead": 1, "unobserved": 0})
    assert (y.threat_id, y.destinations, y.verdicts) == ("Y", 1, {"alive": 0, "dormant": 1, "dead": 0, "unobserved": 0})
    assert y.response_rate == 33.9
    assert x.response_rate is not None and 60 < x.response_rate < 70
    as_dict = result.as_dict()
    assert as_dict["rule"] == {"alive_within_days": 1, "recent_days": 30}
    assert as_dict["threats"][1]["dormant"] == 1


def test_threat_without_observations(store: Store) -> None:
    from tests.analysis.seed import add_threat

    add_threat(store, "NEW", 2)
    (summary,) = overview(store).threats
    assert summary.verdicts["unobserved"] == 2 and summary.response_rate is None and summary.last_observed_at is None
