"""The dashboard in a real headless Chromium (Debian's /usr/bin/chromium, no browser download, no outbound
connections): charts drawn with the right traces, the month picker, the verdict column and filter (with and
without JavaScript), the events timeline, Japanese labels, no console errors.
Screenshots go to test-output/.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from c2watch.config import Settings
from c2watch.taxii.login import COOKIE
from c2watch.web import create_app
from c2watch.web.server import ServedApp
from c2watch.wiring.hub import create_hub_app
from tests.helpers.browser import chromium, needs_chromium, shot, watched_page
from tests.helpers.hub import ThreadServer, make_tokens
from tests.web.conftest import ODD, Served, backend_store, odd_threats

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def errors() -> list[str]:
    """Console errors, uncaught exceptions and requests leaving the dashboard's host seen by ``page``."""
    return []


@pytest.fixture
def page(browser: Any, served: Served, errors: list[str]) -> Iterator[Any]:
    """A page that records console errors and uncaught exceptions; none may happen."""
    with watched_page(browser, served.url, errors) as opened:
        yield opened
    assert errors == []


def chart(page: Any, element: str) -> Any:
    return page.evaluate(f"document.getElementById('{element}').data.map(t => [t.name, t.values || t.y.length])")


def test_month_view_draws_both_line_charts_and_the_pie(page: Any, served: Served, request: Any) -> None:
    page.goto(served.url + "threats/X?month=2021-02")
    page.wait_for_selector("#month-view[data-rendered=true]")
    http, loss = chart(page, "chart-http"), chart(page, "chart-loss")
    assert len(http) == len(loss) == 3 * 2  # one trace per destination and observer
    assert all(points == 168 for _name, points in http)
    assert {name.split(" · ")[1] for name, _ in http} == {"obs-0", "obs-1"}
    pie = page.evaluate("document.getElementById('chart-pie').data")
    assert len(pie) == 1 and pie[0]["labels"] == ["200", "404", "500", "no response"]
    assert pie[0]["values"] == [336, 168, 168, 336]
    assert page.locator("#destinations tbody tr").count() == 3
    shot(page, f"month-view-{request.node.callspec.id}")


def test_month_picker_changes_the_data(page: Any, served: Served) -> None:
    page.goto(served.url + "threats/X?month=2021-02")
    page.wait_for_selector("#month-view[data-rendered=true]")
    with page.expect_navigation():
        page.select_option("#month-picker", "2021-01")
    page.wait_for_selector("#month-view[data-rendered=true]")
    assert page.url.endswith("month=2021-01")
    pie = page.evaluate("document.getElementById('chart-pie').data[0]")
    assert pie["labels"] == ["200", "no response"] and pie["values"] == [564, 552]
    assert all(points == 186 for _name, points in chart(page, "chart-http"))
    assert "2021-01" in page.locator("#month-picker").input_value()


def test_japanese_labels_and_destination_history(page: Any, served: Served) -> None:
    page.goto(served.url + "threats/X?month=2021-01&lang=ja")
    page.wait_for_selector("#month-view[data-rendered=true]")
    title = page.evaluate("document.getElementById('chart-http').layout.title.text")
    assert title == "HTTPステータスコードの推移"
    page.click("#destinations tbody tr:nth-child(2) a")
    page.wait_for_selector("#history-view[data-rendered=true]")
    assert len(chart(page, "chart-http")) == 2 and page.locator("#reactivations tbody tr").count() == 1
    assert "lang=ja" in page.url
    shot(page, "destination-ja")


def test_overview_and_error_page(page: Any, served: Served, errors: list[str]) -> None:
    page.goto(served.url)
    assert page.locator("#threats tbody tr").count() == 3
    assert page.locator("#verdicts-computed").is_visible()
    shot(page, "overview")
    response = page.goto(served.url + "threats/X?month=2021-13")
    assert response.status == 400 and "01-12" in page.locator("#error-message").inner_text()
    assert errors == ["Failed to load resource: the server responded with a status of 400 (Bad Request)"]
    errors.clear()


def statuses(page: Any) -> list[str]:
    return [row.get_attribute("data-status") for row in page.locator("#destinations tbody tr").all()]


def test_verdict_column_filter_and_timeline(page: Any, served: Served, request: Any) -> None:
    page.goto(served.url + "threats/X?month=2021-02")
    page.wait_for_selector("#month-view[data-rendered=true]")
    assert statuses(page) == ["alive", "alive", "never-seen"]
    assert page.locator("#destinations tbody tr .verdict").all_inner_texts() == ["Alive", "Alive", "Never seen"]
    assert page.locator("#events tbody tr").count() == 2
    assert "200 → 404" in page.locator("#events tbody tr").first.inner_text()
    page.check("#verdict-filter input[value=never-seen]")
    with page.expect_navigation():
        page.click("#view-form button[type=submit]")
    page.wait_for_selector("#month-view[data-rendered=true]")
    assert "month=2021-02" in page.url and "verdict=never-seen" in page.url
    assert statuses(page) == ["never-seen"]
    http = chart(page, "chart-http")
    assert len(http) == 2 and all(name.startswith("http://127.0.88.3:8080/") for name, _ in http)
    pie = page.evaluate("document.getElementById('chart-pie').data[0]")
    assert pie["labels"] == ["no response"] and pie["values"] == [2 * 168]
    assert page.locator("#events tbody tr").all_inner_texts() == ["No events."]
    shot(page, f"month-filtered-{request.node.callspec.id}")
    with page.expect_navigation():  # the month picker keeps the filter
        page.select_option("#month-picker", "2021-01")
    page.wait_for_selector("#month-view[data-rendered=true]")
    assert "verdict=never-seen" in page.url and statuses(page) == ["never-seen"]
    assert page.locator("#verdict-filter input[value=never-seen]").is_checked()


