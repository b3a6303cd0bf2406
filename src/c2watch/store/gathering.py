"""When the hub's judge refreshes, kept in the store so that every replica sees it: an ingest that stores new
observations marks that they arrived (the first mark opens a gathering and stamps its start); the process leading the
judge claims a gathering once it is due, refreshes, and closes it, counting the refresh. Two rows of
``analysis_state``:

- ``hub-gathering``: ``value`` 0 idle, 1 gathering since ``updated_at``, 2 claimed at ``updated_at`` (a refresh
  runs; a claim left by a leader that died is due at once). An arrival during a claimed refresh opens a new gathering,
  which the close leaves open.
- ``hub-refreshes``: how many gatherings were refreshed (``updated_at``: the last one), for operators and tests.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from c2watch.store.shared import insert_ignoring_duplicates
from c2watch.store.tables import analysis_state

__all__ = ["CLAIMED", "GATHERING", "IDLE", "Gathering", "arrived", "claim", "close", "read", "refreshes"]

IDLE, GATHERING, CLAIMED = 0, 1, 2
_STATE = "hub-gathering"
_COUNT = "hub-refreshes"
_row = analysis_state.c


@dataclass(frozen=True)
class Gathering:
    state: int
    since: dt.datetime | None

    def due_at(self, gather: dt.timedelta) -> dt.datetime | None:
        """When the refresh is due (None: nothing to refresh)."""
        if self.state == IDLE or self.since is None:
            return None
        return self.since if self.state == CLAIMED else self.since + gather


def _named(name: str) -> sa.ColumnElement[bool]:
    return _row.name == name


def arrived(conn: sa.Connection, now: dt.datetime) -> None:
    """New observations were stored in this transaction: open a gathering unless one is open. While one is, this
    only reads (no row lock, so concurrent ingests never wait on each other here)."""
    state = conn.execute(sa.select(_row.value).where(_named(_STATE))).scalar()
    if state == GATHERING:
        return
    if state is None:
        insert_ignoring_duplicates(conn, analysis_state, [{"name": _STATE, "value": GATHERING, "updated_at": now}])
    conn.execute(
        analysis_state.update().where(_named(_STATE), _row.value != GATHERING).values(value=GATHERING, updated_at=now)
    )


def read(conn: sa.Connection) -> Gathering:
    row = conn.execute(sa.select(_row.value, _row.updated_at).where(_named(_STATE))).first()
    return Gathering(IDLE, None) if row is None else Gathering(int(row.value), row.updated_at)


def claim(conn: sa.Connection, now: dt.datetime) -> bool:
    """Claim the open (or left claimed) gathering for a refresh starting ``now``; False when there is none."""
    result = conn.execute(
        analysis_state.update().where(_named(_STATE), _row.value != IDLE).values(value=CLAIMED, updated_at=now)
    )
    return bool(result.rowcount)


def close(conn: sa.Connection, now: dt.datetime) -> None:
    """The claimed refresh is done: back to idle (unless observations arrived meanwhile), and counted."""
    conn.execute(analysis_state.update().where(_named(_STATE), _row.value == CLAIMED).values(value=IDLE))
    insert_ignoring_duplicates(conn, analysis_state, [{"name": _COUNT, "value": 0, "updated_at": now}])
    conn.execute(analysis_state.update().where(_named(_COUNT)).values(value=_row.value + 1, updated_at=now))


def refreshes(conn: sa.Connection) -> int:
    return int(conn.execute(sa.select(_row.value).where(_named(_COUNT))).scalar() or 0)
