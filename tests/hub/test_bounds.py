"""Bounded requests: an object over ``[hub] max_object_bytes`` is a per-object failure; a page of objects holds at
most ``[hub] max_page_bytes`` of them (at least one), so reading a collection of large objects costs the hub a
bounded amount of memory (measured: the RSS of a hub process during the GETs); the agent reads no answer past
``[hub] max_response_bytes``."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from c2watch.errors import WatchlistError
from c2watch.store import Store
from c2watch.store.access import organization_identity
from c2watch.store.taxii import ObjectQuery
from c2watch.taxii.client import HubClient, HubUnavailable
from c2watch.taxii.collections import WATCHLIST
from c2watch.taxii.media import TAXII_MEDIA
from c2watch.watchlist.taxii_pull import fetch_collection
from tests.helpers.hub import ORG_A, RunningHub, make_tokens, post

MIB = 1024 * 1024
WATCHLIST_OBJECTS = f"collections/{WATCHLIST.id}/objects/"


def note(size: int, n: int = 0) -> dict[str, Any]:
    """A note whose JSON is about ``size`` bytes, by Org A."""
    stamp = (dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=n)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    obj = {
        "type": "note",
        "spec_version": "2.1",
        "id": f"note--{uuid.UUID(int=n + 1)}",
        "created": stamp,
        "modified": stamp,
        "created_by_ref": organization_identity(ORG_A),
        "object_refs": [organization_identity(ORG_A)],
        "content": "",
    }
    obj["content"] = "x" * (size - len(json.dumps(obj, separators=(",", ":"))))
    return obj


def test_an_object_over_the_limit_is_a_per_object_failure(hub: RunningHub) -> None:
    small, large = note(2000, 1), note(MIB + 10, 2)  # the hub fixture takes objects of 1 MiB at most
    status = post(hub, "a-coordinator", [small, large], WATCHLIST_OBJECTS).json()
    assert status["success_count"] == 1 and status["successes"][0]["id"] == small["id"]
    assert status["failure_count"] == 1
    failure = status["failures"][0]
    assert failure["id"] == large["id"] and "the hub takes at most 1048576" in failure["message"]
    page, _ = hub.store.taxii.objects(ObjectQuery(WATCHLIST.id, versions=["all"]))
    assert [o.object_id for o in page] == [small["id"]]


def test_pages_hold_at_most_max_page_bytes(store: Store) -> None:
    make_tokens(store)
    info = store.access.verify_token(store.access.create_token(ORG_A, "c", "coordinator")[0])
    assert info is not None
    notes = [note(100_000, n) for n in range(10)]
    store_notes(store, info, notes)
    seen, after, pages = [], 0, []
    while True:
        page, more = store.taxii.objects(ObjectQuery(WATCHLIST.id, after_pk=after, max_bytes=250_000))
        pages.append(len(page))
        seen += [o.object_id for o in page]
        assert sum(len(o.body) for o in page) <= 250_000
        if not more:
            break
        after = page[-1].pk
    assert seen == [n["id"] for n in notes] and pages == [2, 2, 2, 2, 2]
    one, more = store.taxii.objects(ObjectQuery(WATCHLIST.id, max_bytes=50_000))  # larger than the bound: alone
    assert len(one) == 1 and more
    manifest, _ = store.taxii.objects(ObjectQuery(WATCHLIST.id, max_bytes=250_000, with_body=False))
    assert len(manifest) == 2 and {o.body for o in manifest} == {""}


def store_notes(store: Store, info: Any, notes: list[dict[str, Any]]) -> None:
    from c2watch.taxii.backend import StoreBackend

    outcome = StoreBackend(store).add_objects(WATCHLIST, info, notes, dt.datetime.now(dt.UTC))
    assert not outcome.failures and len(outcome.successes) == len(notes)


async def test_the_agent_reads_no_answer_past_its_bound(hub: RunningHub) -> None:
    post(hub, "a-coordinator", [note(300_000, n) for n in range(4)], WATCHLIST_OBJECTS)
    async with HubClient(hub.api_root, hub.tokens["a-reader"], max_response_bytes=200_000) as client:
        with pytest.raises(HubUnavailable, match="more than 200000 bytes"):
            await client.get_objects(WATCHLIST.id)
    async with HubClient(hub.api_root, hub.tokens["a-reader"], max_response_bytes=2 * MIB) as client:
        page = await client.get_objects(WATCHLIST.id)
        assert len(page.objects) == 4


# --- the hub's memory, measured in a process of its own ---

OBJECT_BYTES = 4 * MIB
PAGE_BYTES = 4 * MIB
#: docs/sharing.md: one GET of objects costs the hub at most about three times max_page_bytes + max_object_bytes
BOUND = 3 * (PAGE_BYTES + OBJECT_BYTES)

_SERVE = """
import sys
from c2watch.config import Settings
from c2watch.store import open_store
from c2watch.web.server import bind, serve, url_of
from c2watch.wiring.hub import create_hub_app
settings = Settings(hub={"max_object_bytes": int(sys.argv[2]), "max_page_bytes": int(sys.argv[3])})
app = create_hub_app(open_store(sys.argv[1], upgrade=False), settings, max_content_length=int(sys.argv[2]) * 2)
sock = bind("127.0.0.1", 0)
print(url_of(sock), flush=True)
serve(app, sock)
"""


@pytest.fixture
def hub_process(store: Store, store_url: str) -> Iterator[tuple[subprocess.Popen[str], str, dict[str, str]]]:
    tokens = make_tokens(store)
    args = [sys.executable, "-c", _SERVE, store_url, str(OBJECT_BYTES), str(PAGE_BYTES)]
    # a fixed mmap threshold: memory of large strings goes back to the system when freed, so RSS is what is live
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "131072"}
    with subprocess.Popen(args, stdout=subprocess.PIPE, text=True, env=env) as process:
        try:
            assert process.stdout is not None
            yield process, process.stdout.readline().strip().rstrip("/"), tokens
        finally:
            process.terminate()
            process.wait(30)


def memory_kib(pid: int) -> dict[str, int]:
    fields = Path(f"/proc/{pid}/status").read_text().splitlines()
    return {k: int(v.split()[0]) for k, _, v in (f.partition(":") for f in fields) if k in ("VmRSS", "VmHWM")}


def reader(tokens: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['a-reader']}", "Accept": TAXII_MEDIA}


def read_collection(url: str, tokens: dict[str, str]) -> list[str]:
    seen, params = [], {}
    headers = reader(tokens)
    with httpx.Client(timeout=60) as client:
        while True:
            envelope = client.get(f"{url}/api/{WATCHLIST_OBJECTS}", params=params, headers=headers).json()
            seen += [o["id"] for o in envelope["objects"]]
            if not envelope["more"]:
                return seen
            params = {"next": envelope["next"]}


def test_reading_large_objects_costs_the_hub_a_bounded_memory(
    hub_process: tuple[subprocess.Popen[str], str, dict[str, str]],
) -> None:
    process, url, tokens = hub_process
    headers = {"Authorization": f"Bearer {tokens['a-coordinator']}", "Content-Type": TAXII_MEDIA}
    notes = [note(OBJECT_BYTES - 1000, n) for n in range(10)]  # near the limit: 40 MiB in all
    for obj in notes:
        body = json.dumps({"objects": [obj]})
        status = httpx.post(f"{url}/api/{WATCHLIST_OBJECTS}", content=body, headers=headers, timeout=60).json()
        assert status["success_count"] == 1, status
    warm = httpx.get(f"{url}/api/{WATCHLIST_OBJECTS}", params={"match[id]": "note--0"}, headers=reader(tokens))
    assert warm.json()["objects"] == []  # the route, its imports and the connection pool are warm
    Path(f"/proc/{process.pid}/clear_refs").write_text("5")  # the peak (VmHWM) starts again from now
    before = memory_kib(process.pid)
    assert read_collection(url, tokens) == [n["id"] for n in notes]
    grown = (memory_kib(process.pid)["VmHWM"] - before["VmRSS"]) * 1024
    assert grown < BOUND, f"a GET of 10 objects of 4 MiB grew the hub by {grown / MIB:.1f} MiB"


def test_the_agents_watchlist_pull_reads_no_answer_past_its_bound(hub: RunningHub) -> None:
    post(hub, "a-coordinator", [note(300_000, n) for n in range(4)], WATCHLIST_OBJECTS)
    with pytest.raises(WatchlistError, match="larger than 200000 bytes"):
        fetch_collection(hub.api_root, WATCHLIST.id, hub.tokens["a-reader"], max_response_bytes=200_000)
    fetched = fetch_collection(hub.api_root, WATCHLIST.id, hub.tokens["a-reader"], max_response_bytes=2 * MIB)
    assert len(fetched.objects) == 4
