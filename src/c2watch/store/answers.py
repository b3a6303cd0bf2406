"""What the verdicts read of the observations: which of them count and what an answer is, one observer's summary of
one destination, the bookkeeping of what has been folded (watermarks), and a span of destinations (a page).

An *answer* is per probe: ``http`` (any HTTP status), ``icmp`` (an echo reply), ``tls`` (a certificate read).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

import sqlalchemy as sa

from c2watch.models.observation import EGRESS_FAILED
from c2watch.store.shared import insert_ignoring_duplicates
from c2watch.store.tables import analysis_state, observations

__all__ = [
    "WATERMARK",
    "Span",
    "Summary",
    "answered",
    "answered_any",
    "chunks",
    "counted",
    "safe_top",
    "watermark",
]

o = observations

WATERMARK = "answer_summaries"
_CHUNK = 400


def counted() -> sa.ColumnElement[bool]:
    """Observations a verdict reads: not those whose proxy failed (``egress-failed``: the destination was not
    reached, so it is neither an answer nor a silent cycle)."""
    return o.c.outcome != EGRESS_FAILED


def answered(probe: str) -> sa.ColumnElement[bool]:
    """Whether an observation holds an answer of ``probe``."""
    if probe == "http":
        return o.c.http_status.is_not(None)
    if probe == "icmp":
        return o.c.ping_received > 0
    if probe == "tls":
        return o.c.tls_cert_sha256.is_not(None)
    raise ValueError(f"unknown probe {probe!r}")


def answered_any(probes: Sequence[str]) -> sa.ColumnElement[bool]:
    return sa.or_(*(answered(probe) for probe in probes))


def chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    """``items`` in slices short enough for a list of bound parameters."""
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


class Summary(NamedTuple):
    """One observer's record of one destination: per probe its last answer (``http_at``, ``icmp_at``, ``tls_at``),
    its observations since then (``silent_*``) and its observations since the destination's last answer of that
    probe to any observer (``after_*``)."""

    target_pk: int
    observer_pk: int
    observations: int
    first_at: dt.datetime
    last_at: dt.datetime
    http_at: dt.datetime | None
    http_status: int | None
    icmp_at: dt.datetime | None
    icmp_ttl: int | None
    tls_at: dt.datetime | None
    silent_http: int
    silent_icmp: int
    silent_tls: int
    after_http: int
    after_icmp: int
    after_tls: int

    def answer_at(self, probe: str) -> dt.datetime | None:
        value: dt.datetime | None = getattr(self, f"{probe}_at")
        return value

    def silent(self, probe: str) -> int:
        value: int = getattr(self, f"silent_{probe}")
        return value

    def after(self, probe: str) -> int:
        value: int = getattr(self, f"after_{probe}")
        return value


def safe_top(conn: sa.Connection) -> int:
    """The highest observation id below which every row is committed (run it in its own short transaction).

    On PostgreSQL a writer may take id 100 and commit after another took id 101; a SHARE lock waits for the writers
    in flight, so no row below the maximum can appear later. SQLite writers are serialised, so ids commit in order.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("LOCK TABLE observations IN SHARE MODE"))
    return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(o.c.id), 0))).scalar_one())


def watermark(conn: sa.Connection, now: dt.datetime, name: str = WATERMARK) -> int:
    """The id of the last observation folded into the summaries, or into what ``name`` names (0 before the first
    fold)."""
    insert_ignoring_duplicates(conn, analysis_state, [{"name": name, "value": 0, "updated_at": now}])
    return int(conn.execute(sa.select(analysis_state.c.value).where(analysis_state.c.name == name)).scalar_one())


class Span(NamedTuple):
    """The destinations with ids ``first`` to ``last`` (both included): one page of a refresh."""

    first: int
    last: int
