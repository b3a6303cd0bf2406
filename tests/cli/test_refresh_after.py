"""``c2watch observe`` (the systemd timer's one-shot cycle) and ``c2watch sync`` bring verdicts and events up to date
and deliver new events to the webhooks once, as the agent does; a webhook that is down never fails them. Real
parts on loopback: lab destinations, a webhook receiver, a hub; the observer's store on both backends."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from c2watch.lab import Lab, Scenario, to_watchlist_csv
from c2watch.lab.clock import FakeClock
from c2watch.lab.scenario import Destination
from c2watch.stix.observation import Producer
from c2watch.store import open_store
from c2watch.wiring.hub import create_hub_app
from tests.helpers.cli import Invoke, as_json
from tests.helpers.hub import ORG_A, ORG_B, RunningHub, ThreadServer, make_tokens, post
from tests.helpers.stix_factory import group, producer
from tests.helpers.webhooks import SECRET, Receiver, free_port

BASE = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)  # the lab's clock: 200 until BASE + 1 h, 404 afterwards
LAB = """
[safety]
allow_networks = ["127.0.0.0/8"]
[icmp]
count = 2
interval = 0.05
[http]
total_timeout = 2.0
"""


def alerts(url: str) -> str:
    return f'[alerts]\nwebhooks = ["{url}"]\nsecret = "{SECRET}"\ntimeout = 5.0\n'


def changing_gate() -> Scenario:
    gate = Destination(
        name="gate",
        threat_id="TID-LAB",
        address="127.88.0.1",
        port=0,
        timeline=[(None, "status:200"), (BASE + dt.timedelta(hours=1), "status:404")],
        path="/gate.php",
    )
    return Scenario([gate])


@dataclass
class Observing:
    """A data directory whose watchlist is a lab destination answering 200, then 404 once the clock moves."""

    invoke: Invoke
    home: Path
    lab: Lab
    clock: FakeClock

    async def run(self, *args: str) -> Result:
        return await asyncio.to_thread(self.invoke, *args)

    def configure(self, text: str) -> None:
        (self.home / "c2watch.toml").write_text(LAB + text, encoding="utf-8")


async def observing(invoke: Invoke, home: Path, lab: Lab, clock: FakeClock) -> Observing:
    setup = Observing(invoke, home, lab, clock)
    setup.configure("")
    (home / "lab.csv").write_text(to_watchlist_csv(lab.scenario, lab.ports()), encoding="utf-8")
    await setup.run("watchlist", "import", str(home / "lab.csv"))
    return setup


def stored_verdicts(store_url: str) -> list[str]:
    store = open_store(store_url)
    try:
        return [row.status for row in store.verdicts.stored()]
    finally:
        store.close()


async def test_observe_refreshes_verdicts_and_events_and_delivers_them(
    invoke: Invoke, home: Path, store_url: str
) -> None:
    clock = FakeClock(BASE)
    async with Lab(changing_gate(), clock) as lab, Receiver().serving() as receiver:
        setup = await observing(invoke, home, lab, clock)
        setup.configure(alerts(receiver.url))
        first = as_json(await setup.run("observe", "--json"))
        assert first["outcomes"] == {"responding": 1}
        assert first["refresh"]["verdicts"]["verdicts"] == {"alive": 1}
        assert first["refresh"]["verdicts"]["new_events"] == 0 and first["refresh"]["webhooks"]["delivered"] == 0
        assert stored_verdicts(store_url) == ["alive"]
        clock.set(BASE + dt.timedelta(hours=2))
        second = await setup.run("observe")
        assert "verdicts: 1 alive; 1 new events" in second.stdout and "webhooks: 1 events delivered" in second.stdout
    assert [(e["kind"], e["subject"]) for e in receiver.received] == [("status-changed", "200→404")]
    assert receiver.headers[0]["X-C2watch-Event"] == "status-changed"
    shown = as_json(await asyncio.to_thread(invoke, "events", "--json", "--no-refresh"))["events"]
    assert [e["uid"] for e in shown] == [receiver.received[0]["uid"]]


async def test_observe_succeeds_when_the_webhook_is_down(invoke: Invoke, home: Path, store_url: str) -> None:
    clock = FakeClock(BASE)
    down = f"http://127.0.0.1:{free_port()}/hook"  # nobody listens there
    async with Lab(changing_gate(), clock) as lab:
        setup = await observing(invoke, home, lab, clock)
        setup.configure(alerts(down))
        await setup.run("observe")
        clock.set(BASE + dt.timedelta(hours=2))
        result = await setup.run("observe")
    assert result.exit_code == 0
    assert "1 new events" in result.stdout
    assert f"warning: webhook {down} did not take the events (ClientConnectorError" in result.stderr
    store = open_store(store_url)
    try:
        cursor = store.events.webhook_cursor(down)
        assert cursor is not None and cursor.failures == 1 and cursor.delivered == 0
        assert cursor.next_attempt_at is not None  # retried by the next delivery: the event waits for it
        assert [e.kind for e in store.events.after(cursor.last_event_id)] == ["status-changed"]
    finally:
        store.close()


async def test_observe_no_refresh_leaves_verdicts_alone(invoke: Invoke, home: Path, store_url: str) -> None:
    clock = FakeClock(BASE)
    async with Lab(changing_gate(), clock) as lab:
        setup = await observing(invoke, home, lab, clock)
        summary = as_json(await setup.run("observe", "--json", "--no-refresh"))
        plain = await setup.run("observe", "--no-refresh")
    assert summary["refresh"] is None and summary["outcomes"] == {"responding": 1}
    assert "verdicts:" not in plain.stdout
    assert stored_verdicts(store_url) == []


# --- sync ---


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[RunningHub]:
    """A hub with its own store (SQLite), apart from the observer's store under test."""
    store = open_store(tmp_path / "hub.db")
    tokens = make_tokens(store)
    try:
        with ThreadServer(create_hub_app(store, max_content_length=2 * 1024 * 1024)) as url:
            yield RunningHub(url, store, tokens)
    finally:
        store.close()


