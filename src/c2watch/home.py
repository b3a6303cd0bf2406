"""The data directory: its config file, its SQLite store, its observer key, its cycle
files; ``init`` creates what is missing.

Files that hold a secret (``c2watch.toml`` may hold the hub token, the alerts secret and webhook credentials; key
files ``*.key``, ``*.pem``) are created readable by their owner only, from the start (:func:`write_private`: never
written and tightened afterwards); one that group or others may read is reported (:func:`exposed_secret_files`):
logged whenever the settings are read, and by ``c2watch doctor``.
"""

from __future__ import annotations

import logging
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

import tomli_w

from c2watch.config import CONFIG_FILE, Settings, default_home, load_settings
from c2watch.stix.keys import ensure_private_key
from c2watch.store import Store, open_store, sqlite_url
from c2watch.text import redact_url

__all__ = ["DB_FILE", "KEY_PATTERNS", "Home", "InitReport", "exposed_secret_files", "write_private"]

log = logging.getLogger(__name__)

KEY_PATTERNS = ("*.key", "*.pem")

DB_FILE = "c2watch.db"
_HEADER = """\
# c2watch configuration. Every key is optional; values shown are the defaults.
# Environment variables override keys as C2WATCH_<SECTION>__<KEY>, e.g. C2WATCH_HTTP__USER_AGENT.
# [safety] allow_networks lists networks that may be probed although they are loopback, private or reserved.

"""


def write_private(path: Path, text: str) -> None:
    """Create ``path`` (which must not exist) readable and writable by its owner only, then write ``text``: the
    mode is set when the file is made, before any content is in it."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)


def holds_secret(settings: Settings) -> bool:
    """Whether the settings carry a secret (a token, the alerts secret, a webhook URL with credentials)."""
    hub, alerts = settings.hub, settings.alerts
    return bool(hub.token or hub.metrics_token or alerts.secret) or any(redact_url(u) != u for u in alerts.webhooks)


def exposed_secret_files(home: Path, settings: Settings) -> list[tuple[Path, int]]:
    """Files of the data directory that hold a secret and that group or others may read, with their mode: the
    config file when it holds a secret, and key files (``*.key``, ``*.pem``)."""
    candidates = [path for pattern in KEY_PATTERNS for path in sorted(home.glob(pattern))]
    config = home / CONFIG_FILE
    if config.exists() and holds_secret(settings):
        candidates.insert(0, config)
    exposed = []
    for path in candidates:
        try:
            mode = path.stat().st_mode
        except OSError:
            continue
        if stat.S_ISREG(mode) and mode & (stat.S_IRWXG | stat.S_IRWXO):
            exposed.append((path, stat.S_IMODE(mode)))
    return exposed


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
        """The settings; a warning is logged for each secret file that group or others may read."""
        settings = load_settings(self.path)
        for path, mode in exposed_secret_files(self.path, settings):
            log.warning("%s holds a secret and is readable by others (mode %o): chmod 600 it", path, mode)
        return settings

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
            write_private(self.config_path, _HEADER + tomli_w.dumps(defaults))
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
