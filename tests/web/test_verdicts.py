"""The stored verdicts and events on the dashboard (both backends): overview counts, the verdict column and filter
of the month page, the events timeline, a destination's evidence, their JSON endpoints, and "not computed yet"."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import c2watch.web.pages
from c2watch.analysis.events import refresh
from c2watch.analysis.verdicts import STATUSES
from c2watch.config import Settings
from c2watch.store import Store
from c2watch.web import create_app
from c2watch.web.server import ServedApp
from tests.helpers.seed import add_threat, standard
from tests.web.conftest import JUDGE_SETTINGS, JUDGED_AT, Served, backend_store, fetch, judged
from tests.web.tables import table_rows

NONE = dict.fromkeys(STATUSES, 0)

ALL_EVENTS = [
    ("reactivated", "X", "2021-01-20 00:00"),
    ("status-changed", "X", "2021-02-01 00:00"),
    ("dead", "Z", "2021-02-08 20:00"),
    ("status-changed", "X", "2021-02-15 00:00"),
    ("blocking-suspected", "Z", "2021-02-28 00:00"),
]


def test_overview_page_counts_each_status_and_links_to_the_filter(served: Served) -> None:
    page = served.get("/").text
    assert 'id="verdicts-computed"' in page and "2021-02-28 21:00" in page and "verdicts-missing" not in page
    rows = {row.attrs["data-threat"]: row.cells for row in table_rows(page, "threats")}
    # threat, reported, destinations, rate, alive, blocked, dormant, dead, never-seen, not computed, last observed
    assert rows["Z"][2] == "2" and rows["Z"][4:10] == ["0", "1", "0", "1", "0", "0"]
    assert rows["X"][4:10] == ["2", "0", "0", "0", "1", "0"]
    assert 'href="/threats/Z?verdict=blocked-for-observer"' in page
    assert "観測者遮断の疑い" in served.get("/?lang=ja").text


def test_month_page_shows_each_destinations_verdict(served: Served) -> None:
    z0, z1 = served.ids["Z"]
    rows = table_rows(served.get("/threats/Z?month=2021-02").text, "destinations")
    cells = {int(row.attrs["data-target"]): row.cells for row in rows}
    assert [row.attrs["data-status"] for row in rows] == ["blocked-for-observer", "dead"]
    # destination, verdict, identity, since (from the evidence), blocked observers, observations, rate, …
    assert cells[z0][1:5] == ["Blocked for an observer", "same server", "2021-02-28 00:00", "obs-1"]  # 1st window
    assert cells[z1][1:5] == ["Dead", "same server", "2021-01-09 20:00", "-"]  # the last answer
    japanese = table_rows(served.get("/threats/Z?month=2021-02&lang=ja").text, "destinations")
    assert [row.cells[1] for row in japanese] == ["観測者遮断の疑い", "停止"]


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        ("", ["alive", "alive", "never-seen"]),
        ("&verdict=alive", ["alive", "alive"]),
        ("&verdict=never-seen", ["never-seen"]),
        ("&verdict=alive,never-seen", ["alive", "alive", "never-seen"]),
        ("&verdict=alive&verdict=never-seen", ["alive", "alive", "never-seen"]),
        ("&verdict=dead", []),
    ],
)
def test_verdict_filter_narrows_the_table(served: Served, query: str, shown: list[str]) -> None:
    page = served.get(f"/threats/X?month=2021-02{query}").text
    rows = table_rows(page, "destinations")
    assert [row.attrs["data-status"] for row in rows if "data-status" in row.attrs] == shown
    if not shown:
        assert [row.cells for row in rows] == [["No destination of this month has these verdicts."]]
    for status in ("alive", "never-seen"):  # the form shows what is chosen, so it works without JS
        checked = f'value="{status}" checked' in page
        assert checked == (status in query)


def test_the_filter_keeps_the_month_and_the_language_and_the_charts_follow_it(served: Served) -> None:
    page = served.get("/threats/X?month=2021-01&verdict=never-seen&lang=ja").text
    assert 'href="?lang=en&amp;month=2021-01&amp;verdict=never-seen"' in page
    assert 'data-api="/api/threats/X/month/2021-01?verdict=never-seen"' in page
    assert '<input type="hidden" name="lang" value="ja">' in page
    data = served.get("/api/threats/X/month/2021-01?verdict=never-seen").json()
    assert [d["target_pk"] for d in data["destinations"]] == [served.ids["X"][2]]
    assert {t["target_pk"] for t in data["traces"]} == {served.ids["X"][2]}
    assert data["pie"] == {"none": 2 * 186}
    everything = served.get("/api/threats/X/month/2021-01").json()
    assert everything["pie"] == {"200": 564, "none": 552} and len(everything["traces"]) == 6


def test_month_page_timeline_holds_the_months_events(served: Served) -> None:
    rows = table_rows(served.get("/threats/X?month=2021-02").text, "events")
    d0 = "http://127.0.88.1:8080/gate.php"
    assert [(row.attrs["data-kind"], row.cells[0], row.cells[2], row.cells[3]) for row in rows] == [
        ("status-changed", "2021-02-01 00:00", d0, "obs-0, obs-1"),
        ("status-changed", "2021-02-15 00:00", d0, "obs-0, obs-1"),
    ]
    assert rows[0].cells[1] == "HTTP status changed" and "200 → 404" in rows[0].cells[4]
    january = table_rows(served.get("/threats/X?month=2021-01&lang=ja").text, "events")
    assert [(row.cells[1], row.cells[3]) for row in january] == [("再活性化", "obs-0")]
    filtered = table_rows(served.get("/threats/X?month=2021-02&verdict=never-seen").text, "events")
    assert [row.cells for row in filtered] == [["No events."]]


def test_destination_page_shows_the_verdict_evidence_and_events(served: Served) -> None:
    z0 = served.ids["Z"][0]
    page = served.get(f"/destinations/{z0}").text
    assert 'id="verdict" class="verdict-summary" data-status="blocked-for-observer"' in page
    assert "likely blocking of that observer" in page
    evidence = {row.attrs["data-observer"]: row for row in table_rows(page, "verdict-observers")}
    assert set(evidence) == {"obs-0", "obs-1"} and evidence["obs-1"].attrs.get("class") == "suspected"
    # observer, observations, first, last, last HTTP, last echo, last TLS, status, TTL, silent, blocked, suspected
    assert evidence["obs-0"].cells[4] == "2021-02-28 20:00" and evidence["obs-0"].cells[7] == "200"
    assert evidence["obs-1"].cells[4] == "-" and evidence["obs-1"].cells[9] == "54"
    assert evidence["obs-1"].cells[11] == "yes" and evidence["obs-0"].cells[11] == "no"
    events = table_rows(page, "events")
    assert [(row.attrs["data-kind"], row.cells[2]) for row in events] == [("blocking-suspected", "obs-1")]


def test_verdicts_api(served: Served) -> None:
    data = served.get("/api/verdicts").json()
    assert data["computed_at"] == "2021-02-28T21:00:00+09:00" and data["zone"] == "Asia/Tokyo"
    assert data["counts"] == {**NONE, "alive": 2, "blocked-for-observer": 1, "dormant": 1, "dead": 1, "never-seen": 1}
    assert data["rules"]["alive_hours"] == 24.0 and len(data["verdicts"]) == 6
    only = served.get("/api/verdicts?threat=Z&verdict=dead,blocked-for-observer").json()["verdicts"]
    assert [(v["status"], v["blocked_observers"]) for v in only] == [("blocked-for-observer", ["obs-1"]), ("dead", [])]
    z0 = served.ids["Z"][0]
    one = served.get(f"/api/destinations/{z0}/verdict").json()["verdict"]
    assert one["target_pk"] == z0 and one["since"] == "2021-02-28T00:00:00+09:00"  # the first blocked window
    by_observer = {o["observer"]: o for o in one["observers"]}
    assert by_observer["obs-1"]["suspected_blocking"] and by_observer["obs-1"]["last_answer_by_probe"]["http"] is None


def test_events_api(served: Served) -> None:
    data = served.get("/api/events").json()
    assert data["total"] == 5 and data["zone"] == "Asia/Tokyo"
    assert [(e["kind"], e["threat_id"], e["at"][:16].replace("T", " ")) for e in data["events"]] == ALL_EVENTS

    def kinds(query: str) -> list[str]:
        return [e["kind"] for e in served.get(f"/api/events?{query}").json()["events"]]

    assert kinds("threat=X&month=2021-02") == ["status-changed", "status-changed"]
    assert kinds("kind=dead&kind=reactivated") == kinds("kind=dead,reactivated") == ["reactivated", "dead"]
    assert kinds(f"destination={served.ids['X'][1]}") == ["reactivated"]
    assert kinds("verdict=blocked-for-observer,dead") == ["dead", "blocking-suspected"]
    assert kinds("since=2021-02-14") == ["status-changed", "blocking-suspected"]
    assert kinds("month=2021-02&since=2021-02-20") == ["blocking-suspected"]
    newest = served.get("/api/events?limit=2").json()
    assert newest["total"] == 5 and [e["kind"] for e in newest["events"]] == ["status-changed", "blocking-suspected"]


@pytest.fixture(params=["sqlite", "postgres"])
def unjudged(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Store, dict[str, list[int]]]]:
    """The standard data set with no verdict computed yet, served (every backend)."""
    with backend_store(request.param, tmp_path) as store:
        ids = standard(store)
        with ServedApp(create_app(store, Settings())) as app:
            yield app.url, store, ids


def test_before_any_refresh_the_dashboard_says_verdicts_are_not_computed(
    unjudged: tuple[str, Store, dict[str, list[int]]],
) -> None:
    url, store, ids = unjudged
    overview = fetch(url + "api/overview").json()
    assert overview["verdicts_computed_at"] is None
    assert [(t["not_computed"], sum(t["verdicts"].values())) for t in overview["threats"]] == [(3, 0), (1, 0)]
    page = fetch(url).text
    assert 'id="verdicts-missing"' in page and "run c2watch status" in page
    month = fetch(url + "threats/X?month=2021-02").text
    assert 'id="verdicts-missing"' in month
    assert [row.cells[1] for row in table_rows(month, "destinations")] == ["Not computed"] * 3
    assert 'id="verdict-missing"' in fetch(url + f"destinations/{ids['X'][0]}").text
    assert fetch(url + "api/verdicts").json() == {
        "zone": "Asia/Tokyo",
        "computed_at": None,
        "counts": NONE,
        "verdicts": [],
        "rules": fetch(url + "api/verdicts").json()["rules"],
    }
    assert fetch(url + f"api/destinations/{ids['X'][0]}/verdict").json()["verdict"] is None
    refresh(store, JUDGE_SETTINGS, JUDGED_AT)  # what the agent, observe, sync or status does: the next request shows it
    assert fetch(url + "api/overview").json()["threats"][0]["verdicts"]["alive"] == 2
    assert 'id="verdicts-computed"' in fetch(url).text


def test_a_destination_added_after_the_refresh_is_counted_as_not_computed(tmp_path: Path) -> None:
    with backend_store("sqlite", tmp_path) as store:
        ids = judged(store, standard(store))
        add_threat(store, "X", 4)  # one more destination of X, not judged yet
        with ServedApp(create_app(store, Settings())) as app:
            x = fetch(app.url + "api/overview").json()["threats"][0]
            assert (x["destinations"], x["not_computed"]) == (4, 1)
            page = fetch(app.url + "threats/X?month=2021-02").text
        added = max(t.id for t in store.watchlist.targets("X"))
        statuses = {int(r.attrs["data-target"]): r.attrs["data-status"] for r in table_rows(page, "destinations")}
        assert statuses[added] == "" and statuses[ids["X"][0]] == "alive"


def test_a_long_timeline_says_how_many_it_leaves_out(served: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(c2watch.web.pages, "EVENT_LIMIT", 1)
    page = served.get("/threats/X?month=2021-02").text
    assert "Showing the newest 1 of 2 events." in page
    assert [row.cells[0] for row in table_rows(page, "events")] == ["2021-02-15 00:00"]
