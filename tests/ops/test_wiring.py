"""Each process is assembled in c2watch.wiring and can be started without click."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

from c2watch.config import Settings
from c2watch.store import Store
from c2watch.wiring.agent import AgentParts, run_agent
from c2watch.wiring.dashboard import Dashboard

NOW = dt.datetime(2026, 3, 1, 1, 0, tzinfo=dt.UTC)


async def test_the_agent_starts_and_stops_without_click(store: Store, tmp_path: Path) -> None:
    said: list[str] = []
    stop = asyncio.Event()
    stop.set()
    await run_agent(AgentParts(store, Settings(), tmp_path, lambda: NOW, say=said.append), stop)
    assert said[0].startswith("agent observer-01: next slot ") and said[-1] == "agent stopped"


def test_the_dashboard_binds_before_it_serves(store: Store) -> None:
    served = Dashboard.open(store, Settings(), "127.0.0.1", 0)
    try:
        assert served.url.startswith("http://127.0.0.1:") and served.url != "http://127.0.0.1:0/"
    finally:
        served.sock.close()
