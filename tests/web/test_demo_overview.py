"""`c2watch demo` as a newcomer sees it: built once for the module (8 simulated days, with the removal window and the
identity stay shortened so every status fits), then its overview in a real headless Chromium shows every verdict
kind with no console error, and the store holds every event kind, recorded while the history was simulated.
Screenshot: test-output/demo-overview.png.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from c2watch.analysis.events import EVENT_KINDS, list_events
from c2watch.analysis.verdicts import STATUSES, stored_verdicts
from c2watch.config import Settings
from c2watch.store import Store, open_store, sqlite_url
from c2watch.web import create_app
from c2watch.web.server import ServedApp
from tests.helpers.browser import chromium, needs_chromium, shot, watched_page

#: ttl-changed needs the lab's nftables table (root and nft); without it echo replies keep their TTL.
NFT = shutil.which("nft") is not None and os.geteuid() == 0


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    home = tmp_path_factory.mktemp("demo")
    env = {**os.environ, "C2WATCH_HOME": str(home), "C2WATCH_VERDICT__DEAD_DAYS": "3",
           "C2WATCH_VERDICT__IDENTITY_STAY_DAYS": "1"}  # fmt: skip
    env.pop("C2WATCH_STORE__URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "c2watch", "demo", "--days", "8", "--no-serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "lab-tokyo" in result.stdout and "lab-sapporo" in result.stdout
    store = open_store(sqlite_url(home / "c2watch.db"))
    yield store
    store.close()


def test_every_verdict_and_event_kind_after_the_demo(demo_store: Store) -> None:
    verdicts = stored_verdicts(demo_store)
    assert {verdict.status for verdict in verdicts} == set(STATUSES)
    blocked = [verdict for verdict in verdicts if verdict.status == "blocked-for-observer"]
    assert [(v.destination, v.blocked) for v in blocked] == [("https://127.77.0.6:8443/", ("lab-sapporo",))]
    events = list_events(demo_store)
    expected = set(EVENT_KINDS) if NFT else set(EVENT_KINDS) - {"ttl-changed"}
    assert expected <= {event.kind for event in events}
    gate = [e.subject for e in events if e.kind == "status-changed" and "//127.77.0.1:" in e.destination]
    assert "200→404" in gate and "404→500" in gate  # the history's changes, recorded as they happened
    observers = {view.observer for verdict in verdicts for view in verdict.observers}
    assert observers == {"lab-tokyo", "lab-osaka", "lab-sapporo"}


@needs_chromium
def test_the_demo_overview_shows_every_verdict_kind(demo_store: Store) -> None:
    errors: list[str] = []
    with (
        ServedApp(create_app(demo_store, Settings())) as app,
        chromium() as browser,
        watched_page(browser, app.url, errors) as page,
    ):
        page.goto(app.url)
        assert page.locator("#threats tbody tr").count() == 3
        shown = _shown_statuses(page)
        shot(page, "demo-overview")
    assert shown == set(STATUSES)
    assert errors == []


def _shown_statuses(page: Any) -> set[str]:
    """The statuses with a non-zero count (a link to the filtered threat) in some threat's row."""
    links = page.locator("#threats tbody td[data-status] a").all()
    return {link.evaluate("a => a.parentElement.dataset.status") for link in links}
