"""Deterministic ids are exactly ``uuid.uuid5`` of their namespace and name (the fast UUIDv5 of stix.vocab)."""

from __future__ import annotations

import uuid

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from c2watch.stix.vocab import sco_id, stable_id

SCO_NAMESPACE = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")  # STIX 2.1 §2.9
C2WATCH_NAMESPACE = uuid.UUID("5d1c3f0a-6b7e-5a2d-8c4f-3e9b1a7d2c60")
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)


@settings(max_examples=500, deadline=None)
@given(st.sampled_from(["ipv4-addr", "ipv6-addr", "domain-name", "url"]), TEXT)
def test_sco_ids_are_uuid5_of_the_canonical_contributing_properties(kind: str, value: str) -> None:
    name = orjson.dumps({"value": value}, option=orjson.OPT_SORT_KEYS).decode()
    assert sco_id(kind, {"value": value}) == f"{kind}--{uuid.uuid5(SCO_NAMESPACE, name)}"


@settings(max_examples=500, deadline=None)
@given(st.sampled_from(["observed-data", "sighting", "network-traffic"]), st.lists(TEXT, max_size=4))
def test_our_ids_are_uuid5_of_the_joined_parts(kind: str, parts: list[str]) -> None:
    assert stable_id(kind, *parts) == f"{kind}--{uuid.uuid5(C2WATCH_NAMESPACE, '|'.join((kind, *parts)))}"


def test_a_known_id_never_changes() -> None:
    assert sco_id("ipv4-addr", {"value": "198.51.100.7"}) == "ipv4-addr--" + str(
        uuid.uuid5(SCO_NAMESPACE, '{"value":"198.51.100.7"}')
    )
