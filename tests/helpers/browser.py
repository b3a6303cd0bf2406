"""Debian's headless Chromium for dashboard tests: the launch options (no browser download, no outbound
connections), a page that records console errors, uncaught exceptions and requests leaving the dashboard's host,
and screenshots under test-output/."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
OUTPUT = Path(__file__).parents[2] / "test-output"
#: Marks a test (or, as ``pytestmark``, a module) that needs Debian's Chromium.
needs_chromium = pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason="Debian package chromium not installed")


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's Chromium, headless, with the launch options above (through Playwright, which downloads nothing);
    closed afterwards."""
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def watched_page(browser: Any, base_url: str, errors: list[str], **options: Any) -> Iterator[Any]:
    """A new page (1400x1000 unless ``options`` say otherwise) whose errors and off-host requests go to ``errors``."""
    context = browser.new_context(**{"viewport": {"width": 1400, "height": 1000}, **options})
    page = context.new_page()
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("request", lambda req: None if req.url.startswith(base_url) else errors.append(f"off-host {req.url}"))
    try:
        yield page
    finally:
        context.close()


def shot(page: Any, name: str) -> Path:
    """A full-page screenshot ``test-output/<name>.png``."""
    OUTPUT.mkdir(exist_ok=True)
    path = OUTPUT / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
