"""Two real ``c2watch hub serve`` replicas on one PostgreSQL schema, started at once: agents given both URLs push to
both, every observation is stored exactly once, also when a replica is killed (SIGKILL) in the middle of a push; the
judge's refresh runs once per gathering, on one replica, and the other takes over when that one is killed; a login
made on one replica holds on the other."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from c2watch.store import GATHERING, IDLE, ObjectQuery, Store, open_store
from c2watch.taxii.collections import OBSERVATIONS
from c2watch.taxii.login import COOKIE
from c2watch.taxii.media import TAXII_MEDIA
from c2watch.taxii.sync import sync
from tests.helpers.hub import ORG_A, ORG_B, make_tokens, signing_producer
from tests.helpers.hubprocess import HubProcess, agent_store, free_port, hub_observations
from tests.helpers.stix_factory import envelope, producer

Replicas = tuple[HubProcess, HubProcess, Store, dict[str, str]]


def start_replicas(postgres_url: str, tmp_path: Path, refresh_minutes: float) -> tuple[HubProcess, HubProcess]:
    """Two replicas launched together on a fresh schema (their migrations run at the same moment)."""
    replicas = []
    for name in ("replica-1", "replica-2"):
        home = tmp_path / name
        home.mkdir()
        (home / "c2watch.toml").write_text(f"[verdict]\nhub_refresh_minutes = {refresh_minutes}\n")
        replicas.append(HubProcess(home, free_port(), postgres_url))
    for replica in replicas:
        replica.launch()
    for replica in replicas:
        replica.wait_ready()
    return replicas[0], replicas[1]


def replicas_fixture(refresh_minutes: float) -> Callable[[str, Path], Iterator[Replicas]]:
    def fixture(postgres_url: str, tmp_path: Path) -> Iterator[Replicas]:
        first, second = start_replicas(postgres_url, tmp_path, refresh_minutes)
        store = open_store(postgres_url)
        try:
            yield first, second, store, make_tokens(store)
        finally:
            first.stop()
            second.stop()
            store.close()

    return fixture


replicas = pytest.fixture(replicas_fixture(0.0))
judging_replicas = pytest.fixture(replicas_fixture(0.1))  # a 6-second gathering


def stored_once(store: Store, count: int) -> None:
    """``count`` observations at the hub, each once (indexed rows and stored STIX objects alike)."""
    ids = hub_observations(store)
    assert len(ids) == count and len(set(ids)) == count
    page, more = store.taxii.objects(ObjectQuery(OBSERVATIONS.id, types=["observed-data"], limit=10 * count))
    assert len(page) == count and not more


async def test_agents_given_both_urls_push_to_both_replicas_every_observation_once(
    replicas: Replicas, tmp_path: Path
) -> None:
    first, second, hub, tokens = replicas
    a = agent_store(tmp_path / "a.db", ORG_A, "tokyo-01", 150)
    b = agent_store(tmp_path / "b.db", ORG_B, "osaka-01", 150, start=1000)
    reports = await asyncio.gather(
        sync(a, [first.api_root, second.api_root], tokens["a-observer"], signing_producer(ORG_A, "tokyo-01"), 10),
        sync(b, [second.api_root, first.api_root], tokens["b-observer"], signing_producer(ORG_B, "osaka-01"), 10),
    )
    assert [(r.pushed_groups, r.outbox_left, r.push_failures) for r in reports] == [(150, 0, []), (150, 0, [])]
    assert first.posts() >= 15 and second.posts() >= 15  # each agent pushed to the replica it lists first
    stored_once(hub, 300)
    again = await sync(a, [second.api_root, first.api_root], tokens["a-observer"], signing_producer(ORG_A, "tokyo-01"))
    assert again.pushed_groups == 0 and len(a.observations.rows()) == 300  # B's records pulled through the other
    a.close()
    b.close()


async def test_a_replica_killed_mid_push_the_agents_fail_over_and_every_observation_arrives_once(
    replicas: Replicas, tmp_path: Path
) -> None:
    first, second, hub, tokens = replicas
    a = agent_store(tmp_path / "a.db", ORG_A, "tokyo-01", 400)
    b = agent_store(tmp_path / "b.db", ORG_B, "osaka-01", 200, start=1000)
    push_a = asyncio.create_task(
        sync(a, [first.api_root, second.api_root], tokens["a-observer"], signing_producer(ORG_A, "tokyo-01"), 10)
    )
    push_b = asyncio.create_task(
        sync(b, [second.api_root, first.api_root], tokens["b-observer"], signing_producer(ORG_B, "osaka-01"), 10)
    )
    deadline = time.monotonic() + 120
    while a.outbox.depth() > 300 and not push_a.done():  # part of A's outbox acknowledged by the first replica
        assert time.monotonic() < deadline, "the first replica acknowledged nothing"
        await asyncio.sleep(0.01)
    assert not push_a.done()
    first.kill()
    report_a, report_b = await asyncio.gather(push_a, push_b)
    assert (report_a.pushed_groups, report_a.outbox_left) == (400, 0)
    assert (report_b.pushed_groups, report_b.outbox_left) == (200, 0)
    assert report_a.api_root == second.api_root  # A went on with the second replica
    stored_once(hub, 600)
    a.close()
    b.close()


def test_a_login_on_one_replica_holds_on_the_other_and_a_logout_on_either_ends_it(replicas: Replicas) -> None:
    first, second, _hub, tokens = replicas
    with httpx.Client(base_url=first.url, timeout=30) as one, httpx.Client(base_url=second.url, timeout=30) as two:
        login = one.post("/login", data={"token": tokens["a-reader"]}, headers={"Origin": first.url})
        assert login.status_code == 303, login.text
        two.cookies.set(COOKIE, one.cookies[COOKIE])
        assert two.get("/dashboard/").status_code == 200  # the session is in the store, not in the first replica
        assert two.post("/logout", headers={"Origin": second.url}).status_code == 303
        gone = one.get("/dashboard/")
        assert gone.status_code == 303 and gone.headers["location"] == "/login"


def until(condition: Callable[[], bool], seconds: float = 90.0) -> bool:
    deadline, pause = time.monotonic() + seconds, threading.Event()
    while not condition():
        if time.monotonic() > deadline:
            return False
        pause.wait(0.1)  # the replicas' judges run in their own processes: poll the store, bounded
    return True


def post(replica: HubProcess, token: str, objects: list[dict[str, object]]) -> None:
    headers = {"Accept": TAXII_MEDIA, "Content-Type": TAXII_MEDIA, "Authorization": f"Bearer {token}"}
    url = f"{replica.api_root}collections/{OBSERVATIONS.id}/objects/"
    response = httpx.post(url, content=json.dumps({"objects": objects}), headers=headers, timeout=30)
    assert response.status_code == 202 and response.json()["success_count"] > 0


def test_the_judge_refreshes_once_per_gathering_and_the_other_replica_takes_over(judging_replicas: Replicas) -> None:
    first, second, hub, tokens = judging_replicas
    post(first, tokens["a-observer"], envelope(producer(ORG_A), 3))
    post(second, tokens["b-observer"], envelope(producer(ORG_B, "observer-b"), 3))
    assert hub.judging.gathering().state == GATHERING  # both pushes in one gathering
    assert until(lambda: hub.judging.refreshes() == 1 and hub.judging.gathering().state == IDLE)
    assert len(hub.verdicts.stored()) == 3
    refreshed = [first.logged("verdicts refreshed"), second.logged("verdicts refreshed")]
    assert sorted(refreshed) == [0, 1]  # once, on one replica: the leader
    leader, follower = (first, second) if refreshed[0] else (second, first)
    assert leader.logged("this process leads judge") == 1 and follower.logged("this process leads judge") == 0

    leader.kill()
    post(follower, tokens["a-observer"], envelope(producer(ORG_A), 5))
    assert until(lambda: hub.judging.refreshes() == 2 and hub.judging.gathering().state == IDLE)
    assert follower.logged("this process leads judge") == 1 and follower.logged("verdicts refreshed") == 1
    assert len(hub.verdicts.stored()) == 5
