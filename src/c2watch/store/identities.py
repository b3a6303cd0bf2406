"""Identity tracks: each destination's identity state (:class:`c2watch.identity.judge.Track`), folded from the
observations stored since the last fold, one small JSON document per destination.

Like the answer summaries, the fold reads the rows above its own watermark (``identity_tracks`` in
``analysis_state``) in pages of ids, and writes the page's tracks in the transaction that moves the watermark by
compare-and-set, so two processes never fold a row twice. Rows of one destination are folded in time order within a
page; a row stored later with an older time (a late pull from the hub) is folded when it arrives. An
``egress-failed`` observation (the proxy failed, not the server) is passed over, as the verdicts do.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from c2watch.identity import Rule
from c2watch.identity.judge import IdentityRules, Track
from c2watch.identity.sightings import answer_status, evidence_digest, sighting_of, signatures_digest
from c2watch.models.observation import EGRESS_FAILED
from c2watch.store.answers import safe_top, watermark
from c2watch.store.bulkupdate import update_rows
from c2watch.store.database import Database
from c2watch.store.tables import analysis_state, identity_tracks, observations, observers

__all__ = ["IDENTITY_MARK", "fold_page", "tracks"]

IDENTITY_MARK = "identity_tracks"
PAGE = 20_000
_CHUNK = 500
o = observations

_COLUMNS = (
    o.c.id,
    o.c.target_pk,
    o.c.observed_at,
    o.c.outcome,
    o.c.probed_value,
    o.c.ping_address,
    o.c.http_status,
    o.c.http_server,
    o.c.http_body_sha256,
    o.c.tls_cert_sha256,
    o.c.details,
    observers.c.name.label("observer"),
)


def _page(conn: sa.Connection, mark: int, top: int) -> list[Mapping[str, Any]]:
    query = (
        sa.select(*_COLUMNS)
        .join(observers, observers.c.id == o.c.observer_pk)
        .where(o.c.id > mark, o.c.id <= top)
        .order_by(o.c.id)
        .limit(PAGE)
    )
    return [dict(row._mapping) for row in conn.execute(query)]


def _load(conn: sa.Connection, target_pks: Sequence[int]) -> dict[int, Track]:
    found: dict[int, Track] = {}
    for start in range(0, len(target_pks), _CHUNK):
        chunk = target_pks[start : start + _CHUNK]
        query = sa.select(identity_tracks.c.target_pk, identity_tracks.c.state).where(
            identity_tracks.c.target_pk.in_(chunk)
        )
        for target_pk, state in conn.execute(query):
            found[target_pk] = Track.from_dict(state if isinstance(state, Mapping) else {})
    return found


def fold_page(db: Database, signatures: Sequence[Rule], rules: IdentityRules, now: dt.datetime) -> int | None:
    """Fold one page of new observations; the number folded, 0 when there is nothing new, None when another process
    moved the watermark first (try again)."""
    with db.begin() as conn:
        top = safe_top(conn)
    with db.begin() as conn:
        mark = watermark(conn, now, IDENTITY_MARK)
    if mark >= top:
        return 0
    with db.connect() as conn:
        rows = _page(conn, mark, top)
    if not rows:
        return 0
    upper = int(rows[-1]["id"])
    by_target: dict[int, list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        by_target[int(row["target_pk"])].append(row)
    with db.begin() as conn:
        moved = conn.execute(
            analysis_state.update()
            .where(analysis_state.c.name == IDENTITY_MARK, analysis_state.c.value == mark)
            .values(value=upper, updated_at=now)
        )
        if not moved.rowcount:
            return None
        existing = _load(conn, sorted(by_target))
        salt = signatures_digest(signatures)
        folded = {
            pk: _folded(existing.get(pk) or Track(), target_rows, signatures, rules, salt)
            for pk, target_rows in by_target.items()
        }
        _save(conn, folded, existing.keys(), now)
    return len(rows)


def _folded(
    track: Track, rows: list[Mapping[str, Any]], signatures: Sequence[Rule], rules: IdentityRules, salt: bytes
) -> Track:
    """``track`` with one destination's rows of the page folded in, in time order; a row that brings the track's
    last evidence again (same digest) only moves its times and streaks (:meth:`Track.repeat`)."""
    for row in sorted(rows, key=lambda r: (r["observed_at"], r["id"])):
        if row["outcome"] == EGRESS_FAILED:  # the proxy failed: nothing is known of the server
            continue
        digest, observer = evidence_digest(row, salt), str(row["observer"])
        if digest != track.evidence or not track.repeat(row["observed_at"], observer, answer_status(row), rules):
            track.add(sighting_of(row, observer), signatures, rules)
        track.evidence = digest
    return track


def _save(conn: sa.Connection, folded: Mapping[int, Track], existing: Iterable[int], now: dt.datetime) -> None:
    """One executemany for the tracks updated, one for those inserted."""
    known = set(existing)
    updates = [{"target_pk": pk, "state": t.as_dict(), "updated_at": now} for pk, t in folded.items() if pk in known]
    inserts = [
        {"target_pk": pk, "state": t.as_dict(), "updated_at": now} for pk, t in folded.items() if pk not in known
    ]
    update_rows(conn, identity_tracks, ("target_pk",), updates)
    if inserts:
        conn.execute(identity_tracks.insert(), inserts)


def tracks(conn: sa.Connection, target_pks: Sequence[int] | None = None) -> dict[int, Track]:
    """The stored tracks (of ``target_pks``, or all)."""
    if target_pks is not None:
        return _load(conn, list(target_pks))
    query = sa.select(identity_tracks.c.target_pk, identity_tracks.c.state)
    return {pk: Track.from_dict(state if isinstance(state, Mapping) else {}) for pk, state in conn.execute(query)}
