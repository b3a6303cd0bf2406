"""The fast canonical JSON writes exactly what the ``rfc8785`` package writes (signatures made by either verify with
the other), and raises the same errors for what RFC 8785 cannot carry."""

from __future__ import annotations

import math
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from c2watch.stix.canonical import canonical_json

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
    max_leaves=30,
)


@settings(max_examples=500, deadline=None)
@given(VALUES)
def test_same_bytes_as_rfc8785(value: Any) -> None:
    assert canonical_json(value) == rfc8785.dumps(value)


@pytest.mark.parametrize("code", range(0x80))
def test_every_ascii_character_escaped_as_rfc8785(code: int) -> None:
    text = f"a{chr(code)}b"
    assert canonical_json({text: [text]}) == rfc8785.dumps({text: [text]})


@pytest.mark.parametrize(
    "number", [0.0, -0.0, 1.0, 20.0, 0.1, 1e-7, 1e-6, 1e20, 1e21, 1e16, 5e-324, 1.7976931348623157e308, -3.5e-6]
)
def test_floats_as_ecmascript_writes_them(number: float) -> None:
    assert canonical_json({"n": [number]}) == rfc8785.dumps({"n": [number]})


def test_member_names_ordered_by_utf16_code_units() -> None:
    value = {"\ue000": 1, "\U0001f600": 2, "é": 3, "e": 4}  # U+1F600 is D83D DE00 in UTF-16: before U+E000
    assert canonical_json(value) == rfc8785.dumps(value)
    assert canonical_json(value).index("\U0001f600".encode()) < canonical_json(value).index("\ue000".encode())


@pytest.mark.parametrize("value", [2**53, -(2**53), math.nan, math.inf, "\ud800", {1: "x"}, {"a": {1, 2}}])
def test_same_errors_as_rfc8785(value: Any) -> None:
    with pytest.raises(rfc8785.CanonicalizationError) as expected:
        rfc8785.dumps(value)
    with pytest.raises(type(expected.value)):
        canonical_json(value)


def test_tuples_and_nested_containers() -> None:
    value = {"z": (1, [2.5, {"b": None, "a": (True, "x")}]), "a": []}
    assert canonical_json(value) == rfc8785.dumps(value) == b'{"a":[],"z":[1,[2.5,{"a":[true,"x"],"b":null}]]}'
