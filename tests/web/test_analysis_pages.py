"""The analysis pages and every CSV download over HTTP (both backends): tables, labels, links between the pages,
the month view and the overview, the CSV's Content-Type and file name, the same bytes as ``c2watch report …
--format csv``, formula-looking cells neutralised, awkward threat IDs percent-encoded, bad input 400/404."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
from pathlib import Path
from urllib.parse import quote

import pytest
from click.testing import CliRunner
from fastapi import FastAPI, HTTPException, Request

from c2watch.cli import cli
from c2watch.config import Settings
from c2watch.models import WatchlistEntry
from c2watch.store import Store
from c2watch.web import assets_router, create_app, dashboard_router
from c2watch.web.server import ServedApp
from tests.helpers.seed import FEB, JAN, MAR, NOW, add_observers, seed
from tests.web.conftest import Served, fetch
from tests.web.tables import table_rows

D = "http://127.0.88.{}:8080/gate.php"


def rows_of(reply_text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(reply_text)))


def test_correlation_page_and_csv(served: Served) -> None:
    page = served.get("/analysis/correlation?threat=X&month=2021-01")
    assert page.status == 200 and page.headers["content-type"].startswith("text/html")
    rows = table_rows(page.text, "correlations")
    assert [r.cells[1:] for r in rows] == [
        [D.format(1), "2021-01", "372", "0", "0", "0", "100.0 %", "-"],
        [D.format(2), "2021-01", "192", "0", "0", "180", "100.0 %", "1.000"],
        [D.format(3), "2021-01", "0", "0", "0", "372", "100.0 %", "-"],
    ]
    assert 'id="correlation-view"' in page.text and "/static/analysis.js" in page.text
    download = served.get("/analysis/correlation?threat=X&month=2021-01&format=csv")
    assert download.status == 200 and download.headers["content-type"] == "text/csv; charset=utf-8"
    assert download.headers["content-disposition"] == (
        "attachment; filename=\"c2watch-correlation-X-2021-01.csv\"; filename*=UTF-8''c2watch-correlation-X-2021-01.csv"
    )
    assert rows_of(download.text)[2] == ["X", D.format(2), "2021-01", "192", "0", "0", "180", "1.0", "1.0"]
    assert len(rows_of(served.get("/analysis/correlation?format=csv").text)) == 1 + 6  # every threat and month


def test_transitions_page_and_csv(served: Served) -> None:
    page = served.get("/analysis/transitions?threat=Y&min_run=2&lang=ja")
    rows = table_rows(page.text, "transitions")
    assert [(r.attrs["data-path"], r.cells[3]) for r in rows] == [("none", "応答なし")]  # the 503 flapping is noise
    assert "ステータスコードの段階と遷移" in page.text and 'value="2"' in page.text
    full = table_rows(served.get("/analysis/transitions?threat=X").text, "transitions")
    assert [r.attrs["data-path"] for r in full] == ["200 → 404 → 500"] * 2 + ["200 → none → 200"] * 2 + ["none"] * 2
    download = served.get("/analysis/transitions?threat=X&month=2021-02&format=csv")
    assert download.headers["content-disposition"].startswith(
        'attachment; filename="c2watch-transitions-X-2021-02.csv"'
    )
    assert rows_of(download.text)[1][3:] == ["404 → 500", "2021-02-15 00:00"]


def test_reactivations_page_and_csv(served: Served) -> None:
    rows = table_rows(served.get("/analysis/reactivations").text, "reactivations")
    assert [r.cells for r in rows] == [["X", D.format(2), "2021-01-04 20:00", "2021-01-20 00:00", "15.2", "200"]]
    empty = served.get("/analysis/reactivations?min_gap_days=16&lang=ja").text
    assert [r.cells for r in table_rows(empty, "reactivations")] == [["該当するものはありません。"]]
    assert 'id="reactivations-view"' not in empty  # no chart without data
    download = served.get("/analysis/reactivations?format=csv&min_silent=0")
    assert rows_of(download.text) == [
        ["threat ID", "destination", "last answer", "answered again", "dormant days", "status"],
        ["X", D.format(2), "2021-01-04 20:00", "2021-01-20 00:00", "15.2", "200"],
    ]


def test_monthly_report_csv(served: Served) -> None:
    download = served.get("/report/monthly?format=csv")
    assert download.headers["content-type"] == "text/csv; charset=utf-8"
    assert 'filename="c2watch-monthly.csv"' in download.headers["content-disposition"]
    assert rows_of(download.text)[1:] == [
        ["X", "2020-10", "50.5", "66.7"],
        ["Y", "2021-01", "-", "33.9"],
        ["Z", "-", "29", "12.2"],
    ]
    assert 'id="csv-download" href="/report/monthly?format=csv"' in served.get("/report/monthly").text


def test_linked_from_the_overview_the_month_view_and_each_other(served: Served) -> None:
    overview = served.get("/?lang=ja").text
    for route in ("correlation", "transitions", "reactivations"):
        assert f'href="/analysis/{route}?lang=ja"' in overview
    month = served.get("/threats/X?month=2021-02").text
    for route in ("correlation", "transitions", "reactivations"):
        assert f'href="/analysis/{route}?threat=X&amp;month=2021-02"' in month
    page = served.get("/analysis/transitions?threat=X&month=2021-02&min_run=3").text
    assert 'href="/analysis/reactivations?threat=X&amp;month=2021-02"' in page
    assert 'href="/analysis/transitions?threat=X&amp;month=2021-02&amp;min_run=3&amp;format=csv"' in page
    assert 'href="?lang=ja&amp;threat=X&amp;month=2021-02&amp;min_run=3"' in page  # the language switch keeps it


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/analysis/correlation?threat=NOPE", 404),
        ("/analysis/correlation?month=2021-13", 400),
        ("/analysis/correlation?format=xml", 400),
        ("/analysis/transitions?min_run=0", 400),
        ("/analysis/transitions?threat=NOPE&format=csv", 404),
        ("/analysis/reactivations?min_gap_days=0", 400),
        ("/analysis/reactivations?min_silent=-1", 400),
        ("/analysis/reactivations?month=March", 400),
        ("/report/monthly?format=pdf", 400),
    ],
)
def test_bad_input_is_an_error_page(served: Served, path: str, status: int) -> None:
    reply = served.get(path)
    assert reply.status == status and f"Error {status}" in reply.text, reply.text


AWKWARD = "=HYPERLINK(1)/β&?#"


@pytest.fixture
def awkward(store: Store) -> Store:
    """One destination of a threat ID that looks like a formula and holds a slash, non-ASCII text and a query's
    and a fragment's characters; answering (HTTP and ping) in January, silent in February."""
    observers = add_observers(store, 1)
    entry = WatchlistEntry(AWKWARD, ip="127.0.7.1", url="http://127.0.7.1:8080/@gate", port=8080)
    store.watchlist.apply([entry], "seed", NOW)
    targets = [t.id for t in store.watchlist.targets(AWKWARD)]

    def behaviour(_i: int, _o: int, at: dt.datetime) -> tuple[int | None, float | None]:
        return (200, 0.0) if at < FEB else (None, 100.0)

    seed(store, AWKWARD, targets, observers, JAN, MAR, behaviour)
    return store


