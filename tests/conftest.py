"""Shared fixtures: a store on every backend (SQLite file, PostgreSQL schema), a data directory."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from c2watch.store import Store, open_store, sqlite_url

POSTGRES_ENV = "C2WATCH_TEST_POSTGRES_URL"


if os.environ.get("C2WATCH_TEST_LOOP", "asyncio") == "uvloop":

    def pytest_asyncio_loop_factories(config: pytest.Config, item: pytest.Item) -> dict[str, Any]:
        """``C2WATCH_TEST_LOOP=uvloop`` runs every async test on uvloop (``[cycle] loop``'s default) instead of
        asyncio's loop; the CLI's cycles run on the configured loop anyway."""
        import uvloop

        return {"uvloop": uvloop.new_event_loop}


def postgres_base_url() -> str:
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        if os.environ.get("CI"):
            pytest.fail(f"{POSTGRES_ENV} is not set: PostgreSQL tests must run in CI")
        pytest.skip(f"{POSTGRES_ENV} not set")
    return url


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A URL whose connections live in a fresh PostgreSQL schema, dropped afterwards."""
    base = postgres_base_url()
    schema = f"t_{secrets.token_hex(6)}"
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def backend_store(backend: str, directory: Path, name: str = "c2watch.db") -> Iterator[Store]:
    """A fresh store: the SQLite file ``name`` in ``directory``, or a PostgreSQL schema dropped afterwards."""
    with contextlib.ExitStack() as stack:
        url = sqlite_url(directory / name) if backend == "sqlite" else stack.enter_context(postgres_schema())
        store = open_store(url)
        try:
            yield store
        finally:
            store.close()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL whose connections live in a fresh schema, dropped afterwards."""
    with postgres_schema() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same tests run on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return sqlite_url(tmp_path / "c2watch.db")
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    opened = open_store(store_url)
    yield opened
    opened.close()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty data directory, with every C2WATCH_* variable but the PostgreSQL test URL removed."""
    for name in list(os.environ):
        if name.startswith("C2WATCH_") and name != POSTGRES_ENV:
            monkeypatch.delenv(name)
    path = tmp_path / "c2watch-data"
    monkeypatch.setenv("C2WATCH_HOME", str(path))
    return path
