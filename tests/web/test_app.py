"""The app factory: the auth hook, mounting the routers elsewhere, the static files, the CLI commands."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi import FastAPI, HTTPException, Request

import c2watch.analysis
import c2watch.web
from c2watch.cli import cli
from c2watch.config import Settings
from c2watch.store import Store, open_store
from c2watch.web import assets_router, create_app, dashboard_router, plotly_js
from c2watch.web.i18n import MESSAGES
from c2watch.web.server import ServedApp
from tests.helpers.seed import standard
from tests.web.conftest import fetch


def require_session(request: Request) -> None:
    """What the hub supplies: refuse any request without its (here: fake) session cookie."""
    if request.cookies.get("c2watch_session") != "signed-value":
        raise HTTPException(401, "login required")


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    store = open_store(tmp_path / "c2watch.db")
    standard(store)
    yield store
    store.close()


def test_auth_hook_guards_pages_and_api_but_not_static_files(sqlite_store: Store) -> None:
    with ServedApp(create_app(sqlite_store, Settings(), auth=require_session)) as app:
        for path in ("", "threats/X", "api/overview", "api/threats/X/month/2021-01", "report/monthly"):
            assert fetch(app.url + path).status == 401, path
            assert fetch(app.url + path, {"Cookie": "c2watch_session=signed-value"}).status == 200, path
        assert fetch(app.url + "static/c2watch.css").status == 200


def test_routers_mount_under_a_prefix_in_another_app(sqlite_store: Store) -> None:
    hub = FastAPI()
    hub.include_router(assets_router(), prefix="/dash")
    hub.include_router(dashboard_router(sqlite_store, Settings(), auth=require_session), prefix="/dash")
    with ServedApp(hub) as app:
        cookie = {"Cookie": "c2watch_session=signed-value"}
        page = fetch(app.url + "dash/", cookie).text
        assert 'href="/dash/threats/X"' in page and 'href="/dash/static/c2watch.css"' in page
        month = fetch(app.url + "dash/threats/X?month=2021-01", cookie).text
        assert 'data-api="/dash/api/threats/X/month/2021-01"' in month
        assert fetch(app.url + "dash/api/threats/X/month/2021-01", cookie).json()["month"] == "2021-01"
        assert fetch(app.url + "dash/threats/X?month=bad", cookie).status == 400


def test_plotly_is_served_from_the_installed_wheel(sqlite_store: Store) -> None:
    with ServedApp(create_app(sqlite_store, Settings())) as app:
        reply = fetch(app.url + "static/plotly.min.js")
    assert reply.status == 200 and reply.headers["content-type"].startswith("text/javascript")
    assert reply.body == plotly_js().read_bytes()


@contextmanager
def _serve_cli(args: list[str], home: Path, timeout: float) -> Iterator[str]:
    """Run ``c2watch ARGS`` until it prints the dashboard URL; yield the URL, then stop it with SIGINT."""
    env = {**os.environ, "C2WATCH_HOME": str(home)}
    env.pop("C2WATCH_STORE__URL", None)
    with subprocess.Popen(
        [sys.executable, "-m", "c2watch", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as proc:
        try:
            assert proc.stdout is not None
            url = next((line.split()[2] for line in proc.stdout if line.startswith("dashboard on ")), None)
            if url is None:
                pytest.fail(f"no dashboard URL: {proc.stderr.read() if proc.stderr else ''}")
            yield url
        finally:
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout) == 0


def test_dashboard_command_serves_on_loopback(home: Path) -> None:
    assert CliRunner().invoke(cli, ["init"]).exit_code == 0
    with _serve_cli(["dashboard", "--port", "0"], home, 30) as url:
        assert url.startswith("http://127.0.0.1:")
        assert fetch(url).status == 200 and fetch(url + "api/overview").json()["threats"] == []


def test_demo_ends_serving_the_dashboard(home: Path) -> None:
    with _serve_cli(["demo", "--days", "1", "--port", "0"], home, 60) as url:
        overview = fetch(url + "api/overview").json()
        assert {t["threat_id"] for t in overview["threats"]} == {"DEMO-A", "DEMO-B", "DEMO-C"}
        assert overview["verdicts_computed_at"] is not None  # the demo judged its destinations
        assert all(t["not_computed"] == 0 for t in overview["threats"])
        assert fetch(url + "threats/DEMO-A").status == 200


def test_demo_no_serve_returns(home: Path) -> None:
    result = CliRunner().invoke(cli, ["demo", "--days", "1", "--no-serve"])
    assert result.exit_code == 0, result.output
    assert "dashboard on" not in result.output
    assert "of lab-tokyo (127.78.0.1), lab-osaka (127.78.0.2), lab-sapporo (127.78.0.3)" in result.output
    live = [line for line in result.output.splitlines() if line.startswith("live cycle ")]
    assert [line.split()[3] for line in live] == ["(lab-tokyo):", "(lab-osaka):", "(lab-sapporo):"]
    assert "verdicts: {" in result.output and "events: {" in result.output


def test_public_api_and_translations() -> None:
    for module in (c2watch.analysis, c2watch.web):
        assert all(hasattr(module, name) for name in module.__all__)
    assert set(MESSAGES["ja"]) == set(MESSAGES["en"])


def test_dashboard_port_in_use_is_an_error_message(home: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["init"]).exit_code == 0
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = runner.invoke(cli, ["dashboard", "--port", str(taken.getsockname()[1])])
    assert result.exit_code == 2 and "cannot listen on 127.0.0.1" in result.stderr
