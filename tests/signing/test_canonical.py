"""The fast canonical JSON writes exactly the bytes of the ``rfc8785`` package (or fails with its error): for any
JSON-like value, for the numbers where the two encoders' forms part, and for every object an observer emits, which
take the fast path."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from c2watch.models.observation import Observation
from c2watch.models.probes import ProbeResult, ProbeTarget
from c2watch.stix import canonical
from c2watch.stix.canonical import canonical_json
from c2watch.stix.observation import Producer, observation_objects
from c2watch.stix.vocab import timestamp
from tests.helpers.stix_factory import T0, observation, producer

ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=12)  # lone surrogates and astral characters too
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**60), max_value=2**60)
    | st.floats()
    | ANY_TEXT
    | st.sampled_from(["", "a\u2028b", "\x7f", "\ue000", "\U0001f600", "\ud800", "é"])
)
VALUES = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4)
        | st.lists(children, max_size=3).map(tuple)
        | st.dictionaries(ANY_TEXT | st.sampled_from(["a", "\ue000", "\U0001f600", "B", "é"]), children, max_size=5)
    ),
    max_leaves=20,
)


def rfc8785_result(value: Any) -> tuple[str, bytes | type[BaseException]]:
    try:
        return "bytes", rfc8785.dumps(value)
    except Exception as exc:
        return "error", type(exc)


def ours(value: Any) -> tuple[str, bytes | type[BaseException]]:
    try:
        return "bytes", canonical_json(value)
    except Exception as exc:
        return "error", type(exc)


@settings(max_examples=1500, deadline=None)
@given(VALUES)
def test_any_json_like_value_canonicalises_as_rfc8785_does(value: Any) -> None:
    assert ours(value) == rfc8785_result(value)


@settings(max_examples=3000, deadline=None)
@given(st.floats() | st.floats(min_value=1e-7, max_value=1e22) | st.floats(min_value=-(2.0**54), max_value=2.0**54))
def test_every_float_canonicalises_as_rfc8785_does(value: float) -> None:
    assert ours({"x": value, "y": [value]}) == rfc8785_result({"x": value, "y": [value]})


@pytest.mark.parametrize(
    "value",
    [0.0, -0.0, 25.0, 100.0, 2.0**53 - 1, 2.0**53, 2.0**53 + 2, 1e16, 1e21, 1e-4, 1e-5, 1e-7, 0.1, 12.345, 5e-324],
)
def test_numbers_where_the_forms_part(value: float) -> None:
    assert ours([value, -value]) == rfc8785_result([value, -value])


@pytest.mark.parametrize("value", [2**53 - 1, -(2**53 - 1), 2**53, -(2**53), 2**64, True, False])
def test_integers_at_the_edge(value: int) -> None:
    assert ours({"n": value}) == rfc8785_result({"n": value})


def test_keys_sort_in_utf16_order_with_astral_characters() -> None:
    value = {"\ue000": 1, "\U0001f600": 2, "z": 3}
    assert canonical_json(value) == rfc8785.dumps(value)
    assert canonical_json(value).index("\U0001f600".encode()) < canonical_json(value).index("\ue000".encode())


SIGNER = Producer(
    producer("Org A").org_identity,
    producer("Org A").system_identity,
    "Org A",
    "observer-01",
    "UA",
    Ed25519PrivateKey.generate(),
)


def odd_observation(index: int, server: str, rtt: float, loss: float, body: int) -> Observation:
    """The factory's observation with hostile-looking values in the fields that carry text and numbers."""
    obs = observation(index, T0 + dt.timedelta(milliseconds=index))
    address = obs.target.addresses[0]
    icmp = ProbeResult("icmp", "alive", T0, rtt, {**obs.results["icmp"].fields, "rtt_avg_ms": rtt, "loss_pct": loss})
    http_fields = {**obs.results["http"].fields, "server": server, "title": server, "body_bytes": body}
    http = ProbeResult("http", "responding", T0, rtt, http_fields)
    target = ProbeTarget(
        index, "TID-\u00e9", "url", obs.target.url, address, 8080, "http", obs.target.url, "/", (address,)
    )
    return Observation(target, T0, None, {"icmp": icmp, "http": http}, obs.target_key)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(min_value=0, max_value=10_000),
    ANY_TEXT.filter(lambda text: not any("\ud800" <= ch <= "\udfff" for ch in text)),
    st.floats(min_value=0.001, max_value=60_000.0),
    st.sampled_from([0.0, 25.0, 33.33333333333333, 50.0, 100.0]),
    st.integers(min_value=0, max_value=2**40),
)
def test_every_object_an_observer_emits_takes_the_fast_path(
    index: int, server: str, rtt: float, loss: float, body: int
) -> None:
    created = timestamp(T0, millis=True)
    for obj in observation_objects(odd_observation(index, server, rtt, loss, body), SIGNER, created):
        assert canonical_json(obj) == rfc8785.dumps(obj)
        if server.isascii() or not any(ord(ch) > 0xFFFF for ch in server):
            canonical._plain(obj)  # raises when the object would go to rfc8785
