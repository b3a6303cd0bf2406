"""The OASIS taxii2-client against a running hub, on SQLite and PostgreSQL; stix2-validator on what it serves."""

from __future__ import annotations

import json

import pytest
import stix2
from stix2validator import ValidationOptions, validate_parsed_json
from taxii2client.v21 import ApiRoot, Collection, Server, as_pages

from c2watch.taxii.collections import OBSERVATIONS, WATCHLIST
from tests.helpers.hub import ORG_A, RunningHub
from tests.helpers.stix_factory import envelope, producer


def collection(hub: RunningHub, token: str, which: str = OBSERVATIONS.id) -> Collection:
    return Collection(f"{hub.api_root}collections/{which}/", user="member", password=hub.tokens[token])


def test_discovery_api_root_and_collections(hub: RunningHub) -> None:
    server = Server(f"{hub.url}/taxii2/", user="member", password=hub.tokens["a-reader"])
    assert server.title == "c2watch hub" and len(server.api_roots) == 1
    root: ApiRoot = server.api_roots[0]
    assert "application/taxii+json;version=2.1" in root.versions
    by_alias = {c.alias: c for c in root.collections}
    assert by_alias["observations"].can_write is False and by_alias["observations"].can_read is True
    writer = ApiRoot(hub.api_root, user="m", password=hub.tokens["a-observer"])
    assert {c.alias: c.can_write for c in writer.collections} == {"watchlist": False, "observations": True}
    coordinator = ApiRoot(hub.api_root, user="m", password=hub.tokens["a-coordinator"])
    assert {c.alias: c.can_write for c in coordinator.collections}[WATCHLIST.alias] is True


def test_add_objects_waits_for_completion_and_pages(hub: RunningHub) -> None:
    objects = envelope(producer(ORG_A), 60)
    status = collection(hub, "a-observer").add_objects(json.dumps({"objects": objects}), wait_for_completion=True)
    assert status.status == "complete" and status.failure_count == 0 and status.success_count == len(objects)
    reader = collection(hub, "a-reader")
    pages = list(as_pages(reader.get_objects, per_request=25))
    served = [obj for page in pages for obj in page.get("objects", [])]
    assert len(pages) == -(-len(objects) // 25)
    assert sorted(o["id"] for o in served) == sorted(o["id"] for o in objects)
    assert hub.store.observations.rows()  # indexed for the dashboard
    assert len(hub.store.observations.rows()) == 60


def test_manifest_versions_and_object_by_id(hub: RunningHub) -> None:
    objects = envelope(producer(ORG_A), 3)
    collection(hub, "a-observer").add_objects(json.dumps({"objects": objects}))
    reader = collection(hub, "a-reader")
    manifest = reader.get_manifest()
    assert len(manifest["objects"]) == len(objects)
    observed = next(o for o in objects if o["type"] == "observed-data")
    one = reader.get_object(observed["id"])
    assert one["objects"][0]["id"] == observed["id"]
    versions = reader.object_versions(observed["id"])
    assert versions["versions"] == [observed["modified"].replace(".000Z", ".000000Z")]
    typed = reader.get_objects(type="sighting")
    assert typed["objects"] and {o["type"] for o in typed["objects"]} == {"sighting"}


def test_new_version_is_served_as_last(hub: RunningHub) -> None:
    p = producer(ORG_A)
    identity = p.identities()[1]
    newer = {**identity, "modified": "2025-01-01T00:00:00.000Z", "description": "moved to Osaka"}
    writer = collection(hub, "a-observer")
    writer.add_objects(json.dumps({"objects": [identity]}))
    writer.add_objects(json.dumps({"objects": [newer]}))
    reader = collection(hub, "a-reader")
    assert reader.get_object(identity["id"])["objects"][0]["description"] == "moved to Osaka"
    assert len(reader.get_object(identity["id"], version="all")["objects"]) == 2
    first = reader.get_object(identity["id"], version="first")["objects"][0]
    assert first["description"] == "c2watch observer agent"


def test_served_objects_are_valid_stix(hub: RunningHub) -> None:
    objects = envelope(producer(ORG_A), 5)
    collection(hub, "a-observer").add_objects(json.dumps({"objects": objects}))
    served = collection(hub, "a-reader").get_objects()["objects"]
    bundle = {"type": "bundle", "id": "bundle--6f2b6c39-2d3c-4f0e-8d7b-3c9f0a6b1e21", "objects": served}
    stix2.parse(bundle, allow_custom=False)
    result = validate_parsed_json(bundle, ValidationOptions(version="2.1", disabled=["103", "301"]))
    assert result.is_valid, [r.errors for r in result.object_results if r.errors]


def test_identical_repost_is_success_and_stores_once(hub: RunningHub) -> None:
    objects = envelope(producer(ORG_A), 4)
    writer = collection(hub, "a-observer")
    writer.add_objects(json.dumps({"objects": objects}))
    again = writer.add_objects(json.dumps({"objects": objects}))
    assert again.success_count == len(objects) and again.failure_count == 0
    manifest = collection(hub, "a-reader").get_manifest()
    assert len(manifest["objects"]) == len(objects)
    assert len(hub.store.observations.rows()) == 4


@pytest.mark.parametrize("added", [False, True])
def test_added_after_filters(hub: RunningHub, added: bool) -> None:
    first = envelope(producer(ORG_A), 2)
    writer = collection(hub, "a-observer")
    writer.add_objects(json.dumps({"objects": first}))
    response = collection(hub, "a-reader")._conn.session.get(
        f"{hub.api_root}collections/{OBSERVATIONS.id}/objects/",
        headers={"Accept": "application/taxii+json;version=2.1", "Authorization": f"Bearer {hub.tokens['a-reader']}"},
    )
    stamp = response.headers["X-TAXII-Date-Added-Last"]
    second = envelope(producer(ORG_A, "observer-02"), 1)
    if added:
        writer.add_objects(json.dumps({"objects": second}))
    newer = collection(hub, "a-reader").get_objects(added_after=stamp).get("objects", [])
    expected = {o["id"] for o in second} - {o["id"] for o in first} if added else set()
    assert {o["id"] for o in newer} == expected
