"""The object every command receives: the data directory, with settings and store opened on first use."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from c2watch.config import Settings
from c2watch.home import Home
from c2watch.store import Store

__all__ = ["App", "pass_app"]


class App:
    def __init__(self, home: Path, clock: Callable[[], dt.datetime] | None = None) -> None:
        self.home = Home(home)
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.console = Console()
        self._settings: Settings | None = None
        self._store: Store | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = self.home.settings()
        return self._settings

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = self.home.open_store(self.settings)
        return self._store

    def print_json(self, value: Any) -> None:
        click.echo(json.dumps(value, indent=2, ensure_ascii=False, default=str))

    def close(self) -> None:
        if self._store is not None:
            self._store.close()


pass_app = click.make_pass_decorator(App)
