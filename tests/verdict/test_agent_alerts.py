"""``c2watch agent`` for real (a process, the real clock, a lab destination on loopback): after its cycle the
verdicts are refreshed and the new events reach the webhook on 127.0.0.1; SIGTERM still stops it cleanly."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import subprocess
import sys
from pathlib import Path

from c2watch.analysis.verdicts import stored_verdicts
from c2watch.home import Home
from c2watch.lab import Lab, Scenario, to_watchlist_csv
from c2watch.store import open_store
from c2watch.watchlist.importer import import_watchlist
from tests.helpers.observing import destination
from tests.helpers.webhooks import Receiver
from tests.verdict.world import World

TOML = """
[schedule]
stagger_seconds = 0.0
jitter_seconds = 0.0
[cycle]
probes = ["icmp", "http"]
[icmp]
count = 1
interval = 0.05
timeout = 0.5
[http]
connect_timeout = 1.0
total_timeout = 2.0
[safety]
allow_networks = ["127.0.0.0/8"]
[alerts]
webhooks = ["{url}"]
secret = "s3cret"
"""


async def test_agent_refreshes_after_its_cycle_and_delivers_events(home: Path, tmp_path: Path) -> None:
    scenario = Scenario([destination(1, "status:200")])
    async with Lab(scenario) as lab, Receiver().serving() as receiver:
        home.mkdir(parents=True)
        (home / "c2watch.toml").write_text(TOML.format(url=receiver.url), encoding="utf-8")
        Home(home).init()
        store = open_store(home / "c2watch.db")
        (tmp_path / "wl.csv").write_text(to_watchlist_csv(scenario, lab.ports()), encoding="utf-8")
        lab_url = lab.url_for(scenario.destinations[0].name)
        now = dt.datetime.now(dt.UTC)
        import_watchlist(store, tmp_path / "wl.csv", now)
        world = World(store)  # a second destination whose records (pulled earlier, say) show a status change
        world.target("seen", threat="TID-X", ip="198.51.100.9", port=80)
        world.add(
            world.row("seen", "osaka-01", now - dt.timedelta(hours=8), status=200),
            world.row("seen", "osaka-01", now - dt.timedelta(hours=4), status=503),
        )
        log = (tmp_path / "agent.log").open("w", encoding="utf-8")
        agent = subprocess.Popen(
            [sys.executable, "-m", "c2watch", "agent"],
            env={**os.environ, "C2WATCH_HOME": str(home)},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            await asyncio.wait_for(receiver.arrived.wait(), timeout=60)
        finally:
            agent.send_signal(signal.SIGTERM)
            code = await asyncio.to_thread(agent.wait, 30)
            log.close()
    output = (tmp_path / "agent.log").read_text(encoding="utf-8")
    assert code == 0, output
    assert [(r["kind"], r["subject"]) for r in receiver.received] == [("status-changed", "200→503")]
    assert "verdicts: {" in output and "agent stopped" in output
    statuses = {v.destination: v.status for v in stored_verdicts(store)}
    store.close()
    assert statuses[lab_url] == "alive"
    assert statuses["198.51.100.9:80"] == "alive"
