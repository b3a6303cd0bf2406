"""The hub's ingest on both backends: another member's hostile values (longer than any column, NUL and control
characters, a port that is not a number) cost at most those values, and a row the database refuses costs only its
refused value, never the envelope."""

from __future__ import annotations

import hashlib
from typing import Any

import sqlalchemy as sa

from c2watch.stix.vocab import DETAILS_EXTENSION, PROBE_EXTENSION
from c2watch.store import Store
from c2watch.store.tables import observations, observers, targets
from c2watch.taxii.backend import StoreBackend
from c2watch.taxii.collections import OBSERVATIONS
from tests.helpers.database import refuse_rows
from tests.helpers.hub import ORG_A, by_stix_id, observer_token
from tests.helpers.stix_factory import T0, envelope, producer


def _observed(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [o for o in objects if o["type"] == "observed-data"]


def _http(objects: list[dict[str, Any]], observed: dict[str, Any]) -> dict[str, Any]:
    by_id = {o["id"]: o for o in objects}
    flows = [by_id[ref] for ref in observed["object_refs"] if by_id.get(ref, {}).get("type") == "network-traffic"]
    [flow] = [f for f in flows if f["extensions"][PROBE_EXTENSION]["probe"] == "http-get"]
    return flow


def test_hostile_values_of_another_member_cost_at_most_those_values(store: Store) -> None:
    _, token = observer_token(store)
    objects = envelope(producer(ORG_A, "observer-" + "o" * 500), 3)
    observed = _observed(objects)
    long_server, nul_reason = "S" * 5000, "O\x00K\x1b[31m"
    first = _http(objects, observed[0])
    first["extensions"][DETAILS_EXTENSION]["server"] = long_server
    first["extensions"][PROBE_EXTENSION]["http_reason_phrase"] = nul_reason
    long_url = "http://198.51.100.9/" + "a" * 2300
    observed[1]["extensions"][DETAILS_EXTENSION]["target_key"] = f"{long_url}|||port-80"
    observed[2]["extensions"][DETAILS_EXTENSION]["target_key"] = "http://198.51.100.9/\x00|||80"  # not indexed
    outcome = StoreBackend(store).add_objects(OBSERVATIONS, token, objects, T0)
    assert (len(outcome.successes), outcome.failures, outcome.indexed) == (len(objects), [], 2)
    rows = by_stix_id(store)
    row = rows[observed[0]["id"]]
    assert row["http_server"] == "S" * 1023 + "…" and row["http_reason"] == "O\\x00K\\x1b[31m"
    marks = row["details"]["fitted"]
    assert marks["http_server"] == {
        "change": "clipped",
        "length": 5000,
        "sha256": hashlib.sha256(long_server.encode()).hexdigest(),
    }
    assert marks["http_reason"]["change"] == "escaped"
    with store.connect() as conn:
        [target] = conn.execute(sa.select(targets).where(targets.c.id == rows[observed[1]["id"]]["target_pk"])).all()
        names = {r.name for r in conn.execute(sa.select(observers.c.name))}
    assert target.url == long_url[:2047] + "…" and target.port is None and len(target.key) > 2048
    assert names == {"observer-" + "o" * 54 + "…"}


def test_a_row_the_hub_database_refuses_costs_only_its_value(store: Store) -> None:
    refuse_rows(store, "observations", "http_status", "418")
    _, token = observer_token(store)
    objects = envelope(producer(ORG_A), 3)
    observed = _observed(objects)
    _http(objects, observed[1])["extensions"][PROBE_EXTENSION]["http_status_code"] = 418
    outcome = StoreBackend(store).add_objects(OBSERVATIONS, token, objects, T0)
    assert (len(outcome.successes), outcome.failures, outcome.indexed) == (len(objects), [], 3)
    rows = by_stix_id(store)
    teapot = rows[observed[1]["id"]]
    assert teapot["http_status"] is None and teapot["details"]["store_refused"]["columns"] == ["http_status"]
    assert "refuse_http_status" in teapot["details"]["store_refused"]["error"]
    assert [rows[o["id"]]["http_status"] for o in (observed[0], observed[2])] == [200, 200]
    with store.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(observations)).scalar() == 3
