"""RFC 8785 canonical JSON, fast: byte for byte what the ``rfc8785`` package writes, at a fraction of its cost.

The ``rfc8785`` package is pure Python; a hub checks two signatures and four digests per observation and an agent as
many per pulled record, so canonical JSON was most of their CPU. For JSON as it is parsed (``dict``, ``list``,
``str``, ``int``, ``float``, ``bool``, ``None``) with ASCII member names, RFC 8785's output is orjson's with sorted
keys, except for numbers that are floats: those are written by ``rfc8785`` itself and spliced in as fragments.
Anything else (other types, non-ASCII member names, whose order is by UTF-16 code units, integers beyond 2**53,
strings orjson refuses) goes to ``rfc8785``, which writes it or raises its own error, as before.
"""

from __future__ import annotations

from typing import Any

import orjson
import rfc8785

__all__ = ["canonical_json"]

_INT_MAX = 2**53 - 1


class _Slow(Exception):
    """A value the fast path does not write: ``rfc8785`` decides."""


def _prepared(value: Any) -> Any:
    """``value`` with its floats as orjson fragments of their RFC 8785 text (the same object when it has none)."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return value
    if kind is int:
        if -_INT_MAX <= value <= _INT_MAX:
            return value
        raise _Slow
    if kind is float:
        return orjson.Fragment(rfc8785.dumps(value))
    if kind is dict:
        return _prepared_dict(value)
    if kind is list or kind is tuple:
        return _prepared_list(value)
    raise _Slow


def _prepared_dict(value: dict[Any, Any]) -> dict[str, Any]:
    copied: dict[str, Any] | None = None
    for key, item in value.items():
        if type(key) is not str or not key.isascii():
            raise _Slow
        new = _prepared(item)
        if new is not item:
            copied = copied if copied is not None else dict(value)
            copied[key] = new
    return value if copied is None else copied


def _prepared_list(value: list[Any] | tuple[Any, ...]) -> list[Any] | tuple[Any, ...]:
    copied: list[Any] | None = None
    for index, item in enumerate(value):
        new = _prepared(item)
        if new is not item:
            copied = copied if copied is not None else list(value)
            copied[index] = new
    return value if copied is None else copied


def canonical_json(value: Any) -> bytes:
    """``rfc8785.dumps(value)``: the same bytes, or the same error."""
    try:
        return orjson.dumps(_prepared(value), option=orjson.OPT_SORT_KEYS)
    except (_Slow, orjson.JSONEncodeError):
        return rfc8785.dumps(value)
