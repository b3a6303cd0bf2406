"""``watchlist pull`` against a small read-only TAXII 2.1 server on 127.0.0.1 (discovery, API roots, collections,
objects with ``more``/``next`` paging), through the library and the CLI, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from tests.helpers.cli import Invoke, as_json

from c2watch.errors import WatchlistError
from c2watch.store import Store
from c2watch.watchlist.taxii_pull import fetch_collection, pull_watchlist

MEDIA_TYPE = "application/taxii+json;version=2.1"
TOKEN = "loopback-test-token"
WATCHLIST = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"
OTHER = "472c94ae-3113-4e3e-a4dd-a9f4ac7471d4"
NOW = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)
BUNDLE = Path(__file__).parent / "feeds" / "stix_bundle.json"


@dataclass
class TaxiiState:
    """What the test server serves and how it misbehaves; ``paths`` records every request."""

    objects: list[Any] = field(default_factory=lambda: json.loads(BUNDLE.read_text())["objects"])
    page_size: int = 5
    token: str = TOKEN
    fault: str = ""
    paths: list[str] = field(default_factory=list)


class _Server(ThreadingHTTPServer):
    state: TaxiiState
    base: str


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def do_GET(self) -> None:
        state, base = self.server.state, self.server.base
        parts = urlsplit(self.path)
        state.paths.append(self.path)
        authorization = self.headers.get("Authorization", "")
        if authorization not in (f"Bearer {state.token}", "Basic dXNlcjpsb29wYmFjay10ZXN0LXRva2Vu"):
            return self._send(401, {"title": "unauthorized"})
        if "application/taxii+json" not in self.headers.get("Accept", ""):
            return self._send(406, {"title": "not acceptable"})
        routes = {
            "/taxii2/": lambda: self._send(200, self._discovery(base)),
            "/api1/": lambda: self._send(200, _api_root("first")),
            "/api2/": lambda: self._send(200, _api_root("second")),
            "/api1/collections/": lambda: self._send(200, {"collections": [_collection(OTHER, "observations")]}),
            "/api2/collections/": lambda: self._send(200, {"collections": [_collection(WATCHLIST, "watchlist")]}),
            f"/api2/collections/{WATCHLIST}/objects/": lambda: self._send(200, self._page(parse_qs(parts.query))),
        }
        route = routes.get(parts.path)
        if route is None:
            return self._send(404, {"title": "not found"})
        route()

    def _discovery(self, base: str) -> dict[str, Any]:
        return {"title": "Loopback TAXII", "default": f"{base}/api1/", "api_roots": [f"{base}/api1/", "/api2/"]}

    def _page(self, query: dict[str, list[str]]) -> dict[str, Any]:
        state = self.server.state
        limit = min(int(query.get("limit", ["100"])[0]), state.page_size)
        start = int(query.get("next", ["0"])[0])
        end = start + limit
        envelope: dict[str, Any] = {"objects": state.objects[start:end], "more": end < len(state.objects)}
        if envelope["more"]:
            envelope["next"] = str(end)
        if state.fault == "loop":
            envelope.update(more=True, next="0")
        elif state.fault == "more without next":
            envelope.update(more=True, next=None)
        return envelope

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", MEDIA_TYPE)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _api_root(title: str) -> dict[str, Any]:
    return {"title": title, "versions": [MEDIA_TYPE], "max_content_length": 10_485_760}


def _collection(ident: str, title: str) -> dict[str, Any]:
    return {"id": ident, "title": title, "can_read": True, "can_write": False, "media_types": [MEDIA_TYPE]}


@dataclass
class Taxii:
    discovery: str
    api_root: str
    state: TaxiiState


@pytest.fixture
def taxii() -> Iterator[Taxii]:
    """The server on 127.0.0.1, a free port; stopped after the test."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.state = TaxiiState()
    server.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Taxii(f"{server.base}/taxii2/", f"{server.base}/api2/", server.state)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# Library -------------------------------------------------------------------------------------------------------


def test_pull_through_discovery_pages_through_the_collection(store: Store, taxii: Taxii) -> None:
    outcome = pull_watchlist(store, taxii.discovery, WATCHLIST, TOKEN, NOW)
    assert outcome.url == f"{taxii.api_root}collections/{WATCHLIST}/"
    assert (outcome.title, outcome.objects, outcome.pages) == ("watchlist", 22, 5)
    assert (len(outcome.report.added), len(outcome.ignored), outcome.skipped) == (8, 4, [])
    assert outcome.report.source == outcome.url
    threats = {row.threat_id for row in store.watchlist.threats()}
    assert threats == {"JPCERT-2024-0001", "stix:Operation Dusk", "CISA-AA24-001", "stix:QakBot", "stix:unattributed"}
    pages = [path for path in taxii.state.paths if "/objects/" in path]
    assert pages[0].endswith("limit=1000") and pages[1].endswith("limit=5&next=5")
    assert all(row.extra["source"] == outcome.url for row in store.watchlist.targets())


