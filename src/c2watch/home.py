"""The data directory: its config file, its SQLite store, its observer key, its cycle files; ``init`` creates what
is missing."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import tomli_w

from c2watch.config import CONFIG_FILE, Settings, default_home, load_settings
from c2watch.stix.keys import ensure_private_key
from c2watch.store import Store, open_store, sqlite_url

__all__ = ["DB_FILE", "Home", "InitReport"]

DB_FILE = "c2watch.db"
_HEADER = """\
# c2watch configuration. Every key is optional; values shown are the defaults.
# Environment variables override keys as C2WATCH_<SECTION>__<KEY>, e.g. C2WATCH_HTTP__USER_AGENT.
# [safety] allow_networks lists networks that may be probed although they are loopback, private or reserved.

"""


@dataclass
class InitReport:
    home: Path
    created: list[str] = field(default_factory=list)


@dataclass
class Home:
    """A data directory (``C2WATCH_HOME``, default ``./c2watch-data``)."""

    path: Path = field(default_factory=default_home)

    @property
    def config_path(self) -> Path:
        return self.path / CONFIG_FILE

    def settings(self) -> Settings:
        return load_settings(self.path)

    def store_url(self, settings: Settings) -> str:
        return settings.store.url or sqlite_url(self.path / DB_FILE)

    def open_store(self, settings: Settings | None = None) -> Store:
        return open_store(self.store_url(settings or self.settings()))

    def init(self) -> InitReport:
        """Create the directory, a default config file and the store where missing (idempotent)."""
        report = InitReport(self.path)
        if not self.path.exists():
            self.path.mkdir(parents=True)
            report.created.append(str(self.path))
        if not self.config_path.exists():
            defaults = Settings().model_dump(exclude={"store", "hub"})
            self.config_path.write_text(_HEADER + tomli_w.dumps(defaults), encoding="utf-8")
            report.created.append(str(self.config_path))
        settings = self.settings()
        db_file = self.path / DB_FILE
        existed = settings.store.url or db_file.exists()
        open_store(self.store_url(settings)).close()
        if not existed:
            report.created.append(str(db_file))
        key_path = settings.observer.key_path(self.path)
        if ensure_private_key(key_path)[1]:
            report.created.append(f"{key_path} (the observer's signing key, mode 0600)")
        return report
