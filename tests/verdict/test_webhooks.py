"""Webhooks against receivers on 127.0.0.1: every event once and in order, signed; a receiver that is down (or
failing) gets the events when it comes back, after a back-off kept in the store; the agent's alert loop."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from c2watch.alerts import AlertLoop, DeliveryReport, deliver
from c2watch.alerts.webhooks import webhook_keys
from c2watch.analysis.events import refresh
from c2watch.config import Settings
from c2watch.errors import ConfigError
from c2watch.store import Store, open_store
from tests.helpers.webhooks import SECRET, Receiver, free_port
from tests.verdict.world import VERDICT, World, slot


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    store = open_store(tmp_path / "c2watch.db")
    yield World(store)
    store.close()


def settings_for(*urls: str, **alerts: Any) -> Settings:
    return Settings(
        verdict=VERDICT,  # type: ignore[arg-type]
        alerts={"webhooks": list(urls), "secret": SECRET, "timeout": 2.0, **alerts},  # type: ignore[arg-type]
    )


def status_changes(world: World, count: int, start: int = 0) -> None:
    """``count`` status-code changes of destination "a" after slot ``start`` (slot n answers 200 + n)."""
    if "a" not in world.targets:
        world.target("a")
        world.add(world.row("a", "tokyo", slot(start), status=200 + start))
    world.add(*(world.row("a", "tokyo", slot(n), status=200 + n) for n in range(start + 1, start + count + 1)))


async def test_every_event_once_in_order_and_signed(world: World) -> None:
    async with Receiver().serving() as receiver:
        settings = settings_for(receiver.url)
        status_changes(world, 3)
        clock = Clock(slot(4))
        assert len(refresh(world.store, settings, clock()).new_events) == 3
        report = await deliver(world.store, settings.alerts, clock)
        assert report.delivered == 3 and report.failures == {} and report.next_attempt_at is None
        assert [r["subject"] for r in receiver.received] == ["200→201", "201→202", "202→203"]
        first = receiver.received[0]
        assert first["type"] == "c2watch-event" and first["kind"] == "status-changed"
        assert first["destination"] == "http://192.0.2.1/gate.php" and first["evidence"]["observers"] == ["tokyo"]
        assert receiver.headers[0]["X-C2watch-Event"] == "status-changed"
        assert receiver.headers[0]["X-C2watch-Delivery"] == first["uid"]
        refresh(world.store, settings, clock())  # recomputing stores nothing new and sends nothing again
        assert (await deliver(world.store, settings.alerts, clock)).delivered == 0
        assert len(receiver.received) == 3
        cursor = world.store.events.webhook_cursor(receiver.url)
        assert cursor is not None and cursor.delivered == 3 and cursor.failures == 0


async def test_a_receiver_that_is_down_gets_the_events_when_it_comes_back(world: World) -> None:
    port = free_port()
    receiver = Receiver(port=port)
    settings = settings_for(receiver.url, retry_min_seconds=30, retry_max_seconds=100)
    status_changes(world, 2)
    clock = Clock(slot(3))
    refresh(world.store, settings, clock())
    down = await deliver(world.store, settings.alerts, clock)
    assert down.delivered == 0 and receiver.url in down.failures
    assert down.next_attempt_at == clock() + dt.timedelta(seconds=30)
    async with receiver.serving():
        clock.now += dt.timedelta(seconds=29)
        waiting = await deliver(world.store, settings.alerts, clock)  # still backing off: nothing is sent
        assert waiting.delivered == 0 and receiver.received == []
        status_changes(world, 1, start=2)  # a new event while the receiver was away
        refresh(world.store, settings, clock())
        clock.now += dt.timedelta(seconds=1)
        back = await deliver(world.store, settings.alerts, clock)
    assert back.delivered == 3 and [r["subject"] for r in receiver.received] == ["200→201", "201→202", "202→203"]


async def test_failures_back_off_and_the_state_survives_a_restart(world: World, tmp_path: Path) -> None:
    async with Receiver(fail=3).serving() as receiver:
        settings = settings_for(receiver.url, retry_min_seconds=10, retry_max_seconds=25)
        status_changes(world, 1)
        clock = Clock(slot(2))
        refresh(world.store, settings, clock())
        waits = []
        for _ in range(3):
            report = await deliver(world.store, settings.alerts, clock)
            assert report.failures == {receiver.url: "HTTP 500"} and report.next_attempt_at is not None
            waits.append((report.next_attempt_at - clock()).total_seconds())
            clock.now = report.next_attempt_at
        assert waits == [10, 20, 25]
        reopened = open_store(tmp_path / "c2watch.db")  # the agent restarted: the cursor is in the store
        try:
            cursor = reopened.events.webhook_cursor(receiver.url)
            assert cursor is not None and (cursor.failures, cursor.last_error) == (3, "HTTP 500")
            assert (await deliver(reopened, settings.alerts, clock)).delivered == 1
        finally:
            reopened.close()
        assert len(receiver.received) == 1


async def test_a_webhook_added_later_starts_with_new_events(world: World) -> None:
    status_changes(world, 2)
    refresh(world.store, settings_for(), slot(3))
    async with Receiver().serving() as receiver:
        settings = settings_for(receiver.url)
        assert (await deliver(world.store, settings.alerts, Clock(slot(3)))).delivered == 0
        status_changes(world, 1, start=2)
        refresh(world.store, settings, slot(4))
        assert (await deliver(world.store, settings.alerts, Clock(slot(4)))).delivered == 1
        assert [r["subject"] for r in receiver.received] == ["202→203"]


async def test_alert_loop_refreshes_on_kick_and_retries_until_the_receiver_is_back(world: World) -> None:
    port = free_port()
    receiver = Receiver(port=port)
    settings = settings_for(receiver.url, retry_min_seconds=0.05, retry_max_seconds=0.2)
    status_changes(world, 1)
    store: Store = world.store

    def clock() -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    async def do_refresh() -> object:
        return await asyncio.to_thread(refresh, store, settings, slot(2))

    reports: list[object] = []
    loop = AlertLoop(do_refresh, lambda: deliver(store, settings.alerts, clock), clock, on_report=reports.append)
    stop = asyncio.Event()
    task = asyncio.create_task(loop.run(stop))
    loop.kick()
    async with asyncio.timeout(20):
        while not any(getattr(r, "failures", None) for r in reports):  # bounded: the first attempt failed
            await asyncio.sleep(0.01)
        async with receiver.serving():
            await receiver.arrived.wait()  # delivered by the loop's own retry, no kick needed
    stop.set()
    await asyncio.wait_for(task, 5)
    assert loop.refreshes == 1 and [r["kind"] for r in receiver.received] == ["status-changed"]


async def test_alert_loop_gathers_the_kicks_of_its_gather_time_into_one_refresh() -> None:
    refreshed = asyncio.Event()
    calls: list[int] = []

    async def do_refresh() -> object:
        calls.append(len(calls))
        refreshed.set()
        return None

    async def nothing_to_deliver() -> DeliveryReport:
        return DeliveryReport()

    def clock() -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    loop = AlertLoop(do_refresh, nothing_to_deliver, clock, gather=0.2)
    stop = asyncio.Event()
    task = asyncio.create_task(loop.run(stop))
    for _ in range(3):  # three pushes in a row: one refresh after the gather time, not one each
        loop.kick()
        await asyncio.sleep(0)
    await asyncio.wait_for(refreshed.wait(), 5)
    stop.set()
    await asyncio.wait_for(task, 5)
    assert calls == [0] and loop.refreshes == 1

    idle = AlertLoop(do_refresh, nothing_to_deliver, clock, gather=3600)
    stop = asyncio.Event()
    task = asyncio.create_task(idle.run(stop))
    idle.kick()
    await asyncio.sleep(0)
    stop.set()  # stopped inside the gather time: no refresh
    await asyncio.wait_for(task, 5)
    assert idle.refreshes == 0


async def test_webhook_credentials_are_used_but_never_logged_nor_stored(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    receiver = Receiver(port=port)
    url = f"http://alice:hunter2@127.0.0.1:{port}/hook?token=T0PS3CRET&room=7"
    shown = f"http://REDACTED@127.0.0.1:{port}/hook?token=REDACTED&room=7"
    settings = settings_for(url, retry_min_seconds=30)
    status_changes(world, 1)
    clock = Clock(slot(2))
    refresh(world.store, settings, clock())
    with caplog.at_level(logging.WARNING, logger="c2watch.alerts"):
        down = await deliver(world.store, settings.alerts, clock)
    assert list(down.failures) == [shown]
    assert caplog.records and all(shown in r.getMessage() for r in caplog.records)
    cursor = world.store.events.webhook_cursor(shown)
    assert cursor is not None and cursor.failures == 1 and cursor.last_error
    with world.store.events.db.connect() as conn:  # nothing anywhere in the store holds the credentials
        stored = [
            str(row)
            for table in ("webhook_cursors", "events")
            for row in conn.execute(sa.text(f"SELECT * FROM {table}"))
        ]
    assert stored and not any(secret in text for text in stored for secret in ("hunter2", "T0PS3CRET"))
    assert not any("hunter2" in r.getMessage() or "T0PS3CRET" in r.getMessage() for r in caplog.records)
    async with receiver.serving():
        clock.now += dt.timedelta(seconds=30)
        back = await deliver(world.store, settings.alerts, clock)
    assert back.delivered == 1
    assert receiver.headers[0]["Authorization"] == "Basic " + base64.b64encode(b"alice:hunter2").decode()


def test_two_webhooks_differing_only_in_credentials_are_refused() -> None:
    with pytest.raises(ConfigError, match="differ only in their credentials"):
        webhook_keys(["https://hooks.example/in?token=a", "https://hooks.example/in?token=b"])
    assert webhook_keys(["https://hooks.example/in?token=a"]) == {
        "https://hooks.example/in?token=REDACTED": "https://hooks.example/in?token=a"
    }
