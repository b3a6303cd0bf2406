"""Path values in every link the dashboard renders are percent-encoded: a threat ID such as ``a/b?c#d %`` survives
a round trip through the overview, its month view (and the month view's data API), a destination page and back,
followed over HTTP from the links themselves, on SQLite and PostgreSQL, standalone and in the hub."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from c2watch.config import Settings
from c2watch.store import Store
from c2watch.web import create_app
from c2watch.web.server import ServedApp
from c2watch.wiring.hub import create_hub_app
from tests.helpers.hub import ThreadServer, make_tokens
from tests.web.conftest import ODD, ODD_IDS, backend_store, odd_threats


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def odd_store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    with backend_store(request.param, tmp_path_factory.mktemp("odd")) as store:
        odd_threats(store)
        yield store


def links(page: str) -> list[str]:
    return [html.unescape(href) for href in re.findall(r'href="([^"]+)"', page)]


def data_api(page: str) -> str:
    found = re.search(r'data-api="([^"]+)"', page)
    assert found is not None
    return html.unescape(found.group(1))


def round_trip(client: httpx.Client, start: str) -> None:
    overview = client.get(start)
    assert overview.status_code == 200
    threat_links = {link for link in links(overview.text) if "/threats/" in link}
    assert len({link.partition("?")[0] for link in threat_links}) == len(ODD_IDS)
    for link in sorted(threat_links):
        query = link.partition("?")[2]
        assert "#" not in link and " " not in link and query in ("", "verdict=alive")  # path values encoded whole
        page = client.get(link)
        assert page.status_code == 200, link
        shown = re.search(r'<span id="threat-id">([^<]*)</span>', page.text)
        assert shown is not None and html.unescape(shown.group(1)) in ODD_IDS
        threat = html.unescape(shown.group(1))
        month = client.get(data_api(page.text), headers={"Accept": "application/json"})
        assert month.status_code == 200 and month.json()["threat_id"] == threat
        destination = next(link for link in links(page.text) if "/destinations/" in link)
        history = client.get(destination)
        assert history.status_code == 200
        back = next(link for link in links(history.text) if "/threats/" in link)
        again = client.get(back)
        assert again.status_code == 200 and f'<span id="threat-id">{html.escape(threat)}</span>' in again.text


def test_odd_threat_ids_round_trip_through_the_dashboards_links(odd_store: Store) -> None:
    with ServedApp(create_app(odd_store, Settings())) as served, httpx.Client(base_url=served.url) as client:
        round_trip(client, "/")
        assert ODD in [html.unescape(t) for t in re.findall(r'<a href="[^"]+">([^<]+)</a>', client.get("/").text)]


def test_odd_threat_ids_round_trip_in_the_hubs_dashboard(odd_store: Store, tmp_path: Path) -> None:
    tokens = make_tokens(odd_store) if not odd_store.access.list_tokens() else None
    secret = tokens["a-reader"] if tokens else odd_store.access.create_token("Org A CSIRT", "r2", "reader")[0]
    with ThreadServer(create_hub_app(odd_store)) as url, httpx.Client(base_url=url, timeout=30) as client:
        assert client.post("/login", data={"token": secret}).status_code == 303
        round_trip(client, "/dashboard/")
