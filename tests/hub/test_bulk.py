"""The hub's bulk paths on both backends: an envelope stored and indexed in one pass (COPY on PostgreSQL), pages read
by keyset in the order objects were added with only the matching versions, and a pull that still finds the objects
a record refers to when they were added to the hub long before (SCOs are deduplicated by their ids)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from c2watch.stix.ingest import SharedRecord
from c2watch.stix.validate import check_object
from c2watch.stix.vocab import DETAILS_EXTENSION, PROBE_EXTENSION
from c2watch.store import Store, open_store
from c2watch.store.access import TokenInfo
from c2watch.store.shared import index_records
from c2watch.store.taxii import ObjectQuery, StoredObject
from c2watch.taxii.backend import StoreBackend
from c2watch.taxii.client import HubClient
from c2watch.taxii.collections import OBSERVATIONS, WATCHLIST
from c2watch.taxii.sync import SyncReport, pull_observations
from c2watch.wiring.hub import create_hub_app
from tests.helpers.hub import ORG_A, ThreadServer, by_stix_id, observer_token
from tests.helpers.stix_factory import T0, envelope, producer


def all_pages(store: Store, query: ObjectQuery) -> list[list[StoredObject]]:
    pages = []
    while True:
        page, more = store.taxii.objects(query)
        pages.append(page)
        if not more:
            return pages
        query.after_pk = page[-1].pk


def test_envelope_is_stored_and_indexed_once(store: Store) -> None:
    _, token = observer_token(store)
    objects = envelope(producer(ORG_A), 40)
    first = StoreBackend(store).add_objects(OBSERVATIONS, token, objects, T0)
    assert (len(first.successes), first.failures, first.indexed) == (len(objects), [], 40)
    again = StoreBackend(store).add_objects(OBSERVATIONS, token, objects, T0 + dt.timedelta(minutes=1))
    assert (len(again.successes), again.failures, again.indexed) == (len(objects), [], 0)
    assert len(store.observations.rows()) == 40
    status = store.taxii.status(first.status_id, token.org_pk)
    assert status is not None and status["successes"] == first.successes and status["failures"] == []


def test_pages_follow_date_added_and_serve_only_the_last_version(store: Store) -> None:
    _, token = observer_token(store)
    p = producer(ORG_A)
    identity = p.identities()[1]
    later = envelope(p, 3)
    earlier = envelope(producer(ORG_A, "observer-02"), 2)
    StoreBackend(store).add_objects(OBSERVATIONS, token, later, T0 + dt.timedelta(hours=1))
    StoreBackend(store).add_objects(OBSERVATIONS, token, earlier, T0)  # stored second, but added earlier
    versions = [{**identity, "modified": f"2026-02-0{day}T00:00:00.000Z"} for day in range(1, 6)]
    for day, version in enumerate(versions, start=1):
        StoreBackend(store).add_objects(OBSERVATIONS, token, [version], T0 + dt.timedelta(hours=1 + day))
    pages = all_pages(store, ObjectQuery(OBSERVATIONS.id, limit=1))
    served = [o for page in pages for o in page]
    assert [o.date_added for o in served] == sorted(o.date_added for o in served)
    assert len({o.object_id for o in served}) == len(served)  # each object once, in its last version
    assert next(o for o in served if o.object_id == identity["id"]).version == "2026-02-05T00:00:00.000000Z"
    assert served[0].object_id in {o["id"] for o in earlier}
    every = [o for page in all_pages(store, ObjectQuery(OBSERVATIONS.id, versions=["all"], limit=4)) for o in page]
    assert len(every) == len(served) + 5  # the five older versions of the identity


def test_pages_read_through_older_versions(store: Store) -> None:
    _, token = observer_token(store)
    identity = producer(ORG_A).identities()[1]
    for day in range(1, 8):
        StoreBackend(store).add_objects(
            WATCHLIST, token, [{**identity, "modified": f"2026-03-0{day}T00:00:00.000Z"}], T0
        )
    page, more = store.taxii.objects(ObjectQuery(WATCHLIST.id, limit=2))
    assert [o.version for o in page] == ["2026-03-07T00:00:00.000000Z"] and not more
    first, _ = store.taxii.objects(ObjectQuery(WATCHLIST.id, versions=["first"], limit=2))
    assert [o.version for o in first] == ["2026-03-01T00:00:00.000000Z"]


def test_indexing_keeps_text_that_copy_must_escape_and_marks_control_characters(store: Store) -> None:
    awkward = 'tab\there, new\nline, back\\slash, "quote" \\N'
    record = SharedRecord(
        "TID-COPY",
        "http://198.51.100.7:8080/a.php|||8080",
        "identity--7b3d1a2e-6c1f-4a8e-9d2b-1f0e3c4b5a61",
        "identity--0c9e8d7f-6a5b-4c3d-8e2f-1a0b9c8d7e6f",
        "observer\tone",
        "Org\nA",
        {
            "threat_id": "TID-COPY",
            "observed_at": T0,
            "simulated": False,
            "outcome": "responding",
            "probed_kind": "url",
            "probed_value": "http://198.51.100.7:8080/a.php",
            "resolved": ["198.51.100.7", awkward],
            "stix_id": "observed-data--4a1b2c3d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
            "http_status": 200,
            "http_reason": awkward,
            "http_elapsed_ms": 12.5,
        },
    )
    with store.begin() as conn:
        assert index_records(conn, [record, record], T0) == 1
    [row] = store.observations.rows()
    escaped = awkward.replace("\t", "\\x09").replace("\n", "\\x0a")  # control characters, not backslashes
    assert row["http_reason"] == escaped and row["resolved"] == ["198.51.100.7", escaped]
    assert row["observed_at"] == T0 and row["simulated"] is False and row["ping_ttl"] is None
    mark = row["details"]["fitted"]["http_reason"]
    assert mark == {"change": "escaped", "length": len(awkward), "sha256": hashlib.sha256(awkward.encode()).hexdigest()}
    assert row["http_elapsed_ms"] == 12.5 and set(row["details"]["fitted"]) == {"http_reason", "resolved"}


def test_type_with_a_trailing_newline_is_refused() -> None:
    identity = producer(ORG_A).identities()[0]
    assert check_object({**identity, "type": "identity\n", "id": "identity\n--" + identity["id"][10:]}, "x")


# --- a second agent's pull through a running hub whose clock the test sets ---


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clocked_hub(store: Store) -> Iterator[tuple[str, str, TokenInfo, Clock]]:
    reader, observer = observer_token(store)
    clock = Clock()
    with ThreadServer(create_hub_app(store, clock=clock)) as url:
        yield url + "/api/", reader, observer, clock


async def pull(agent: Store, api: str, token: str, page_size: int) -> SyncReport:
    report = SyncReport()
    async with HubClient(api, token) as hub:
        await pull_observations(agent, hub, report, page_size=page_size)
    return report


async def test_pull_finds_objects_added_before_its_pages_and_its_window(
    store: Store, clocked_hub: tuple[str, str, TokenInfo, Clock], tmp_path: Path
) -> None:
    api, reader, observer, clock = clocked_hub
    p = producer(ORG_A)
    StoreBackend(store).add_objects(OBSERVATIONS, observer, envelope(p, 5, T0), clock.now)
    later = T0 + dt.timedelta(hours=4)  # the same destinations again: their SCOs are repeats, not added again
    clock.now = later
    StoreBackend(store).add_objects(OBSERVATIONS, observer, envelope(p, 5, later), clock.now)
    hub_rows = by_stix_id(store)
    full = open_store(tmp_path / "full.db")
    report = await pull(full, api, reader, page_size=7)  # groups split across pages, SCOs pages behind
    assert report.indexed == 10 and report.pulled_objects == len(all_pages(store, ObjectQuery(OBSERVATIONS.id))[0])
    pulled = by_stix_id(full)
    assert {k: v["ping_address"] for k, v in pulled.items()} == {k: v["ping_address"] for k, v in hub_rows.items()}
    assert all(v["ping_address"] for v in pulled.values())
    incremental = open_store(tmp_path / "incremental.db")
    incremental.outbox.set_cursor(api, OBSERVATIONS.id, later - dt.timedelta(hours=1))  # only the second envelope
    report = await pull(incremental, api, reader, page_size=1000)
    assert report.indexed == 5
    assert all(row["ping_address"] for row in incremental.observations.rows())
    assert (
        set(incremental.reports.observer_names().values())
        == set(full.reports.observer_names().values())
        == {"observer-01"}
    )


def test_malformed_records_are_stored_but_not_indexed_or_fitted(store: Store) -> None:
    _, token = observer_token(store)
    p = producer(ORG_A)
    objects = envelope(p, 3)
    observed = [o for o in objects if o["type"] == "observed-data"]
    observed[0]["first_observed"] = "yesterday"
    observed[1]["extensions"][DETAILS_EXTENSION]["outcome"] = "x" * 100
    traffic = {o["id"]: o for o in objects if o["type"] == "network-traffic"}
    for ref in observed[1]["object_refs"]:
        probe = traffic.get(ref, {}).get("extensions", {}).get(PROBE_EXTENSION, {})
        probe.update({"http_status_code": "two hundred", "reply_ttl": 2**40, "rtt_avg_ms": "fast"})
    outcome = StoreBackend(store).add_objects(OBSERVATIONS, token, objects, T0)
    assert (len(outcome.successes), outcome.failures, outcome.indexed) == (len(objects), [], 2)
    rows = by_stix_id(store)
    assert observed[0]["id"] not in rows
    odd = rows[observed[1]["id"]]
    assert odd["outcome"] == "x" * 31 + "…" and odd["http_status"] is None and odd["ping_ttl"] is None
    assert odd["ping_rtt_avg_ms"] is None and odd["ping_address"]
    marks = odd["details"]["fitted"]
    assert marks["outcome"] == {"change": "clipped", "length": 100, "sha256": hashlib.sha256(b"x" * 100).hexdigest()}
    assert {marks[name]["change"] for name in ("http_status", "ping_ttl", "ping_rtt_avg_ms")} == {"dropped"}
