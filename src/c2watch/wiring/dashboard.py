"""The dashboard process: the web app over a store, on a socket bound before serving (so its URL, even for port 0,
is known first). ``c2watch dashboard`` and ``c2watch demo`` both start it here.

>>> served = Dashboard.open(store, settings, "127.0.0.1", 0)   # doctest: +SKIP
>>> served.url; served.serve()                                  # doctest: +SKIP
"""

from __future__ import annotations

import socket
from dataclasses import dataclass

from fastapi import FastAPI

from c2watch.config import Settings
from c2watch.store import Store, open_store
from c2watch.web import create_app
from c2watch.web.server import bind, serve, url_of

__all__ = ["Dashboard", "dashboard_store"]


def dashboard_store(default: Store, db: str | None) -> Store:
    """The store a dashboard reads: ``db`` when given (only read, never migrated: e.g. a streaming replica of the
    hub's database), else the data directory's."""
    return open_store(db, upgrade=False) if db else default


@dataclass
class Dashboard:
    app: FastAPI
    sock: socket.socket

    @classmethod
    def open(cls, store: Store, settings: Settings, host: str, port: int) -> Dashboard:
        return cls(create_app(store, settings), bind(host, port))

    @property
    def url(self) -> str:
        return url_of(self.sock)

    def serve(self) -> None:
        """Serve until interrupted (Ctrl-C / SIGTERM), in the calling thread."""
        serve(self.app, self.sock)
