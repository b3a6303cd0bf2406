"""Real ``c2watch hub serve`` processes on loopback (started, killed with SIGKILL, read through their logs), and
agents' stores whose outbox holds observation groups, as a cycle leaves it."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from c2watch.store import Store, open_store
from tests.helpers.hub import signing_producer
from tests.helpers.stix_factory import T0, group


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class HubProcess:
    """``c2watch hub serve`` with ``C2WATCH_HOME=home`` on ``port`` (``db``: ``--db``, else the home's store)."""

    def __init__(self, home: Path, port: int, db: str | None = None) -> None:
        self.home, self.port, self.db = home, port, db
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_root(self) -> str:
        return f"{self.url}/api/"

    @property
    def log_path(self) -> Path:
        return self.home / "hub.log"

    def launch(self) -> None:
        """Start the process; :meth:`wait_ready` waits until it serves."""
        self.home.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "C2WATCH_HOME": str(self.home)}
        command = [sys.executable, "-m", "c2watch", "hub", "serve", "--port", str(self.port)]
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [*command, *(["--db", self.db] if self.db else [])], env=env, stdout=log, stderr=log
            )

    def wait_ready(self) -> None:
        assert self.proc is not None
        for _ in range(1200):  # bounded: until the port accepts, or the process died
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.1).close()
                return
            except OSError:
                try:
                    self.proc.wait(timeout=0.05)
                except subprocess.TimeoutExpired:
                    continue
                raise AssertionError(self.log_path.read_text()) from None
        raise AssertionError("hub did not start")

    def start(self) -> None:
        self.launch()
        self.wait_ready()

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        """Kill the process if it still runs (a fixture's clean-up)."""
        if self.proc is not None and self.proc.poll() is None:
            self.kill()

    def log_entries(self) -> list[dict[str, Any]]:
        """The JSON log records the process wrote (uvicorn's plain lines left out)."""
        entries = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                entries.append(json.loads(line))
        return entries

    def logged(self, message: str) -> int:
        """How many log records start with ``message``."""
        return sum(1 for entry in self.log_entries() if str(entry.get("message", "")).startswith(message))

    def posts(self) -> int:
        """How many envelopes were POSTed to this process (uvicorn's access log)."""
        return sum("POST /api/collections/" in line for line in self.log_path.read_text(errors="replace").splitlines())


def agent_store(path: Path, org: str, observer: str, count: int, start: int = 0) -> Store:
    """An agent's store whose outbox holds ``count`` observation groups, as a cycle leaves it."""
    store = open_store(path)
    p = signing_producer(org, observer)
    groups = [json.dumps(group(p, i, T0 + dt.timedelta(hours=i))) for i in range(start, start + count)]
    store.observations.insert([], groups)
    return store


def hub_observations(store: Store) -> list[str]:
    return sorted(row["stix_id"] for row in store.observations.rows())
