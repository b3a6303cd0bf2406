"""The store: SQLite (default, WAL) or PostgreSQL (``postgresql+psycopg://``), same schema, same code.

>>> store = open_store("sqlite+pysqlite:///:memory:")   # doctest: +SKIP
>>> store.watchlist.targets()                           # doctest: +SKIP

Outside the store, import from here: the roles' facades and the types they take and return.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from c2watch.store.access import ROLES, Organization, TokenInfo
from c2watch.store.answers import Span, Summary
from c2watch.store.backfill import CycleFile
from c2watch.store.backup import backup_sqlite, restore_sqlite
from c2watch.store.dashboard import EventWindow, VerdictCount
from c2watch.store.database import Clock, Database
from c2watch.store.engine import create_engine, current_revision, head_revision, migrate, sqlite_url
from c2watch.store.events import NEVER, EventCandidate, StoredEvent, StoredVerdict
from c2watch.store.gathering import CLAIMED, GATHERING, IDLE, Gathering
from c2watch.store.leader import Leadership
from c2watch.store.observation_fit import fit_observation
from c2watch.store.queries import Bucket, Point, Run, Scope
from c2watch.store.retention import RetentionPolicy, RetentionReport, run_retention
from c2watch.store.roles.access import Access
from c2watch.store.roles.events import Events
from c2watch.store.roles.judging import Judging
from c2watch.store.roles.keys import ObserverKeys
from c2watch.store.roles.maintenance import Maintenance
from c2watch.store.roles.observations import Observations
from c2watch.store.roles.reports import Reports
from c2watch.store.roles.sharing import Outbox, TaxiiObjects
from c2watch.store.roles.verdicts import Verdicts
from c2watch.store.roles.watchlist import Watchlist
from c2watch.store.rollup_reads import RolledRun, points_of
from c2watch.store.rollups import merge_runs
from c2watch.store.taxii import ObjectQuery, StoredObject
from c2watch.store.upkeep import Upkeep
from c2watch.store.watchlist import ImportReport, ThreatRow
from c2watch.store.windows import Change, Streak

__all__ = [
    "CLAIMED",
    "GATHERING",
    "IDLE",
    "NEVER",
    "ROLES",
    "Bucket",
    "Change",
    "Clock",
    "CycleFile",
    "EventCandidate",
    "EventWindow",
    "Gathering",
    "ImportReport",
    "Leadership",
    "ObjectQuery",
    "Organization",
    "Point",
    "RetentionPolicy",
    "RetentionReport",
    "RolledRun",
    "Run",
    "Scope",
    "Span",
    "Store",
    "StoredEvent",
    "StoredObject",
    "StoredVerdict",
    "Streak",
    "Summary",
    "ThreatRow",
    "TokenInfo",
    "Upkeep",
    "VerdictCount",
    "backup_sqlite",
    "create_engine",
    "current_revision",
    "fit_observation",
    "head_revision",
    "merge_runs",
    "open_store",
    "points_of",
    "restore_sqlite",
    "run_retention",
    "sqlite_url",
]


class Store:
    """One database, split by role: each attribute is a small facade over the same engine and clock (the clock
    rule is :class:`~c2watch.store.database.Database`'s). Build it with :func:`open_store`."""

    def __init__(self, engine: Engine, clock: Clock | None = None) -> None:
        self.db = Database(engine, clock)
        self.watchlist = Watchlist(self.db)
        self.observations = Observations(self.db)
        self.reports = Reports(self.db)
        self.access = Access(self.db)
        self.taxii = TaxiiObjects(self.db)
        self.outbox = Outbox(self.db)
        self.verdicts = Verdicts(self.db)
        self.events = Events(self.db)
        self.judging = Judging(self.db)
        self.keys = ObserverKeys(self.db)
        self.maintenance = Maintenance(self)

    @property
    def engine(self) -> Engine:
        return self.db.engine

    @property
    def clock(self) -> Clock:
        return self.db.clock

    @property
    def url(self) -> str:
        return self.db.url

    def begin(self) -> AbstractContextManager[sa.Connection]:
        return self.db.begin()

    def connect(self) -> AbstractContextManager[sa.Connection]:
        return self.db.connect()

    def close(self) -> None:
        self.db.engine.dispose()


def open_store(url: str | Path, upgrade: bool = True) -> Store:
    """Open the store at ``url`` (a SQLAlchemy URL, or a path to a SQLite file) and migrate it to head."""
    engine = create_engine(sqlite_url(url) if isinstance(url, Path) else url)
    if upgrade:
        migrate(engine)
    return Store(engine)
