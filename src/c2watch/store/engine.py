"""Open a store: create the engine, tune SQLite (WAL, foreign keys), run Alembic migrations to head."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Engine

from c2watch.errors import StoreError
from c2watch.store.leader import schema_lock

__all__ = ["create_engine", "migrate", "sqlite_url"]

MIGRATIONS = Path(__file__).with_name("migrations")


def sqlite_url(path: Path) -> str:
    return f"sqlite+pysqlite:///{path}"


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def create_engine(url: str) -> Engine:
    """An engine for ``url`` (``sqlite+pysqlite:///…`` or ``postgresql+psycopg://…``)."""
    try:
        fast_json: dict[str, Any] = {"json_serializer": _dumps, "json_deserializer": orjson.loads}
        if url.startswith("sqlite"):
            engine = sa.create_engine(url, connect_args={"timeout": 30}, **fast_json)
            event.listen(engine, "connect", _tune_sqlite)
            return engine
        return sa.create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, **fast_json)
    except (sa.exc.ArgumentError, ImportError) as exc:
        raise StoreError(f"bad store URL {url!r}: {exc}") from exc


def _alembic_config(connection: sa.Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the schema to ``revision`` (idempotent; processes starting at once on one PostgreSQL schema take
    turns, each after the previous one committed)."""
    try:
        with engine.begin() as connection:
            schema_lock(connection, "migrate")
            command.upgrade(_alembic_config(connection), revision)
    except sa.exc.SQLAlchemyError as exc:
        raise StoreError(f"cannot migrate the store at {engine.url!r}: {exc}") from exc


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    """The newest migration this code knows."""
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head
