"""The analysis pages in a real headless Chromium (Debian's /usr/bin/chromium): the Fig. 6 heatmap of phi and the
pie of HTTP x ping pairs, the status-code phase timeline, the dormant gaps before reactivations; the links from the
overview and the month view, the form (with and without JavaScript), Japanese labels, no console errors.
Screenshots go to test-output/analysis-*.png.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.helpers.browser import chromium, needs_chromium, shot, watched_page
from tests.web.conftest import Served

pytestmark = needs_chromium

D = "http://127.0.88.{}:8080/gate.php"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser: Any, served: Served) -> Iterator[Any]:
    """A page on which no console error, uncaught exception or off-host request may happen."""
    errors: list[str] = []
    with watched_page(browser, served.url, errors) as opened:
        yield opened
    assert errors == []


def plotted(page: Any, element: str) -> Any:
    return page.evaluate(f"document.getElementById('{element}').data")


def test_correlation_draws_fig6_heatmap_and_pairs(page: Any, served: Served, request: Any) -> None:
    page.goto(served.url + "analysis/correlation?threat=X")
    page.wait_for_selector("#correlation-view[data-rendered=true]")
    (heatmap,) = plotted(page, "chart-phi")
    assert heatmap["type"] == "heatmap" and heatmap["x"] == ["2021-01", "2021-02"]
    assert heatmap["y"] == [f"X · {D.format(i)}" for i in (1, 2, 3)]
    assert heatmap["z"] == [[None, None], [1.0, None], [None, None]]  # d1: HTTP gaps exactly on ping loss
    (pie,) = plotted(page, "chart-pairs")
    assert pie["labels"] == ["Both", "Ping only", "Neither"]  # no HTTP-only observation: no empty slice
    assert pie["values"] == [1236, 336, 552]
    assert page.locator("#correlations tbody tr").count() == 6
    assert page.locator(".main-svg").count() >= 2  # plotly drew SVG
    shot(page, f"analysis-correlation-{request.node.callspec.id}")


def test_transitions_timeline_and_min_run_form(page: Any, served: Served, request: Any) -> None:
    page.goto(served.url + "analysis/transitions?threat=X")
    page.wait_for_selector("#transitions-view[data-rendered=true]")
    traces = plotted(page, "chart-phases")
    assert [t["name"] for t in traces] == ["200", "404", "500", "no response"]
    assert sum(len(t["y"]) for t in traces) == 2 * (3 + 3 + 1)  # phases per destination and observer
    bars_404 = next(t for t in traces if t["name"] == "404")
    assert bars_404["base"] == ["2021-02-01 00:00:00"] * 2 and bars_404["x"] == [14 * 86400 * 1000] * 2
    assert page.locator("#transitions tbody tr").first.get_attribute("data-path") == "200 → 404 → 500"
    shot(page, f"analysis-transitions-{request.node.callspec.id}")
    page.select_option("#threat-picker", "Y")
    page.fill("#min-run", "2")
    with page.expect_navigation():
        page.click("#analysis-form button[type=submit]")
    page.wait_for_selector("#transitions-view[data-rendered=true]")
    assert "threat=Y" in page.url and "min_run=2" in page.url
    assert [t["name"] for t in plotted(page, "chart-phases")] == ["no response"]  # the 503 flapping is noise
    assert page.locator("#csv-download").get_attribute("href").endswith("threat=Y&min_run=2&format=csv")


def test_reactivations_gaps(page: Any, served: Served, request: Any) -> None:
    page.goto(served.url + "analysis/reactivations")
    page.wait_for_selector("#reactivations-view[data-rendered=true]")
    (gap,) = plotted(page, "chart-dormant")
    assert gap["y"] == [f"X · {D.format(2)}"] and gap["name"] == "200"
    assert gap["base"] == ["2021-01-04 20:00:00"]
    assert page.locator("#reactivations tbody tr td").nth(4).inner_text() == "15.2"
    shot(page, f"analysis-reactivations-{request.node.callspec.id}")


def test_linked_from_the_overview_and_the_month_view_in_japanese(page: Any, served: Served) -> None:
    page.goto(served.url + "?lang=ja")
    with page.expect_navigation():
        page.click("#analysis-links a[data-route=reactivations]")
    page.wait_for_selector("#reactivations-view[data-rendered=true]")
    assert "lang=ja" in page.url
    assert page.evaluate("document.getElementById('chart-dormant').layout.title.text") == "再活性化までの休眠期間"
    page.goto(served.url + "threats/X?month=2021-01&lang=ja")
    with page.expect_navigation():
        page.click("#analysis-links a[data-route=correlation]")
    page.wait_for_selector("#correlation-view[data-rendered=true]")
    assert "threat=X" in page.url and "month=2021-01" in page.url and "lang=ja" in page.url
    assert page.locator("#threat-picker").input_value() == "X"
    assert page.locator("#month-picker").input_value() == "2021-01"
    title = page.evaluate("document.getElementById('chart-phi').layout.title.text")
    assert title == "HTTP × pingのファイ係数（接続先 × 月）"
    assert page.locator("#correlations tbody tr").count() == 3
    shot(page, "analysis-correlation-ja")
    with page.expect_navigation():
        page.click("#analysis-tabs a[data-route='dashboard.transitions']")
    page.wait_for_selector("#transitions-view[data-rendered=true]")
    assert "month=2021-01" in page.url and page.locator("h1").inner_text() == "ステータスコードの段階と遷移"
    shot(page, "analysis-transitions-ja")


def test_the_form_works_without_javascript(browser: Any, served: Served) -> None:
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(served.url + "analysis/correlation?lang=ja")
        page.select_option("#threat-picker", "X")
        page.select_option("#month-picker", "2021-02")
        with page.expect_navigation():
            page.click("#analysis-form button[type=submit]")
        assert "threat=X" in page.url and "month=2021-02" in page.url and "lang=ja" in page.url
        months = page.locator("#correlations tbody tr").evaluate_all("rows => rows.map(r => r.dataset.month)")
        assert months == ["2021-02"] * 3
    finally:
        context.close()
