"""Signed observations end to end, with a real hub (SQLite and PostgreSQL) and agents that sync with it: a record
altered in the hub's database is refused by every agent after a pull; a revoked key's later records are refused
while its earlier ones stay; a rotated key is trusted through its endorsement; a key the hub swaps in is not."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from c2watch.stix.keys import public_key_text
from c2watch.stix.observation import Producer
from c2watch.stix.trust import endorse
from c2watch.stix.vocab import DETAILS_EXTENSION, PROBE_EXTENSION
from c2watch.store import Store, open_store
from c2watch.store.tables import refused_records, taxii_objects
from c2watch.taxii.sync import SyncReport, sync
from tests.helpers.hub import ORG_A, ORG_B, RunningHub, key_record, post, signing_producer
from tests.helpers.stix_factory import T0, group

HOUR = dt.timedelta(hours=1)


def agent(path: Path, p: Producer, start: int, count: int) -> Store:
    """An agent's store whose outbox holds ``count`` signed groups, one an hour from T0 + ``start`` hours."""
    store = open_store(path)
    groups = [json.dumps(group(p, i, T0 + i * HOUR)) for i in range(start, start + count)]
    store.observations.insert([], groups)
    return store


async def run_sync(store: Store, hub: RunningHub, token: str, p: Producer) -> SyncReport:
    return await sync(store, hub.api_root, hub.tokens[token], p)


def stored(hub: RunningHub, object_id: str) -> dict[str, Any]:
    with hub.store.connect() as conn:
        body = conn.scalar(sa.select(taxii_objects.c.body).where(taxii_objects.c.object_id == object_id))
    assert body is not None
    value: dict[str, Any] = json.loads(body)
    return value


def rewrite(hub: RunningHub, object_id: str, obj: dict[str, Any]) -> None:
    """What an operator with the hub's database could do: change a stored object in place, with raw SQL."""
    with hub.store.begin() as conn:
        changed = conn.execute(
            sa.text("UPDATE taxii_objects SET body = :body WHERE object_id = :id"),
            {"body": json.dumps(obj), "id": object_id},
        )
        assert changed.rowcount == 1


def indexed(store: Store) -> set[str]:
    return {row["stix_id"] for row in store.observations.rows()}


async def test_a_record_altered_in_the_hubs_database_is_refused_by_every_agent(hub: RunningHub, tmp_path: Path) -> None:
    tokyo, osaka, kyoto = (
        signing_producer(ORG_A, "tokyo-01"),
        signing_producer(ORG_B, "osaka-01"),
        signing_producer(ORG_A, "kyoto-01"),
    )
    a, b, c = (
        agent(tmp_path / "a.db", tokyo, 0, 3),
        agent(tmp_path / "b.db", osaka, 10, 3),
        open_store(tmp_path / "c.db"),
    )
    await run_sync(a, hub, "a-observer", tokyo)
    await run_sync(b, hub, "b-observer", osaka)
    osaka_ids = [i for i in _stix_ids(hub) if stored(hub, i)["created_by_ref"] == osaka.org_identity]
    assert len(osaka_ids) == 3
    outcome_changed, probe_changed = osaka_ids[0], osaka_ids[1]
    record = stored(hub, outcome_changed)
    record["extensions"][DETAILS_EXTENSION]["outcome"] = "silent"  # B's destination made to look dead
    rewrite(hub, outcome_changed, record)
    traffic_id = next(ref for ref in stored(hub, probe_changed)["object_refs"] if ref.startswith("network-traffic--"))
    traffic = stored(hub, traffic_id)
    traffic["extensions"][PROBE_EXTENSION]["result"] = "timeout"  # the probe result the record refers to
    rewrite(hub, traffic_id, traffic)
    for store, token, p in ((a, "a-observer", tokyo), (b, "b-observer", osaka), (c, "a-observer", kyoto)):
        report = await run_sync(store, hub, token, p)
        assert sum(report.refused.values()) == 2 and report.as_dict()["refused"] == 2
        rows = {row["stix_id"]: row for row in store.observations.rows()}
        if store is b:  # B pulled its own records before they were altered: it keeps them as they were
            assert rows[outcome_changed]["outcome"] == "responding"
        else:
            assert outcome_changed not in rows and probe_changed not in rows
        assert osaka_ids[2] in indexed(store)  # the record nobody touched
        with store.connect() as conn:
            assert set(conn.scalars(sa.select(refused_records.c.object_id))) == {outcome_changed, probe_changed}
        assert store.keys.refusal_counts() == {"invalid": 2}
        again = await run_sync(store, hub, token, p)
        assert again.refused == {}  # counted once per hub and record


def _stix_ids(hub: RunningHub) -> list[str]:
    with hub.store.connect() as conn:
        query = sa.select(taxii_objects.c.object_id).where(taxii_objects.c.object_type == "observed-data")
        return sorted(conn.scalars(query.order_by(taxii_objects.c.id)))