def test_pull_from_an_api_root_then_again_then_retire(store: Store, taxii: Taxii) -> None:
    first = pull_watchlist(store, taxii.api_root, WATCHLIST, TOKEN, NOW)
    again = pull_watchlist(store, taxii.api_root, WATCHLIST, TOKEN, NOW)
    assert (len(first.report.added), len(again.report.added), again.report.unchanged) == (8, 0, 8)
    taxii.state.objects = [obj for obj in taxii.state.objects if "lonely.bad.example" not in obj.get("pattern", "")]
    later = pull_watchlist(store, taxii.api_root, WATCHLIST, TOKEN, NOW)
    assert later.report.retired == ["stix:unattributed |lonely.bad.example||80"]


def test_bad_objects_refuse_the_pull_unless_skip_invalid(store: Store, taxii: Taxii) -> None:
    bad = dict(taxii.state.objects[6], pattern="[domain-name:value = 'no_such domain']")
    taxii.state.objects[6] = bad
    with pytest.raises(WatchlistError) as excinfo:
        pull_watchlist(store, taxii.discovery, WATCHLIST, TOKEN, NOW)
    assert f"page 2: $.objects[1] ({bad['id']}): pattern:" in str(excinfo.value)
    assert store.watchlist.targets() == []
    kept = pull_watchlist(store, taxii.discovery, WATCHLIST, TOKEN, NOW, skip_invalid=True)
    assert (len(kept.report.added), len(kept.skipped)) == (7, 1)


@pytest.mark.parametrize(
    ("fault", "token", "collection", "message"),
    [
        ("", "wrong", WATCHLIST, "TAXII server answered HTTP 401 Unauthorized for http://127.0.0.1:"),
        ("", TOKEN, "no-such-collection", f"no collection 'no-such-collection' on this server; it has: {OTHER}"),
        ("loop", TOKEN, WATCHLIST, "page 2 brings no new object but says more follow"),
        ("more without next", TOKEN, WATCHLIST, "page 1 says more objects follow but gives no 'next' cursor"),
    ],
)
def test_server_problems(store: Store, taxii: Taxii, fault: str, token: str, collection: str, message: str) -> None:
    taxii.state.fault = fault
    with pytest.raises(WatchlistError) as excinfo:
        pull_watchlist(store, taxii.discovery, collection, token, NOW)
    assert message in str(excinfo.value)
    assert store.watchlist.targets() == []


def test_nothing_listening() -> None:
    with pytest.raises(WatchlistError, match="cannot connect to the TAXII server"):
        fetch_collection("http://127.0.0.1:9/taxii2/", WATCHLIST, TOKEN, timeout=5)


def test_basic_auth_with_a_user(taxii: Taxii) -> None:
    fetched = fetch_collection(taxii.discovery, WATCHLIST, TOKEN, user="user")
    assert len(fetched.objects) == 22


# CLI -----------------------------------------------------------------------------------------------------------


def test_cli_pull(invoke: Invoke, taxii: Taxii) -> None:
    args = ["watchlist", "pull", "--taxii", taxii.discovery, "--collection", WATCHLIST, "--token", TOKEN]
    report = as_json(invoke(*args, "--json"))
    assert (report["added"], report["pages"], report["objects"], len(report["ignored"])) == (8, 5, 22, 4)
    assert report["source"] == f"{taxii.api_root}collections/{WATCHLIST}/"
    text = invoke(*args, "--threat", "CERT-1")
    assert "pulled" in text.stdout and "8 added" in text.stdout
    assert "different amount of objects" not in text.stderr  # the server's small pages are not worth a warning
    assert "threat IDs: every destination under 'CERT-1' (--threat)" in text.stdout
    rows = as_json(invoke("watchlist", "list", "--threat", "CERT-1", "--json"))
    assert len(rows) == 8


def test_cli_pull_failure_leaves_the_store_unchanged(invoke: Invoke, taxii: Taxii) -> None:
    invoke("watchlist", "pull", "--taxii", taxii.discovery, "--collection", WATCHLIST, "--token", TOKEN)
    before = as_json(invoke("watchlist", "list", "--all", "--json"))
    taxii.state.objects = [*taxii.state.objects[:3], "not an object"]
    result = invoke(
        "watchlist", "pull", "--taxii", taxii.discovery, "--collection", WATCHLIST, "--token", TOKEN, ok=False
    )
    assert result.exit_code == 2
    assert "page 1: $.objects[3]: not a STIX object" in result.stderr
    assert as_json(invoke("watchlist", "list", "--all", "--json")) == before
    denied = invoke("watchlist", "pull", "--taxii", taxii.discovery, "--collection", WATCHLIST, ok=False)
    assert "HTTP 401" in denied.stderr