def test_awkward_threat_ids_are_encoded_and_csv_cells_neutralised(
    awkward: Store, store_url: str, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    encoded = quote(AWKWARD, safe="")
    with ServedApp(create_app(awkward, Settings())) as app:
        page = fetch(f"{app.url}analysis/correlation?threat={encoded}").text
        month = fetch(f"{app.url}threats/{quote(AWKWARD)}?month=2021-02").text
        download = fetch(f"{app.url}analysis/correlation?threat={encoded}&format=csv")
        transitions = fetch(f"{app.url}analysis/transitions?threat={encoded}&format=csv")
    assert f'href="/analysis/transitions?threat={encoded}"' in page
    assert f'href="/analysis/correlation?threat={encoded}&amp;month=2021-02"' in month
    assert f'<option value="{html.escape(AWKWARD)}" selected>' in page
    assert download.headers["content-disposition"] == (
        f'attachment; filename="c2watch-correlation-_HYPERLINK_1_.csv"; '
        f"filename*=UTF-8''{quote('c2watch-correlation-' + AWKWARD, safe='')}.csv"
    )
    rows = rows_of(download.text)
    assert [row[0] for row in rows[1:]] == ["'" + AWKWARD] * 2  # not run as a formula by a spreadsheet
    assert rows[1][3:] == ["186", "0", "0", "0", "1.0", ""] and rows[2][3:] == ["0", "0", "0", "168", "1.0", ""]
    # The same bytes as the CLI's CSV.
    monkeypatch.setenv("C2WATCH_STORE__URL", store_url)
    runner = CliRunner()
    assert runner.invoke(cli, ["init"]).exit_code == 0
    for args, reply in ((["correlation"], download), (["transitions"], transitions)):
        result = runner.invoke(cli, ["report", *args, "--threat", AWKWARD, "--format", "csv"])
        assert result.exit_code == 0, result.output
        assert result.stdout == reply.text


def test_overview_and_month_view_csv(served: Served) -> None:
    overview = served.get("/?format=csv")
    assert overview.headers["content-type"] == "text/csv; charset=utf-8"
    assert 'filename="c2watch-overview.csv"' in overview.headers["content-disposition"]
    rows = rows_of(overview.text)
    assert rows[0][:4] == ["threat ID", "reported", "destinations", "response rate 30d (%)"]
    assert rows[0][-2:] == ["not computed", "last observed"]
    z = rows[3]
    assert z[0] == "Z" and dict(zip(rows[0][4:-2], z[4:-2], strict=True)) == {
        **dict.fromkeys(rows[0][4:-2], "0"),
        "blocked-for-observer": "1",
        "dead": "1",
    }
    month = served.get("/threats/X?month=2021-02&verdict=alive&format=csv")
    assert 'filename="c2watch-month-X-2021-02.csv"' in month.headers["content-disposition"]
    assert [row[:2] + row[4:6] for row in rows_of(month.text)] == [
        ["destination", "verdict", "observations", "response rate (%)"],
        [D.format(1), "alive", "336", "100.0"],
        [D.format(2), "alive", "336", "100.0"],
    ]
    page = served.get("/threats/X?month=2021-02&verdict=alive").text
    assert 'href="/threats/X?month=2021-02&amp;format=csv&amp;verdict=alive"' in page
    assert 'id="csv-download" href="/?format=csv"' in served.get("/").text


def signed_in(request: Request) -> None:
    """What the hub supplies: refuse a request without its (here: fake) session cookie."""
    if request.cookies.get("session") != "signed":
        raise HTTPException(401, "login required")


def test_pages_follow_a_mount_prefix_behind_the_login(awkward: Store) -> None:
    hub = FastAPI()
    hub.include_router(assets_router(), prefix="/dash")
    hub.include_router(dashboard_router(awkward, Settings(), auth=signed_in), prefix="/dash")
    cookie = {"Cookie": "session=signed"}
    with ServedApp(hub) as app:
        for path in (
            "analysis/correlation",
            "analysis/transitions?format=csv",
            "analysis/reactivations",
            "?format=csv",
        ):
            assert fetch(f"{app.url}dash/{path}").status == 401, path
        overview = fetch(app.url + "dash/", cookie).text
        page = fetch(app.url + "dash/analysis/reactivations?min_gap_days=20", cookie)
        download = fetch(app.url + "dash/analysis/reactivations?format=csv", cookie)
        script = fetch(app.url + "dash/static/analysis.js")
    assert 'href="/dash/analysis/correlation"' in overview
    assert page.status == 200 and 'href="/dash/analysis/transitions"' in page.text
    assert 'action="/dash/analysis/reactivations"' in page.text
    assert download.headers["content-type"] == "text/csv; charset=utf-8" and download.text.startswith("threat ID,")
    assert script.status == 200 and script.headers["content-type"].startswith("text/javascript")
