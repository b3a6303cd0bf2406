"""Ownership on the hub, two organisations, SQLite and PostgreSQL: an object id belongs to the organisation that
posted it first; an observation's observer must be one of the posting organisation's; organisation identities are
the hub's; shared campaigns stay shareable but cannot be rewritten; the dashboard's organisation name is the one the
hub registered. Each attack of issue 15 is one test."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import sqlalchemy as sa

from c2watch.stix.vocab import DETAILS_EXTENSION
from c2watch.store import Store, TokenInfo
from c2watch.store.tables import observers
from c2watch.taxii.backend import StoreBackend
from c2watch.taxii.collections import OBSERVATIONS
from c2watch.taxii.ingest import Outcome
from tests.helpers.hub import ORG_A, ORG_B, make_tokens
from tests.helpers.stix_factory import T0, envelope, producer

LATER = "2026-01-06T00:00:00.000Z"


def tokens(store: Store) -> tuple[TokenInfo, TokenInfo]:
    made = make_tokens(store)
    a, b = store.access.verify_token(made["a-observer"]), store.access.verify_token(made["b-observer"])
    assert a is not None and b is not None
    return a, b


def post(store: Store, token: TokenInfo, objects: list[dict[str, Any]]) -> Outcome:
    return StoreBackend(store).add_objects(OBSERVATIONS, token, objects, T0 + dt.timedelta(minutes=1))


def failures(outcome: Outcome) -> dict[str, str]:
    return {f["id"]: f["message"] for f in outcome.failures}


def of_type(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["type"] == kind]


def test_an_observation_claiming_another_organisations_observer_is_refused(store: Store) -> None:
    a, b = tokens(store)
    assert post(store, b, envelope(producer(ORG_B, "osaka"), 1)).failures == []
    spoofed = envelope(producer(ORG_A, "tokyo"), 1, T0 + dt.timedelta(hours=4))
    [observed] = of_type(spoofed, "observed-data")
    b_observer = producer(ORG_B, "osaka").system_identity
    observed["extensions"][DETAILS_EXTENSION]["observer_ref"] = b_observer
    outcome = post(store, a, spoofed)
    assert "is not an observer of the posting organisation" in failures(outcome)[observed["id"]]
    assert outcome.indexed == 0 and len(store.observations.rows()) == 1


def test_a_later_version_of_another_organisations_object_is_refused(store: Store) -> None:
    a, b = tokens(store)
    b_objects = envelope(producer(ORG_B, "osaka"), 1)
    post(store, b, b_objects)
    [observed] = of_type(b_objects, "observed-data")
    rewritten = copy.deepcopy(observed)
    rewritten.update(created_by_ref=producer(ORG_A).org_identity, modified=LATER)
    rewritten["extensions"][DETAILS_EXTENSION]["outcome"] = "silent"
    [b_identity] = [o for o in b_objects if o.get("identity_class") == "system"]
    squatted = {**b_identity, "created_by_ref": producer(ORG_A).org_identity, "modified": LATER, "name": "owned"}
    outcome = post(store, a, [rewritten, squatted])
    assert failures(outcome) == {
        observed["id"]: "this object belongs to another organisation",
        b_identity["id"]: "this object belongs to another organisation",
    }
    again = copy.deepcopy(observed)
    again["modified"] = LATER  # the owner may post a later version
    assert post(store, b, [again]).failures == []


def test_organisation_identities_are_the_hubs(store: Store) -> None:
    a, _ = tokens(store)
    [own] = [o for o in producer(ORG_A).identities() if o["identity_class"] == "organization"]
    [b_org] = [o for o in producer(ORG_B).identities() if o["identity_class"] == "organization"]
    renamed = {**own, "name": ORG_B}
    outcome = post(store, a, [own, renamed | {"modified": LATER}, b_org])
    refused = failures(outcome)
    assert refused[own["id"]] == "organisation identities are written by the hub only"  # the renamed version
    assert set(refused) == {own["id"], b_org["id"]}  # another organisation's identity: not its creator either
    assert [s["id"] for s in outcome.successes] == [own["id"]]  # its own identity, as the hub registered it


def test_campaigns_stay_shareable_but_cannot_be_rewritten(store: Store) -> None:
    a, b = tokens(store)
    a_objects = envelope(producer(ORG_A), 1)
    post(store, a, a_objects)
    [campaign] = of_type(a_objects, "campaign")
    b_objects = envelope(producer(ORG_B, "osaka"), 1)
    assert post(store, b, b_objects).failures == []  # the same campaign object: a repeat, shared
    rewritten = {**campaign, "modified": LATER, "name": "not a threat"}
    assert failures(post(store, b, [rewritten])) == {campaign["id"]: "this object belongs to another organisation"}


def test_the_dashboard_shows_the_organisation_the_hub_registered(store: Store) -> None:
    a, _ = tokens(store)
    objects = [o for o in envelope(producer(ORG_A), 2) if o.get("identity_class") != "organization"]
    for obj in objects:
        if obj.get("identity_class") == "system":
            obj["name"] = "Org B SOC's observer"  # names are not identities
    assert post(store, a, objects).indexed == 2
    with store.connect() as conn:
        assert [r.organization for r in conn.execute(sa.select(observers.c.organization))] == [ORG_A]
