"""``watchlist pull`` against a real medallion (the OASIS reference TAXII 2.1 server) on 127.0.0.1: paging with
its server-side cursor (the same ``next`` on every page), authentication errors, and objects added and deleted
between pulls (a pull reads the whole collection, not what was added after the last one), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from tests.watchlist.medallion_server import PASSWORD, SECRET, TAXII, USER, WATCHLIST, Medallion, running

from c2watch.errors import WatchlistError
from c2watch.store import Store
from c2watch.watchlist.taxii_pull import fetch_collection, pull_watchlist

NOW = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)
NEW_INDICATOR = {
    "type": "indicator",
    "spec_version": "2.1",
    "id": "indicator--6b1f4e2a-7d0c-4c39-9a57-0f4b1d7e2c11",
    "created": "2024-05-01T00:00:00.000Z",
    "modified": "2024-05-01T00:00:00.000Z",
    "name": "added later",
    "pattern": "[ipv4-addr:value = '192.0.2.200']",
    "pattern_type": "stix",
    "valid_from": "2024-05-01T00:00:00Z",
}


@pytest.fixture(scope="module")
def medallion(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Medallion]:
    """One medallion with pages of at most 2 objects, read-only for the tests that share it."""
    with running(tmp_path_factory.mktemp("medallion"), max_page_size=2) as server:
        yield server


def test_medallion_repeats_its_cursor(medallion: Medallion) -> None:
    """What the pull must cope with: consecutive pages carry the same ``next``."""
    url = f"{medallion.api_root}collections/{WATCHLIST}/objects/"
    headers = {"Accept": TAXII}
    first = requests.get(url, params={"limit": 2}, auth=(USER, PASSWORD), headers=headers, timeout=10).json()
    params = {"limit": 2, "next": first["next"]}
    second = requests.get(url, params=params, auth=(USER, PASSWORD), headers=headers, timeout=10).json()
    assert first["more"] and second["more"]
    assert second["next"] == first["next"]


def test_pull_pages_through_a_server_side_cursor(store: Store, medallion: Medallion) -> None:
    outcome = pull_watchlist(store, medallion.discovery, WATCHLIST, PASSWORD, NOW, user=USER)
    assert outcome.url == f"{medallion.api_root}collections/{WATCHLIST}/"
    assert (outcome.objects, outcome.pages) == (21, 11)
    assert (len(outcome.report.added), len(outcome.ignored), outcome.skipped) == (8, 4, [])
    assert {row.threat_id for row in store.watchlist.threats()} == {
        "JPCERT-2024-0001",
        "stix:Operation Dusk",
        "CISA-AA24-001",
        "stix:QakBot",
        "stix:unattributed",
    }


@pytest.mark.parametrize(
    ("user", "password", "collection", "message"),
    [
        (USER, "wrong", WATCHLIST, "TAXII server answered HTTP 401 UNAUTHORIZED for http://127.0.0.1:"),
        ("nobody", PASSWORD, WATCHLIST, "TAXII server answered HTTP 401 UNAUTHORIZED for http://127.0.0.1:"),
        (None, PASSWORD, WATCHLIST, "TAXII server answered HTTP 401 UNAUTHORIZED for http://127.0.0.1:"),
        (USER, PASSWORD, SECRET, f"collection {SECRET} may not be read (can_read false)"),
    ],
)
def test_authentication_and_permission_errors(
    store: Store, medallion: Medallion, user: str | None, password: str, collection: str, message: str
) -> None:
    with pytest.raises(WatchlistError) as excinfo:
        pull_watchlist(store, medallion.discovery, collection, password, NOW, user=user)
    assert message in str(excinfo.value)
    assert store.watchlist.targets() == []


def test_objects_added_and_deleted_between_pulls(store: Store, tmp_path: Path) -> None:
    """The second pull reads the whole collection (no ``added_after``): old destinations stay, the new one is
    added; a deleted indicator's destination is retired by the third."""
    with running(tmp_path, max_page_size=3) as server:
        first = pull_watchlist(store, server.api_root, WATCHLIST, PASSWORD, NOW, user=USER)
        server.add([NEW_INDICATOR])
        fetched = fetch_collection(server.api_root, WATCHLIST, PASSWORD, user=USER)
        second = pull_watchlist(store, server.api_root, WATCHLIST, PASSWORD, NOW, user=USER)
        server.delete(NEW_INDICATOR["id"])
        third = pull_watchlist(store, server.api_root, WATCHLIST, PASSWORD, NOW, user=USER)
    assert (len(first.report.added), first.objects, len(fetched.objects)) == (8, 21, 22)
    assert (second.report.added, second.report.unchanged, second.report.retired) == (
        ["stix:unattributed ||192.0.2.200|80"],
        8,
        [],
    )
    assert (third.report.retired, third.report.unchanged) == (["stix:unattributed ||192.0.2.200|80"], 8)
