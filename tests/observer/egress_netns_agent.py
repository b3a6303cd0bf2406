"""The processes of the egress namespace test, each run inside a namespace the test created:

- ``c2 CONFIG``: the lab's servers on 127.88.0.x (the namespace forwards its 10.x addresses to them); ``access``
  answers every connection's peer and every request head the lab received, ``clear`` forgets them;
- ``observer HOME DNS_PORT``: the observer's own resolver (a lab DNS server on this namespace's 127.0.0.1 that knows
  the C2 names) and ``cycle`` (one cycle with the settings in HOME, at the given time); ``dns`` answers the names
  that resolver was asked about.

One JSON command per line on stdin, one JSON answer per line on stdout (as tests/verdict/netns_agent.py).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from c2watch.home import Home
from c2watch.lab import Destination, Lab, Scenario
from c2watch.lab.dnsserver import LabDns
from c2watch.observer.cycle import run_cycle
from tests.verdict.netns_agent import answer, serve


async def c2(config: dict[str, Any]) -> None:
    destinations = [
        Destination(
            name=d["name"],
            threat_id="EGRESS",
            address=d["address"],
            port=d["port"],
            timeline=[(None, "status:200")],
            scheme=d["scheme"],
            path="/gate.php",
        )
        for d in config["destinations"]
    ]
    async with Lab(Scenario(destinations), control_icmp=False) as lab:
        answer({"ready": True})

        async def handle(command: dict[str, Any]) -> dict[str, Any]:
            if command["cmd"] == "clear":
                lab.hits.clear()
                lab.access.clear()
                return {"ok": True}
            return {
                "hits": [[hit.name, hit.peer] for hit in lab.hits],
                "access": [[a.name, a.peer, a.head.decode("latin-1")] for a in lab.access],
            }

        await serve(handle)


async def observer(home_path: str, dns_port: int, records: dict[str, list[str]]) -> None:
    home = Home(Path(home_path))
    async with LabDns(records, port=dns_port) as resolver:
        answer({"ready": True})

        async def handle(command: dict[str, Any]) -> dict[str, Any]:
            if command["cmd"] == "dns":
                return {"names": dict(resolver.names)}
            settings = home.settings()  # the test rewrites the configuration between cycles
            store = home.open_store(settings)
            try:
                at = dt.datetime.fromisoformat(command["at"])
                summary = await run_cycle(store, settings, home.path, clock=lambda: at)
            finally:
                store.close()
            return summary.as_dict()

        await serve(handle)


def main() -> None:
    if sys.argv[1] == "c2":
        asyncio.run(c2(json.loads(sys.argv[2])))
    else:
        asyncio.run(observer(sys.argv[2], int(sys.argv[3]), json.loads(sys.argv[4])))


if __name__ == "__main__":
    main()