async def test_a_revoked_keys_later_records_are_refused_and_its_earlier_ones_stay(
    hub: RunningHub, tmp_path: Path
) -> None:
    tokyo, osaka = signing_producer(ORG_A, "tokyo-02"), signing_producer(ORG_B, "osaka-02")
    a = agent(tmp_path / "a.db", tokyo, 0, 6)  # records created at T0 .. T0+5h
    b = open_store(tmp_path / "b.db")
    first = await run_sync(a, hub, "a-observer", tokyo)
    assert first.push_failures == []
    [record] = hub.store.keys.records([tokyo.system_identity])
    hub.store.keys.revoke(record.key_id, T0 + 3 * HOUR)  # stolen at 03:00: what it signed from then is refused
    report = await run_sync(b, hub, "b-observer", osaka)
    assert report.refused == {"revoked": 6}  # three observed-data and their sightings
    created = {row["stix_id"]: row["observed_at"] for row in b.observations.rows()}
    assert len(created) == 3 and max(created.values()) < T0 + 3 * HOUR
    a.observations.insert([], [json.dumps(group(tokyo, 50, T0 + 50 * HOUR))])  # signed after the revocation
    late = await run_sync(a, hub, "a-observer", tokyo)
    assert [f["message"] for f in late.push_failures] == [f"signature: revoked (key {record.key_id})"] * 2
    old = group(tokyo, 60, T0 - HOUR)  # backdated by the thief: the hub refuses any post after the revocation
    status = post(hub, "a-observer", old).json()
    assert any("revoked before this post" in f["message"] for f in status["failures"])


async def test_a_rotated_key_is_trusted_through_its_endorsement(hub: RunningHub, tmp_path: Path) -> None:
    old = signing_producer(ORG_A, "tokyo-03")
    a, b = agent(tmp_path / "a.db", old, 0, 2), open_store(tmp_path / "b.db")
    osaka = signing_producer(ORG_B, "osaka-03")
    await run_sync(a, hub, "a-observer", old)
    await run_sync(b, hub, "b-observer", osaka)  # pins tokyo-03's first key
    assert old.key is not None
    new_key = Ed25519PrivateKey.generate()
    endorsement = endorse(old.key, old.system_identity, public_key_text(new_key))
    new = Producer(old.org_identity, old.system_identity, ORG_A, "tokyo-03", "ua", new_key, endorsement)
    a.observations.insert([], [json.dumps(group(new, 5, T0 + 5 * HOUR))])
    rotated = await run_sync(a, hub, "a-observer", new)
    assert rotated.keys["enrolment"] == "endorsed" and rotated.push_failures == []
    report = await run_sync(b, hub, "b-observer", osaka)
    assert report.refused == {} and report.keys["pinned"] >= 1
    tokyo_rows = [r for r in b.observations.rows() if r["observed_at"] in (T0, T0 + HOUR, T0 + 5 * HOUR)]
    assert len(tokyo_rows) == 3  # the old key's records stay valid beside the new key's
    unendorsed = Producer(old.org_identity, old.system_identity, ORG_A, "tokyo-03", "ua", Ed25519PrivateKey.generate())
    a.observations.insert([], [json.dumps(group(unendorsed, 7, T0 + 7 * HOUR))])
    refused = await run_sync(a, hub, "a-observer", unendorsed)
    assert refused.keys["enrolment"] == "refused" and len(refused.push_failures) == 2  # observed-data, sighting


async def test_a_key_the_hub_swaps_in_is_detected_and_its_records_refused(hub: RunningHub, tmp_path: Path) -> None:
    tokyo, osaka = signing_producer(ORG_A, "tokyo-04"), signing_producer(ORG_B, "osaka-04")
    a, b = agent(tmp_path / "a.db", tokyo, 0, 1), open_store(tmp_path / "b.db")
    await run_sync(a, hub, "a-observer", tokyo)
    await run_sync(b, hub, "b-observer", osaka)  # pins tokyo-04's key
    swapped = Ed25519PrivateKey.generate()  # the hub operator registers a key of its own for tokyo-04 ...
    hub.store.keys.add(key_record(ORG_A, "tokyo-04", swapped))
    forged = Producer(tokyo.org_identity, tokyo.system_identity, ORG_A, "tokyo-04", "ua", swapped)
    status = post(hub, "a-admin", [*forged.identities(), *group(forged, 9, T0 + 9 * HOUR)]).json()
    assert status["failures"] == []  # ... and the hub, which trusts it, stores what it signs
    report = await run_sync(b, hub, "b-observer", osaka)
    assert report.keys["untrusted"] == 1 and report.refused == {"unknown-key": 2}
    assert T0 + 9 * HOUR not in {row["observed_at"] for row in b.observations.rows()}


async def test_unsigned_records_are_refused_once_their_observer_has_a_key(hub: RunningHub) -> None:
    hub.store.keys.add(key_record(ORG_A, "tokyo-05"))
    signed = signing_producer(ORG_A, "tokyo-05")
    unsigned = Producer(signed.org_identity, signed.system_identity, ORG_A, "tokyo-05", "ua")
    status = post(hub, "a-observer", [*unsigned.identities(), *group(unsigned, 1)]).json()
    assert {f["message"] for f in status["failures"]} == {"signature: unsigned-refused"}
    older = signing_producer(ORG_A, "no-key-yet")
    plain = Producer(older.org_identity, older.system_identity, ORG_A, "no-key-yet", "ua")
    status = post(hub, "a-observer", [*plain.identities(), *group(plain, 2)]).json()
    assert status["failures"] == []  # an agent from before signing, whose observer has no key: accepted


async def test_an_observer_renamed_in_the_hubs_database_is_refused(hub: RunningHub, tmp_path: Path) -> None:
    tokyo, osaka = signing_producer(ORG_A, "tokyo-06"), signing_producer(ORG_B, "osaka-06")
    a, b = agent(tmp_path / "a.db", tokyo, 0, 2), open_store(tmp_path / "b.db")
    await run_sync(a, hub, "a-observer", tokyo)
    identity = stored(hub, tokyo.system_identity)
    identity["name"] = "osaka-06"  # tokyo's records shown as if osaka had made them
    rewrite(hub, tokyo.system_identity, identity)
    report = await run_sync(b, hub, "b-observer", osaka)
    assert report.refused == {"renamed": 4}  # two observed-data, two sightings
    assert len(b.observations.rows()) == 0
