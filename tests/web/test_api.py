"""Every analysis through its JSON endpoint, and bad input answered with 400/404, never 500 (both backends)."""

from __future__ import annotations

import pytest

from c2watch.analysis.verdicts import STATUSES
from tests.web.conftest import Served

NONE = dict.fromkeys(STATUSES, 0)


def test_overview_and_monthly(served: Served) -> None:
    overview = served.get("/api/overview").json()
    assert overview["statuses"] == list(STATUSES)
    assert overview["verdicts_computed_at"] == "2021-02-28T12:00:00+00:00"
    assert [(t["threat_id"], t["destinations"], t["verdicts"], t["not_computed"]) for t in overview["threats"]] == [
        ("X", 3, {**NONE, "alive": 2, "never-seen": 1}, 0),
        ("Y", 1, {**NONE, "dormant": 1}, 0),
        ("Z", 2, {**NONE, "blocked-for-observer": 1, "dead": 1}, 0),
    ]
    monthly = served.get("/api/report/monthly").json()
    assert monthly["months"] == ["2021-01", "2021-02"]
    assert monthly["threats"][0]["months"]["2021-01"]["rate"] == 50.5
    assert served.get("/api/report/monthly?threat=Y").json()["threats"][0]["threat_id"] == "Y"


def test_month_view_data(served: Served) -> None:
    data = served.get("/api/threats/X/month/2021-02").json()
    assert data["month"] == "2021-02" and data["zone"] == "Asia/Tokyo"
    assert len(data["traces"]) == 6 and {t["observer"] for t in data["traces"]} == {"obs-0", "obs-1"}
    assert data["pie"] == {"200": 336, "404": 168, "500": 168, "none": 336}
    assert [d["rate"] for d in data["destinations"]] == [100.0, 100.0, 0.0]
    assert data["traces"][0]["times"][0] == "2021-02-01 00:00:00"


def test_correlation_transitions_reactivations(served: Served) -> None:
    corr = served.get("/api/correlation?threat=X&month=2021-01").json()["correlations"]
    assert [c["phi"] for c in corr] == [None, 1.0, None]
    histories = served.get("/api/transitions?threat=X").json()["histories"]
    assert histories[0]["path"] == "200 → 404 → 500"
    assert served.get("/api/transitions?threat=X&month=2021-01").json()["histories"][0]["path"] == "200"
    found = served.get("/api/reactivations?threat=X").json()["reactivations"]
    assert [(r["dormant_days"], r["silent_observations"]) for r in found] == [(15.2, 180)]
    assert served.get("/api/reactivations?min_gap_days=16").json()["reactivations"] == []


def test_destination(served: Served) -> None:
    target = served.ids["X"][1]
    data = served.get(f"/api/destinations/{target}").json()
    assert data["threat_id"] == "X" and len(data["traces"]) == 2
    assert data["months"]["2021-01"]["rate"] == 51.6


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/threats/NOPE/month/2021-01", 404),
        ("/api/threats/X/month/2021-13", 400),
        ("/api/threats/X/month/0000-01", 400),
        ("/api/threats/X/month/2021-1", 400),
        ("/api/threats/X/month/1999-12", 404),
        ("/api/destinations/999999", 404),
        ("/api/destinations/abc", 400),
        ("/api/report/monthly?threat=NOPE", 404),
        ("/api/correlation?month=March", 400),
        ("/api/transitions?threat=X&min_run=0", 400),
        ("/api/transitions?threat=NOPE", 404),
        ("/api/reactivations?min_gap_days=-1", 400),
        ("/api/reactivations?month=2021-02-01", 400),
        ("/threats/NOPE", 404),
        ("/threats/X?month=2021-13", 400),
        ("/threats/X?month=garbage", 400),
        ("/threats/X?month=2030-01", 404),
        ("/destinations/999999", 404),
        ("/destinations/-1", 404),
        ("/destinations/1e9", 400),
        ("/threats/X?verdict=zombie", 400),
        ("/threats/X?month=2021-02&verdict=alive,zombie", 400),
        ("/api/threats/X/month/2021-02?verdict=zombie", 400),
        ("/api/verdicts?verdict=zombie", 400),
        ("/api/verdicts?threat=NOPE", 404),
        ("/api/destinations/999999/verdict", 404),
        ("/api/destinations/abc/verdict", 400),
        ("/api/events?kind=explosion", 400),
        ("/api/events?since=yesterday", 400),
        ("/api/events?month=2021-13", 400),
        ("/api/events?threat=NOPE", 404),
        ("/api/events?destination=999999", 404),
        ("/api/events?limit=0", 400),
        ("/api/events?verdict=zombie", 400),
        ("/static/evil.js", 404),
        ("/static/..%2F..%2Fapp.py", 404),
    ],
)
def test_bad_input_is_400_or_404(served: Served, path: str, status: int) -> None:
    reply = served.get(path)
    assert reply.status == status, reply.text
    if path.startswith("/api/"):
        assert reply.json()["error"]["status"] == status
    elif not path.startswith("/static/"):
        assert reply.headers["content-type"].startswith("text/html") and f"Error {status}" in reply.text


def test_pages_and_security_headers(served: Served) -> None:
    for path in (
        "/",
        "/?lang=ja",
        "/report/monthly",
        "/threats/X",
        "/threats/X?month=2021-01&lang=ja",
        f"/destinations/{served.ids['X'][0]}",
        f"/destinations/{served.ids['Z'][0]}?lang=ja",
        "/threats/Z?verdict=dead&lang=ja",
    ):
        reply = served.get(path)
        assert reply.status == 200, path
        assert "script-src 'self'" in reply.headers["content-security-policy"]
        assert reply.headers["x-content-type-options"] == "nosniff"
    assert "脅威ID一覧" in served.get("/?lang=ja").text
    assert "2021-02" in served.get("/threats/X").text
    assert served.get("/api/openapi.json").json()["info"]["title"] == "c2watch dashboard"
