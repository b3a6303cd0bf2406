"""The processes of the multi-host test, each run inside its own network namespace:

- ``c2 CONFIG``: the lab's servers on 127.88.0.x (the namespace forwards its 10.x addresses to them), driven by a
  fake clock: ``{"cmd": "at", "time": ...}`` moves it and makes the listeners match;
- ``observer HOME``: an observer agent's work through the library, as ``c2watch agent`` does it: ``cycle`` (one cycle
  for a slot, at this observer's stagger in it), ``sync`` (push and pull through the hub), each followed by the
  agent's alert step (refresh verdicts and events, deliver webhooks to a receiver on this namespace's 127.0.0.1);
  ``state`` answers the verdicts, events, deny-list advice and what the receiver got.

One JSON command per line on stdin, one JSON answer per line on stdout.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import random
import socket
import sys
import time
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from c2watch.alerts import store_alert_loop
from c2watch.analysis.blocklist import advise, render
from c2watch.analysis.events import list_events, refresh
from c2watch.analysis.verdicts import VerdictRules
from c2watch.home import Home
from c2watch.lab import Destination, FakeClock, Lab, Scenario
from c2watch.observer.cycle import CycleOptions, producer_of, run_cycle
from c2watch.observer.schedule import Schedule
from c2watch.taxii.sync import sync


def answer(value: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(value, default=str) + "\n")
    sys.stdout.flush()


def when(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


async def serve(handle: Callable[[dict[str, Any]], Awaitable[dict[str, Any] | None]]) -> None:
    """Answer each command line until ``quit`` (an exception is answered as an error, then the loop goes on)."""
    while line := await asyncio.to_thread(sys.stdin.readline):
        command = json.loads(line)
        if command["cmd"] == "quit":
            answer({"ok": True})
            return
        try:
            answer(await handle(command) or {"ok": True})
        except Exception:
            answer({"error": traceback.format_exc()})


async def c2(config: dict[str, Any]) -> None:
    destinations = [
        Destination(
            name=d["name"],
            threat_id="LAB",
            address=d["address"],
            port=d["port"],
            timeline=[(None if at is None else when(at), behaviour) for at, behaviour in d["timeline"]],
            path="/gate.php",
        )
        for d in config["destinations"]
    ]
    clock = FakeClock(when(config["start"]))
    async with Lab(Scenario(destinations), clock, poll_interval=3600) as lab:
        answer({"ready": True, "ports": lab.ports()})

        async def handle(command: dict[str, Any]) -> dict[str, Any]:
            clock.set(when(command["time"]))
            await lab.sync()
            return {"listening": {d.name: lab.listening(d.name) for d in destinations}}

        await serve(handle)


class Receiver:
    """The webhook receiver of this namespace (127.0.0.1 only)."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append(json.loads(await request.read()))
        return web.Response(status=204)

    async def start(self, port: int) -> web.AppRunner:
        app = web.Application()
        app.router.add_post("/hook", self.handle)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        return runner


def wait_for_port(host: str, port: int, deadline_s: float = 60.0) -> None:
    """Bounded polling (every 50 ms, at most ``deadline_s``) until ``host:port`` accepts a connection."""
    end = time.monotonic() + deadline_s
    while True:
        try:
            socket.create_connection((host, port), timeout=0.5).close()
            return
        except OSError:
            if time.monotonic() > end:
                raise TimeoutError(f"{host}:{port} never accepted a connection") from None
            time.sleep(0.05)


async def observer(home_path: str) -> None:
    home = Home(Path(home_path))
    settings = home.settings()
    store = home.open_store(settings)
    schedule = Schedule.from_settings(settings.schedule)
    offset = schedule.stagger(settings.observer.name)
    receiver = Receiver()
    runner = (
        await receiver.start(urlsplit(settings.alerts.webhooks[0]).port or 80) if settings.alerts.webhooks else None
    )
    now = {"at": dt.datetime.now(dt.UTC)}

    def clock() -> dt.datetime:
        return now["at"]

    alerts = store_alert_loop(store, settings, clock)
    answer({"ready": True, "offset_s": offset.total_seconds()})

    async def handle(command: dict[str, Any]) -> dict[str, Any]:
        if command["cmd"] == "cycle":
            slot = when(command["slot"])
            now["at"] = slot + offset
            options = CycleOptions(slot_at=slot, simulated=True, rng=random.Random(slot.timestamp()))
            summary = await run_cycle(store, settings, home.path, options, clock)
            await alerts.once()
            return summary.as_dict()
        if command["cmd"] == "sync":
            now["at"] = when(command["now"])
            report = await sync(store, settings.hub.urls, settings.hub.token, producer_of(settings, home.path))
            await alerts.once()
            return report.as_dict()
        if command["cmd"] == "wait_hub":
            parts = urlsplit(settings.hub.urls[0])
            await asyncio.to_thread(wait_for_port, parts.hostname or "", parts.port or 80)
            return {"ok": True}
        if command["cmd"] == "state":
            now["at"] = when(command["now"])
            return state(store, settings, clock(), receiver)
        raise ValueError(f"unknown command {command}")

    try:
        await serve(handle)
    finally:
        if runner is not None:
            await runner.cleanup()
        store.close()


def state(store: Any, settings: Any, now: dt.datetime, receiver: Receiver) -> dict[str, Any]:
    verdicts = refresh(store, settings, now, keep_verdicts=True).verdicts
    names = store.reports.observer_names()
    advice = advise(verdicts, VerdictRules.from_settings(settings), now)
    producer = producer_of(settings)
    times: dict[str, dict[str, list[str]]] = {}
    for row in store.observations.rows():
        by_observer = times.setdefault(str(row["probed_value"]), {})
        by_observer.setdefault(names[row["observer_pk"]], []).append(row["observed_at"].isoformat())
    return {
        "verdicts": {
            v.destination: {"status": v.status, "agreeing": sorted(v.agreeing), "blocked": list(v.blocked)}
            for v in verdicts
        },
        "events": sorted(
            [e.kind, e.destination, e.subject, sorted(e.evidence.get("observers", []))] for e in list_events(store)
        ),
        "keep": render(advice, "plain", False, producer).splitlines(),
        "removable": [line.split("  #")[0] for line in render(advice, "plain", True, producer).splitlines()],
        "received": [[r["kind"], r["destination"], r["subject"]] for r in receiver.received],
        "times": times,
    }


def main() -> None:
    role, argument = sys.argv[1], sys.argv[2]
    if role == "c2":
        asyncio.run(c2(json.loads(argument)))
    elif role == "observer":
        asyncio.run(observer(argument))
    else:
        raise SystemExit(f"unknown role {role}")


if __name__ == "__main__":
    main()
