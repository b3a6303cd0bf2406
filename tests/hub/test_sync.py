"""Agent sync against a real hub: outbox pushed once, others' records pulled, nothing lost or duplicated when the
hub is down, answers 5xx, or dies in the middle of a push."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web

from c2watch.store import open_store
from c2watch.taxii.client import HubUnavailable
from c2watch.taxii.collections import OBSERVATIONS
from c2watch.taxii.sync import sync
from c2watch.taxii.syncloop import SyncLoop
from tests.helpers.hub import ORG_A, ORG_B, RunningHub, signing_producer
from tests.helpers.hubprocess import HubProcess, agent_store, free_port, hub_observations
from tests.helpers.stix_factory import group


async def test_push_then_pull_between_two_organisations(hub: RunningHub, tmp_path: Path) -> None:
    a = agent_store(tmp_path / "a.db", ORG_A, "tokyo-01", 30)
    b = agent_store(tmp_path / "b.db", ORG_B, "osaka-01", 20, start=100)
    report_a = await sync(a, hub.api_root, hub.tokens["a-observer"], signing_producer(ORG_A, "tokyo-01"), batch=7)
    assert (report_a.pushed_groups, report_a.push_failures, report_a.outbox_left) == (30, [], 0)
    assert report_a.keys["enrolment"] == "enrolled"  # trust on first use, then pinned on the hub
    await sync(b, hub.api_root, hub.tokens["b-observer"], signing_producer(ORG_B, "osaka-01"), batch=7)
    again = await sync(a, hub.api_root, hub.tokens["a-observer"], signing_producer(ORG_A, "tokyo-01"))
    assert again.pushed_groups == 0 and again.indexed == 20  # B's records, once
    assert again.refused == {} and again.keys["enrolment"] == "known"
    assert {k.observer_ref for k in a.keys.records()} == {k.observer_ref for k in hub.store.keys.records()}
    assert len(hub_observations(hub.store)) == 50
    observers = {row["observer_pk"] for row in a.observations.rows()}
    assert len(a.observations.rows()) == 50 and len(observers) == 2
    once_more = await sync(a, hub.api_root, hub.tokens["a-observer"], signing_producer(ORG_A, "tokyo-01"))
    assert once_more.indexed == 0 and len(a.observations.rows()) == 50


async def test_hub_down_then_back_everything_arrives_once(hub: RunningHub, tmp_path: Path) -> None:
    a = agent_store(tmp_path / "a.db", ORG_A, "tokyo-01", 10)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/api/"
    with pytest.raises(HubUnavailable):
        await sync(a, dead, hub.tokens["a-observer"], signing_producer(ORG_A, "tokyo-01"))
    a.observations.insert([], [json.dumps(group(signing_producer(ORG_A, "tokyo-01"), 50))])  # the next cycle goes on
    assert a.outbox.depth() == 11
    report = await sync(a, hub.api_root, hub.tokens["a-observer"], signing_producer(ORG_A, "tokyo-01"))
    assert report.pushed_groups == 11 and a.outbox.depth() == 0
    assert len(hub_observations(hub.store)) == 11


async def test_5xx_keeps_the_outbox(tmp_path: Path) -> None:
    a = agent_store(tmp_path / "a.db", ORG_A, "tokyo-01", 3)

    async def broken(_request: web.Request) -> web.Response:
        return web.Response(status=503, text="maintenance")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", broken)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        with pytest.raises(HubUnavailable, match="503"):
            await sync(a, f"http://127.0.0.1:{port}/api/", "c2w_x_y", signing_producer(ORG_A, "tokyo-01"))
    finally:
        await runner.cleanup()
    assert a.outbox.depth() == 3


async def test_sync_loop_backs_off_and_recovers() -> None:
    outcomes = [HubUnavailable("down"), HubUnavailable("down"), None]
    loop = SyncLoop(lambda: _next(outcomes), min_backoff=10, max_backoff=25)
    assert await loop.once() is False and loop.backoff() == 10
    assert await loop.once() is False and loop.backoff() == 20
    assert await loop.once() is True and loop.failures == 0


async def _next(outcomes: list[HubUnavailable | None]):  # type: ignore[no-untyped-def]
    from c2watch.taxii.sync import SyncReport

    item = outcomes.pop(0)
    if item is not None:
        raise item
    return SyncReport()


# --- a hub process killed in the middle of a push ---


@pytest.fixture
def hub_process(tmp_path: Path) -> Iterator[tuple[HubProcess, str]]:
    home = tmp_path / "hub-home"
    env = {**os.environ, "C2WATCH_HOME": str(home)}
    run = [sys.executable, "-m", "c2watch"]
    subprocess.run([*run, "init"], env=env, check=True, capture_output=True)
    subprocess.run([*run, "hub", "org", "add", ORG_A], env=env, check=True, capture_output=True)
    out = subprocess.run(
        [*run, "hub", "token", "create", "--org", ORG_A, "--name", "t", "--role", "observer", "--json"],
        env=env,
        check=True,
        capture_output=True,
    )
    process = HubProcess(home, free_port())
    process.start()
    yield process, json.loads(out.stdout)["token"]
    process.stop()


async def test_hub_killed_mid_push_every_observation_arrives_exactly_once(
    hub_process: tuple[HubProcess, str], tmp_path: Path
) -> None:
    process, token = hub_process
    url = f"http://127.0.0.1:{process.port}/api/"
    agent = agent_store(tmp_path / "agent.db", ORG_A, "tokyo-01", 400)
    push = asyncio.create_task(sync(agent, url, token, signing_producer(ORG_A, "tokyo-01"), batch=10))
    for _ in range(2000):  # wait until part of the outbox is acknowledged, then kill the hub
        if agent.outbox.depth() <= 300 or push.done():
            break
        await asyncio.sleep(0.01)
    process.kill()
    with pytest.raises(HubUnavailable):
        await push
    left = agent.outbox.depth()
    assert 0 < left < 400
    agent.close()
    agent = open_store(tmp_path / "agent.db")  # the agent restarts too
    process.start()
    report = await sync(agent, url, token, signing_producer(ORG_A, "tokyo-01"), batch=50)
    assert report.outbox_left == 0 and report.pushed_groups == left
    hub_store = open_store(process.home / "c2watch.db")
    ids = hub_observations(hub_store)
    assert len(ids) == 400 and len(set(ids)) == 400
    from c2watch.store.taxii import ObjectQuery

    page, _ = hub_store.taxii.objects(ObjectQuery(OBSERVATIONS.id, types=["observed-data"], limit=1000))
    assert len(page) == 400
    hub_store.close()
