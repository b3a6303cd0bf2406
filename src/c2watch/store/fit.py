"""Every value from outside made to fit its column, in one place, by one rule read off the table definitions.

What a C2 server answers, what another member's STIX says and what a feed lists are all adversary-controlled: a
reason phrase of 3,000 characters, a header with control characters, bytes that are not UTF-8, a number out of
range. The database must never refuse a row for such a value (PostgreSQL enforces ``VARCHAR`` lengths and refuses
NUL; SQLite does neither), and nothing may change silently. So, for a column of :mod:`c2watch.store.tables`:

- text is made *clean* first (:func:`c2watch.text.clean_text`: control characters and lone surrogates escaped);
- then *clipped* to the column's length, ending in ``…``;
- a number of the wrong type or out of the column's range is *dropped* (stored as NULL);

and each changed value leaves a :class:`Mark` (its original length and SHA-256, what was done) that the caller
records beside the row (``details.fitted`` of an observation, the ``fitted`` property of the STIX details
extension). Strings inside JSON columns and STIX extensions are cleaned and clipped to :data:`JSON_TEXT_LIMIT`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from c2watch.text import clean_text, is_clean

__all__ = [
    "CLIP_END",
    "JSON_TEXT_LIMIT",
    "Mark",
    "column_length",
    "fit_json",
    "fit_row",
    "fit_text",
    "fit_value",
    "fitted_row",
]

#: The end of a clipped text (so a reader sees at once that the value goes on).
CLIP_END = "…"
#: Characters kept of one string inside a JSON column or a STIX extension property of our own.
JSON_TEXT_LIMIT = 1024

_INT_RANGE = {sa.SmallInteger: 2**15, sa.BigInteger: 2**63, sa.Integer: 2**31}


@dataclass(frozen=True)
class Mark:
    """How a value was changed to fit: ``clipped``, ``escaped``, ``clipped+escaped`` or ``dropped``."""

    change: str
    length: int
    sha256: str

    def as_dict(self) -> dict[str, Any]:
        return {"change": self.change, "length": self.length, "sha256": self.sha256}


def _digest(value: str) -> str:
    """SHA-256 of the bytes ``value`` was decoded from (bytes that were not UTF-8 included)."""
    try:
        data = value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate no decoder made: keep it as it is
        data = value.encode("utf-8", "surrogatepass")
    return hashlib.sha256(data).hexdigest()


def fit_text(value: str, limit: int | None) -> tuple[str, Mark | None]:
    """``value`` cleaned and clipped to ``limit`` characters, with a mark when it changed."""
    if (limit is None or len(value) <= limit) and value.isascii() and value.isprintable():
        return value, None  # nearly every value: nothing to do
    clean = clean_text(value)
    clipped = limit is not None and len(clean) > limit
    if clipped:
        assert limit is not None
        clean = clean[: limit - len(CLIP_END)] + CLIP_END
    if clean == value:
        return value, None
    change = ("clipped" if is_clean(value) else "clipped+escaped") if clipped else "escaped"
    return clean, Mark(change, len(value), _digest(value))


def _dropped(value: Any) -> Mark:
    text = repr(value)
    return Mark("dropped", len(text), _digest(text))


Fitter = Callable[[Any], tuple[Any, Mark | None]]


def _text_fitter(length: int | None, required: bool) -> Fitter:
    def fit(value: Any) -> tuple[Any, Mark | None]:
        if isinstance(value, str):
            return fit_text(value, length)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return fit_text(str(value), length)
        if value is None and not required:
            return None, None
        return ("" if required else None), _dropped(value)

    return fit


def _integer_fitter(bound: int) -> Fitter:
    def fit(value: Any) -> tuple[Any, Mark | None]:
        if value is None or (type(value) is int and -bound <= value < bound):
            return value, None
        return None, _dropped(value)

    return fit


def _fit_float(value: Any) -> tuple[Any, Mark | None]:
    if value is None or type(value) is float:
        return value, None
    if type(value) is int:
        return float(value), None
    return None, _dropped(value)


def _fit_bool(value: Any) -> tuple[Any, Mark | None]:
    return (value, None) if type(value) is bool else (bool(value), _dropped(value))


def _fit_as_is(value: Any) -> tuple[Any, Mark | None]:
    return value, None


def _fit_json_column(value: Any) -> tuple[Any, Mark | None]:
    fitted = fit_json(value)
    if fitted is value:
        return value, None
    text = json.dumps(value, default=str)  # escapes what the fitting changed (a lone surrogate included)
    return fitted, Mark("escaped", len(text), hashlib.sha256(text.encode()).hexdigest())


def _fitter(column: sa.Column[Any]) -> Fitter:
    kind = column.type
    if isinstance(kind, sa.JSON):
        return _fit_json_column
    if isinstance(kind, sa.Boolean):
        return _fit_bool
    if isinstance(kind, sa.Integer):
        return _integer_fitter(next(bound for cls, bound in _INT_RANGE.items() if isinstance(kind, cls)))
    if isinstance(kind, sa.Float):
        return _fit_float
    if isinstance(kind, sa.String):
        return _text_fitter(kind.length, not column.nullable)
    return _fit_as_is


_FITTERS: dict[str, dict[str, Fitter]] = {}


def _fitters(table: sa.Table) -> dict[str, Fitter]:
    """Column name -> fitter, made once per table."""
    fitters = _FITTERS.get(table.name)
    if fitters is None:
        fitters = _FITTERS[table.name] = {column.name: _fitter(column) for column in table.columns}
    return fitters


def fit_value(column: sa.Column[Any], value: Any) -> tuple[Any, Mark | None]:
    """``value`` made to fit ``column``, with a mark when it changed."""
    assert isinstance(column.table, sa.Table)
    return _fitters(column.table)[column.name](value)


def column_length(column: sa.Column[Any]) -> int:
    """The length of a text column (the limit an importer checks before a value reaches the store)."""
    length = getattr(column.type, "length", None)
    assert isinstance(length, int), f"{column} has no length"
    return length


def fit_row(table: sa.Table, row: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Mark]]:
    """``row`` with every value of a column of ``table`` fitted (other keys kept), and the marks by column."""
    fitted: dict[str, Any] = {}
    marks: dict[str, Mark] = {}
    fitters = _fitters(table)
    for name, value in row.items():
        fitter = fitters.get(name)
        if fitter is None or value is None:
            fitted[name] = value  # NULL fits (a required column refuses it: a bug of ours, not a hostile value)
            continue
        fitted[name], mark = fitter(value)
        if mark is not None:
            marks[name] = mark
    return fitted, marks


def fitted_row(table: sa.Table, row: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`fit_row`, the marks kept in the row's ``details`` under ``fitted`` (tables without ``details``
    take only values checked before, by their importers: their marks are not kept)."""
    fitted, marks = fit_row(table, row)
    if marks and "details" in table.c:
        details = fitted.get("details")
        details = dict(details) if isinstance(details, Mapping) else {}
        known = details.get("fitted")
        new = {name: mark.as_dict() for name, mark in marks.items()}
        details["fitted"] = {**(known if isinstance(known, Mapping) else {}), **new}
        fitted["details"] = details
    return fitted


def fit_json(value: Any) -> Any:
    """``value`` as JSON can store it: strings cleaned and clipped to :data:`JSON_TEXT_LIMIT`, keys made text,
    anything else (bytes, objects) as its clipped text. The same object when nothing had to change."""
    kind = type(value)
    if value is None or kind in (bool, int, float):
        return value
    if kind is str:
        return fit_text(value, JSON_TEXT_LIMIT)[0]
    if kind is dict:
        items = [(k if type(k) is str else str(k), v) for k, v in value.items()]
        pairs = [(fit_text(k, JSON_TEXT_LIMIT)[0], fit_json(v)) for k, v in items]
        same = all(fk is k and fv is v for (fk, fv), (k, v) in zip(pairs, value.items(), strict=True))
        return value if same else dict(pairs)
    if kind is list:
        fitted = [fit_json(item) for item in value]
        return value if all(f is i for f, i in zip(fitted, value, strict=True)) else fitted
    if isinstance(value, Mapping | list | tuple):
        return fit_json(dict(value) if isinstance(value, Mapping) else list(value))
    return fit_text(str(value), JSON_TEXT_LIMIT)[0]