def test_filter_works_without_javascript(browser: Any, served: Served) -> None:
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(served.url + "threats/Z?month=2021-02&lang=ja")
        assert statuses(page) == ["blocked-for-observer", "dead"]
        page.check("#verdict-filter input[value=dead]")
        with page.expect_navigation():
            page.click("#view-form button[type=submit]")
        assert "verdict=dead" in page.url and "lang=ja" in page.url
        assert statuses(page) == ["dead"]
        assert page.locator("#events tbody tr td:nth-child(2)").all_inner_texts() == ["停止"]
    finally:
        context.close()


def test_destination_evidence_and_events_in_japanese(page: Any, served: Served) -> None:
    page.goto(served.url + "?lang=ja")
    with page.expect_navigation():
        page.click("#threats tr[data-threat=Z] td[data-status=blocked-for-observer] a")
    assert statuses(page) == ["blocked-for-observer"]
    page.wait_for_selector("#month-view[data-rendered=true]")
    with page.expect_navigation():
        page.click("#destinations tbody tr:first-child a")
    page.wait_for_selector("#history-view[data-rendered=true]")
    assert page.locator("#verdict .verdict").inner_text() == "観測者遮断の疑い"
    assert page.locator("#verdict-blocked").inner_text() == "obs-1"
    assert page.locator("#verdict-observers tr.suspected td:first-child").inner_text() == "obs-1"
    assert page.locator("#events tbody tr td:nth-child(2)").all_inner_texts() == ["遮断の疑い"]
    assert "lang=ja" in page.url
    shot(page, "destination-verdict-ja")


def test_overview_in_japanese_is_drawn_with_a_cjk_font(page: Any, served: Served) -> None:
    """scripts/debian-packages.txt installs fonts-noto-cjk: Japanese text is drawn in glyphs, not empty boxes."""
    listed = subprocess.run(["fc-list", ":lang=ja", "family"], capture_output=True, text=True, check=True).stdout
    assert listed.strip(), "no font covers Japanese: install fonts-noto-cjk (scripts/install-debian-deps)"
    page.goto(served.url + "?lang=ja")
    assert page.locator("html").get_attribute("lang") == "ja"
    assert page.locator("#threats tbody tr").count() == 3
    # A character no font has is drawn as the fallback box; a Japanese one must be drawn differently (with a font).
    widths = page.evaluate(
        """() => { const c = document.createElement('canvas').getContext('2d'); c.font = '32px sans-serif';
        return ['観測', '\\u{10FFFD}\\u{10FFFD}'].map(t => c.measureText(t).width); }"""
    )
    assert widths[0] > 0 and widths[0] != widths[1], widths
    shot(page, "overview-ja")


def test_an_odd_threat_id_round_trips_through_the_links(browser: Any, tmp_path: Path) -> None:
    """``a/b?c#d %`` clicked from the overview, its month view drawn from its data API, a destination, and back."""
    with backend_store("sqlite", tmp_path) as store:
        odd_threats(store)
        with ServedApp(create_app(store, Settings())) as served:
            context = browser.new_context()
            try:
                page = context.new_page()
                problems: list[str] = []
                page.on("pageerror", lambda exc: problems.append(str(exc)))
                page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
                page.goto(served.url)
                with page.expect_navigation():
                    page.get_by_role("link", name=ODD, exact=True).click()
                page.wait_for_selector("#month-view[data-rendered=true]")
                assert page.locator("#threat-id").inner_text() == ODD
                assert page.url.startswith(served.url + "threats/a%2Fb%3Fc%23d%20%25")
                assert len(chart(page, "chart-http")) == 1
                with page.expect_navigation():
                    page.click("#destinations tbody tr:first-child a")
                page.wait_for_selector("#history-view[data-rendered=true]")
                with page.expect_navigation():
                    page.click("p.crumb a")
                assert page.locator("#threat-id").inner_text() == ODD
                assert problems == []
            finally:
                context.close()


def test_signing_out_of_the_hub_ends_the_session_everywhere(browser: Any, tmp_path: Path) -> None:
    """In the hub: sign in through the form, copy the cookie, press "Sign out"; the copy no longer opens a page."""
    with backend_store("sqlite", tmp_path) as store:
        tokens = make_tokens(store)
        with ThreadServer(create_hub_app(store)) as url:
            context = browser.new_context()
            try:
                page = context.new_page()
                page.goto(url + "/login")
                page.fill("input[name=token]", tokens["a-reader"])
                with page.expect_navigation():
                    page.click("button[type=submit]")
                assert page.url == url + "/dashboard/"
                copied = {c["name"]: c["value"] for c in context.cookies()}[COOKIE]
                with page.expect_navigation():
                    page.click("#sign-out")
                assert page.url == url + "/login"
                with httpx.Client(base_url=url, cookies={COOKIE: copied}, timeout=30) as thief:
                    assert thief.get("/dashboard/").status_code == 303
                page.goto(url + "/dashboard/")
                assert page.url == url + "/login"
            finally:
                context.close()
