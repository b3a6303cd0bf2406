"""RFC 8785 canonical JSON, byte for byte what the ``rfc8785`` package writes, at orjson's speed.

Every observed-data and sighting an observer makes is signed over its canonical JSON, and so is the digest of each
object it refers to: the pure-Python ``rfc8785`` encoder was the largest cost of a probe cycle. Our records are
plain JSON data (str keys, str/int/float/bool/None values, lists, dicts), which orjson writes as RFC 8785 does once
the keys are sorted and the numbers are in the form both agree on:

- floats: an integral one becomes the int it equals (RFC 8785 writes ``25``, orjson ``25.0``); a non-integral one
  in [1e-4, 1e16) is written alike by both (shortest round-trip digits, no exponent);
- keys: sorted by orjson in code point order, which is RFC 8785's UTF-16 order unless a character beyond U+FFFF
  (a surrogate pair in UTF-16) is compared: an output with such a character is left to rfc8785;
- strings: both escape only ``"``, ``\\`` and the control characters, in the same forms.

Anything else (a float with an exponent, an int beyond 2**53 - 1, a character beyond U+FFFF, a lone surrogate, a
type that is not plain JSON data) goes to ``rfc8785`` itself, which writes it or raises its own error.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
import rfc8785

__all__ = ["canonical_json"]

_INT_LIMIT = 2**53 - 1  # rfc8785 refuses integers beyond what a double holds exactly
_PLAIN_MIN = 1e-4  # non-integral floats in [_PLAIN_MIN, _PLAIN_MAX) have no exponent in either encoder
_PLAIN_MAX = 1e16
_BEYOND_BMP = re.compile(rb"[\xf0-\xf4]")  # the lead byte of a 4-byte UTF-8 sequence


class _Unusual(Exception):
    """A value the fast path does not write exactly as rfc8785 would."""


def canonical_json(value: Any) -> bytes:
    """``rfc8785.dumps(value)``, the same bytes (or the same error)."""
    try:
        text = orjson.dumps(_plain(value), option=orjson.OPT_SORT_KEYS)
    except (_Unusual, orjson.JSONEncodeError):
        return rfc8785.dumps(value)
    if not text.isascii() and _BEYOND_BMP.search(text):
        return rfc8785.dumps(value)
    return text


def _plain(value: Any) -> Any:
    """``value``, or a copy of it with every float in the form orjson writes as RFC 8785 does."""
    kind = type(value)
    if kind is dict:
        return _plain_items(value)
    if kind is list or kind is tuple:
        items = [_plain(item) for item in value]
        return value if all(new is old for new, old in zip(items, value, strict=True)) else items
    if kind is str or kind is bool or value is None:
        return value
    if kind is int:
        if -_INT_LIMIT <= value <= _INT_LIMIT:
            return value
        raise _Unusual
    if kind is float:
        return _number(value)
    raise _Unusual  # not plain JSON data: rfc8785 writes it (a str or int subclass) or refuses it


def _plain_items(value: dict[Any, Any]) -> dict[Any, Any]:
    copied: dict[Any, Any] | None = None
    for key, item in value.items():
        kind = type(item)
        if kind is str or kind is bool or item is None:
            continue
        new = _plain(item)
        if new is not item:
            if copied is None:
                copied = dict(value)
            copied[key] = new
    return value if copied is None else copied


def _number(value: float) -> int | float:
    magnitude = abs(value)
    if value.is_integer():
        if magnitude <= _INT_LIMIT:
            return int(value)  # also -0.0 -> 0, as RFC 8785 writes it
    elif _PLAIN_MIN <= magnitude < _PLAIN_MAX:
        return value
    raise _Unusual  # nan, inf, or an exponent form: rfc8785 decides
