"""A property of the hub (SQLite and PostgreSQL): whatever sequence of posts several organisations make — valid
records, records naming another organisation's observer, another's records re-signed with their own key, records
altered after signing, records signed with another observer's key — no stored or indexed record is ever attributed
to an organisation or an observer that did not sign it, and every valid record is kept."""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import json
from dataclasses import replace
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from c2watch.stix.observation import Producer
from c2watch.stix.pinning import screen
from c2watch.stix.signing import sign
from c2watch.stix.trust import SIGNED_TYPES, Keyring, record_observer
from c2watch.stix.vocab import DETAILS_EXTENSION
from c2watch.store import Store, TokenInfo
from c2watch.store.tables import observations, observers, organizations, taxii_objects
from c2watch.taxii.backend import StoreBackend
from c2watch.taxii.collections import OBSERVATIONS
from tests.helpers.hub import key_record, observer_key, signing_producer
from tests.helpers.stix_factory import T0, group

ORGS = ("Org P", "Org Q", "Org R")
KINDS = ("valid", "forged-observer", "re-signed", "tampered", "other-observers-key", "unsigned")
SAME_WHEN_OWN = ("forged-observer", "re-signed", "other-observers-key")  # valid when the victim is the poster
NUMBERS = itertools.count()  # every record made in this module has its own id


def _members(store: Store) -> tuple[dict[str, TokenInfo], dict[str, Producer]]:
    tokens, producers = {}, {}
    for org in ORGS:
        store.access.add_organization(org)
        secret, _ = store.access.create_token(org, f"{org} observer", "observer")
        info = store.access.verify_token(secret)
        assert info is not None
        tokens[org], producers[org] = info, signing_producer(org, f"{org.split()[1].lower()}-obs")
        store.keys.add(key_record(org, producers[org].observer_name))
    return tokens, producers


def _resign(objects: list[dict[str, Any]], signer: Producer) -> list[dict[str, Any]]:
    """The records of ``objects`` made the signer's: its organisation as creator, signed with its key."""
    assert signer.key is not None
    context = {o["id"]: o for o in objects}
    for obj in objects:
        if obj["type"] in SIGNED_TYPES:
            obj["created_by_ref"] = signer.org_identity
            sign(obj, signer.key, context)
    return objects


def _objects(kind: str, poster: Producer, victim: Producer, number: int) -> list[dict[str, Any]]:
    at = T0 + dt.timedelta(minutes=number)
    if kind == "valid":
        return group(poster, number, at)
    if kind == "forged-observer":  # the poster's record, naming the victim's observer, signed by the poster
        return group(replace(poster, system_identity=victim.system_identity), number, at)
    if kind == "re-signed":  # the victim's record, taken over by the poster
        return _resign(group(victim, number, at), poster)
    if kind == "other-observers-key":  # the poster's record signed with the victim's observer's key
        return group(replace(poster, key=observer_key(victim.org_name, victim.observer_name)), number, at)
    if kind == "unsigned":
        return group(replace(poster, key=None), number, at)
    tampered = group(poster, number, at)  # altered after signing
    for obj in tampered:
        if obj["type"] == "observed-data":
            obj["extensions"][DETAILS_EXTENSION]["outcome"] = "silent"
        elif obj["type"] == "sighting":
            obj["count"] = 2
    return tampered


def _stored(store: Store) -> list[tuple[dict[str, Any], str]]:
    """Every stored record with the identity of the organisation that posted it."""
    query = sa.select(taxii_objects.c.body, organizations.c.identity).join(
        organizations, organizations.c.id == taxii_objects.c.org_pk
    )
    with store.connect() as conn:
        rows = conn.execute(query.where(taxii_objects.c.object_type.in_(sorted(SIGNED_TYPES)))).all()
    return [(json.loads(body), identity) for body, identity in rows]


def _check_attribution(store: Store) -> None:
    keyring = Keyring(store.keys.records())
    with store.connect() as conn:
        all_objects = {
            json_id: body
            for json_id, body in conn.execute(sa.select(taxii_objects.c.object_id, taxii_objects.c.body)).all()
        }
    context = {oid: json.loads(body) for oid, body in all_objects.items()}
    signers = {}
    for obj, poster in _stored(store):
        check = keyring.check(obj, context)
        assert check.valid, (obj["id"], check)
        key = keyring.records[str(check.key)]
        assert key.org_identity == poster == obj["created_by_ref"]  # posted by the signer's organisation
        assert key.observer_ref == record_observer(obj)  # naming the signer's observer
        signers[obj["id"]] = key
    kept, refusals = screen(context, context, keyring)  # what an agent keeps after a pull: all of it
    assert refusals == [] and kept.keys() == context.keys()
    indexed = sa.select(observations.c.stix_id, observers.c.system_identity, observers.c.org_identity).join(
        observers, observers.c.id == observations.c.observer_pk
    )
    with store.connect() as conn:
        for stix_id, system_identity, org_identity in conn.execute(indexed):
            key = signers[stix_id]
            assert (system_identity, org_identity) == (key.observer_ref, key.org_identity)


def test_no_record_is_attributed_to_anyone_who_did_not_sign_it(store: Store) -> None:
    tokens, producers = _members(store)
    backend = StoreBackend(store)
    posts = st.lists(st.tuples(st.sampled_from(ORGS), st.sampled_from(KINDS), st.sampled_from(ORGS)), max_size=8)

    @given(posts)
    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    def run(sequence: list[tuple[str, str, str]]) -> None:
        expected = set()
        for poster, kind, victim in sequence:
            number = next(NUMBERS)
            objects = _objects(kind, producers[poster], producers[victim], number)
            envelope = [*producers[poster].identities(), *copy.deepcopy(objects)]
            outcome = backend.add_objects(OBSERVATIONS, tokens[poster], envelope, dt.datetime.now(dt.UTC))
            accepted = {s["id"] for s in outcome.successes}
            records = {o["id"] for o in objects if o["type"] in SIGNED_TYPES}
            if kind == "valid" or (poster == victim and kind in SAME_WHEN_OWN):
                assert records <= accepted, outcome.failures
                expected |= records
            else:
                assert not records & accepted, (kind, outcome.successes)
        stored = {obj["id"] for obj, _ in _stored(store)}
        assert expected <= stored
        _check_attribution(store)

    run()
