"""Who may do what, and what bad requests get: clear TAXII errors, never a 500, nothing stored when refused."""

from __future__ import annotations

import base64

import httpx
import pytest

from c2watch.taxii.collections import OBSERVATIONS, WATCHLIST
from c2watch.taxii.media import TAXII_MEDIA
from tests.helpers.hub import OBJECTS_PATH, ORG_A, RunningHub, call, post
from tests.helpers.stix_factory import envelope, producer


def stored(hub: RunningHub) -> int:
    page, _ = hub.store.taxii.objects(
        __import__("c2watch.store.taxii", fromlist=["ObjectQuery"]).ObjectQuery(OBSERVATIONS.id, versions=["all"])
    )
    return len(page)


def assert_taxii_error(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == TAXII_MEDIA
    body = response.json()
    assert body["http_status"] == str(status) and body["title"]


@pytest.mark.parametrize("path", ["", "collections/", OBJECTS_PATH, f"collections/{OBSERVATIONS.id}/manifest/"])
def test_no_token_is_401(hub: RunningHub, path: str) -> None:
    assert_taxii_error(call(hub, "GET", path, token=None), 401)
    assert_taxii_error(call(hub, "GET", path, token="c2w_0000_forged"), 401)


def test_token_schemes(hub: RunningHub) -> None:
    secret = hub.tokens["a-reader"]
    basic = base64.b64encode(f"anyone:{secret}".encode()).decode()
    for header in (f"Bearer {secret}", f"Token {secret}", f"Basic {basic}"):
        assert call(hub, "GET", "collections/", None, headers={"Authorization": header}).status_code == 200


def test_reader_posting_is_403_and_stores_nothing(hub: RunningHub) -> None:
    assert_taxii_error(post(hub, "a-reader", envelope(producer(ORG_A), 1)), 403)
    assert_taxii_error(post(hub, "a-observer", [], f"collections/{WATCHLIST.id}/objects/"), 403)
    assert stored(hub) == 0


def test_revoked_token_is_401(hub: RunningHub) -> None:
    public_id = hub.tokens["a-observer"].split("_")[1]
    assert post(hub, "a-observer", envelope(producer(ORG_A), 1)).status_code == 202
    hub.store.access.revoke_token(public_id)
    assert_taxii_error(post(hub, "a-observer", envelope(producer(ORG_A), 1)), 401)


def test_forged_created_by_ref_is_refused_others_kept(hub: RunningHub) -> None:
    forged = envelope(producer(ORG_A), 1)  # Org A's records, posted with Org B's token
    status = post(hub, "b-observer", forged).json()
    refused = {f["id"] for f in status["failures"]}
    sdo_ids = {o["id"] for o in forged if "created_by_ref" in o or o["type"] == "identity"}
    assert sdo_ids and sdo_ids <= refused
    assert all("created_by_ref" in f["message"] for f in status["failures"])
    assert hub.store.observations.rows() == []  # nothing indexed under a forged name


def test_invalid_objects_reported_valid_ones_stored(hub: RunningHub) -> None:
    good = envelope(producer(ORG_A), 1)
    bad = [
        {"type": "indicator"},
        {"type": "Bad Type", "id": "x"},
        "not an object",
        {"type": "identity", "id": "identity--not-a-uuid", "spec_version": "2.1"},
    ]
    status = post(hub, "a-observer", good + bad).json()
    assert status["failure_count"] == 4 and status["success_count"] == len(good)
    assert stored(hub) == len(good)


def test_oversized_body_is_413_and_nothing_stored(hub: RunningHub) -> None:
    big = envelope(producer(ORG_A), 2000)
    response = post(hub, "a-observer", big)
    assert_taxii_error(response, 413)
    assert stored(hub) == 0 and hub.store.observations.rows() == []


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"{not json", 400),
        (b'{"type": "bundle", "id": "bundle--x", "objects": []}', 400),
        (b"[]", 400),
        (b'{"objects": 5}', 400),
        (b"\xff\xfe\x00", 400),
    ],
)
def test_malformed_envelopes_are_400(hub: RunningHub, body: bytes, status: int) -> None:
    assert_taxii_error(call(hub, "POST", OBJECTS_PATH, "a-observer", body), status)


def test_ten_thousand_objects_in_one_envelope(hub: RunningHub) -> None:
    objects = [
        {
            "type": "ipv4-addr",
            "spec_version": "2.1",
            "id": f"ipv4-addr--{i:08x}-0000-4000-8000-000000000000",
            "value": f"198.51.{i // 256 % 256}.{i % 256}",
        }
        for i in range(10_000)
    ]
    response = post(hub, "a-observer", objects)
    assert response.status_code == 202, response.text
    assert response.json()["success_count"] == 10_000


def test_media_types_and_unknowns(hub: RunningHub) -> None:
    assert_taxii_error(call(hub, "GET", "collections/", headers={"Accept": "text/html"}), 406)
    wrong_type = call(
        hub, "POST", OBJECTS_PATH, "a-observer", b'{"objects": []}', headers={"Content-Type": "application/json"}
    )
    assert_taxii_error(wrong_type, 415)
    assert_taxii_error(call(hub, "GET", "collections/nope/objects/"), 404)
    assert_taxii_error(call(hub, "GET", OBJECTS_PATH + "indicator--6f2b6c39-2d3c-4f0e-8d7b-3c9f0a6b1e21/"), 404)
    assert_taxii_error(call(hub, "GET", OBJECTS_PATH + "?added_after=yesterday"), 400)
    assert_taxii_error(call(hub, "GET", OBJECTS_PATH + "?limit=0"), 400)
    assert_taxii_error(call(hub, "GET", OBJECTS_PATH + "?next=abc"), 400)
    assert_taxii_error(call(hub, "GET", "status/6f2b6c39-2d3c-4f0e-8d7b-3c9f0a6b1e21/"), 404)


def test_status_is_per_organisation(hub: RunningHub) -> None:
    status_id = post(hub, "a-observer", envelope(producer(ORG_A), 1)).json()["id"]
    assert call(hub, "GET", f"status/{status_id}/", "a-reader").json()["status"] == "complete"
    assert_taxii_error(call(hub, "GET", f"status/{status_id}/", "b-observer"), 404)


@pytest.mark.parametrize(
    "query",
    [
        "next=99999999999999999999999",
        "next=%C2%B2",  # a digit that is not ASCII
        "added_after=0001-01-01T00:00:00%2B01:00",  # before year 1 once in UTC
        "added_after=yesterday",
        "limit=0",
        "limit=-5",
        "limit=abc",
        "limit=%C2%B2",
        "limit=1e3",
        "limit=",
    ],
)
def test_out_of_range_paging_is_a_taxii_400(hub: RunningHub, query: str) -> None:
    for path in (OBJECTS_PATH, f"collections/{OBSERVATIONS.id}/manifest/"):
        assert_taxii_error(call(hub, "GET", f"{path}?{query}"), 400)


def test_a_limit_beyond_the_largest_page_is_clamped(hub: RunningHub) -> None:
    post(hub, "a-observer", envelope(producer(ORG_A), 2))
    for path in (OBJECTS_PATH, f"collections/{OBSERVATIONS.id}/manifest/"):
        page = call(hub, "GET", f"{path}?limit=99999999999999999999999")
        assert page.status_code == 200 and page.json()["objects"] and page.json()["more"] is False