def changes_seen_by(p: Producer, now: dt.datetime) -> list[dict[str, Any]]:
    """Another organisation's records of one destination: 200 two hours ago, 500 one hour ago."""
    objects = {o["id"]: o for o in p.identities()}
    for hours, status in ((2, 200), (1, 500)):
        for obj in group(p, 7, now - dt.timedelta(hours=hours), status):
            objects.setdefault(obj["id"], obj)
    return list(objects.values())


def hub_settings(hub: RunningHub) -> str:
    return (
        f'[observer]\nname = "tokyo-01"\norganization = "{ORG_A}"\n'
        f'[hub]\nurl = "{hub.api_root}"\ntoken = "{hub.tokens["a-observer"]}"\n'
    )


async def test_sync_refreshes_with_the_pulled_records_and_delivers(
    invoke: Invoke, home: Path, store_url: str, hub: RunningHub
) -> None:
    assert post(hub, "b-observer", changes_seen_by(producer(ORG_B, "osaka-01"), dt.datetime.now(dt.UTC))).is_success
    async with Receiver().serving() as receiver:
        (home / "c2watch.toml").write_text(hub_settings(hub) + alerts(receiver.url), encoding="utf-8")
        pulled = as_json(await asyncio.to_thread(invoke, "sync", "--json", "--no-refresh"))
        assert pulled["indexed"] == 2 and pulled["refresh"] is None
        assert stored_verdicts(store_url) == []
        again = as_json(await asyncio.to_thread(invoke, "sync", "--json"))
    assert again["indexed"] == 0  # nothing new pulled: the refresh still judges every record in the store
    assert again["refresh"]["verdicts"]["verdicts"] == {"alive": 1}
    assert again["refresh"]["verdicts"]["new_events"] == 1 and again["refresh"]["webhooks"]["delivered"] == 1
    assert [(e["kind"], e["subject"], e["observer"]) for e in receiver.received] == [
        ("status-changed", "200→500", "osaka-01")
    ]


async def test_sync_succeeds_when_the_webhook_is_down(invoke: Invoke, home: Path, hub: RunningHub) -> None:
    assert post(hub, "b-observer", changes_seen_by(producer(ORG_B, "osaka-01"), dt.datetime.now(dt.UTC))).is_success
    down = f"http://127.0.0.1:{free_port()}/hook"
    (home / "c2watch.toml").write_text(hub_settings(hub) + alerts(down), encoding="utf-8")
    result = await asyncio.to_thread(invoke, "sync")
    assert "2 new observations" in result.stdout and "verdicts: 1 alive; 1 new events" in result.stdout
    assert f"warning: webhook {down} did not take the events" in result.stderr
