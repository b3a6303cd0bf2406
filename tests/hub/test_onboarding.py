"""Joining a hub as a newcomer does: the discovery URL as --hub, the organisation learnt from the hub (a different
one is refused before anything is pushed, naming both), and cycles recorded before [hub] was set, reported and
queued by --backfill. Against a real hub on loopback."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from click.testing import CliRunner

from c2watch.cli import cli
from c2watch.config import Settings
from c2watch.lab import Scenario
from c2watch.observer.cycle import producer_of
from c2watch.stix.exchange import parse_since
from c2watch.store import Store, open_store
from c2watch.taxii.onboard import OrganizationMismatch, api_root_of
from c2watch.taxii.sync import sync
from c2watch.wiring.agent import AgentParts, run_agent
from tests.helpers.hub import ORG_A, ORG_B, RunningHub, call
from tests.helpers.observing import destination, lab_cycle, lab_settings
from tests.helpers.stix_factory import T0, group, producer


def agent_with_outbox(path: Path, org: str, count: int) -> Store:
    store = open_store(path)
    p = producer(org, "tokyo-01")
    store.observations.insert([], [json.dumps(group(p, i, T0)) for i in range(count)])
    return store


def hub_observations(store: Store) -> int:
    return len(store.observations.rows())


def test_the_organisation_endpoint_names_the_tokens_organisation(hub: RunningHub) -> None:
    answer = call(hub, "GET", "organization/", "b-observer")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/taxii+json")
    assert answer.json()["organization"] == ORG_B and answer.json()["role"] == "observer"
    assert answer.json()["identity"].startswith("identity--")
    assert call(hub, "GET", "organization/", None).status_code == 401
    assert call(hub, "GET", "organization/", "c2w_unknown_token").status_code == 401


async def test_sync_from_the_discovery_url_follows_its_default_api_root(hub: RunningHub, tmp_path: Path) -> None:
    agent = agent_with_outbox(tmp_path / "a.db", ORG_A, 5)
    report = await sync(agent, hub.url + "/taxii2/", hub.tokens["a-observer"], producer(ORG_A, "tokyo-01"))
    assert report.api_root == hub.api_root and report.organization == ORG_A
    assert report.pushed_groups == 5 and report.push_failures == [] and hub_observations(hub.store) == 5
    assert await api_root_of(hub.api_root, hub.tokens["a-observer"]) == hub.api_root  # an API root stays itself


@pytest.fixture
async def several_roots() -> AsyncIterator[str]:
    """A TAXII server on loopback whose discovery resource lists two API roots and no default."""

    async def discovery(request: web.Request) -> web.Response:
        base = f"http://{request.host}"
        body = {"title": "two roots", "api_roots": [f"{base}/trusted/", f"{base}/public/"]}
        return web.json_response(body, content_type="application/taxii+json")

    app = web.Application()
    app.router.add_get("/taxii2/", discovery)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def test_several_api_roots_and_no_default_lists_them(several_roots: str) -> None:
    with pytest.raises(Exception, match="2 API roots and no default") as caught:
        await api_root_of(several_roots + "/taxii2/", "c2w_x_y")
    assert f"{several_roots}/trusted/" in str(caught.value) and f"{several_roots}/public/" in str(caught.value)


async def test_a_different_organisation_is_refused_before_anything_is_pushed(hub: RunningHub, tmp_path: Path) -> None:
    agent = agent_with_outbox(tmp_path / "b.db", ORG_B, 4)  # records as Org B, but syncs with Org A's token
    with pytest.raises(OrganizationMismatch) as caught:
        await sync(agent, hub.url + "/taxii2/", hub.tokens["a-observer"], producer(ORG_B, "tokyo-01"))
    assert ORG_A in str(caught.value) and ORG_B in str(caught.value)
    assert agent.outbox.depth() == 4 and hub_observations(hub.store) == 0


def test_cycles_before_the_hub_are_reported_then_backfilled_once(hub: RunningHub, tmp_path: Path) -> None:
    scenario = Scenario([destination(1, "status:200"), destination(2, "status:404"), destination(3, "closed")])
    settings = lab_settings(observer={"organization": ORG_A, "name": "tokyo-01"})
    agent = open_store(tmp_path / "agent.db")
    _, bundle = lab_cycle(agent, scenario, settings, tmp_path)  # no [hub] yet: nothing queued
    token, me = hub.tokens["a-observer"], producer_of(settings, tmp_path)  # the key the cycle signed with
    assert agent.outbox.depth() == 0
    first = asyncio.run(sync(agent, hub.api_root, token, me))
    assert first.pushed_groups == 0 and first.unqueued is not None
    assert "1 cycle(s)" in first.unqueued and "c2watch sync --backfill" in first.unqueued
    since = first.unqueued.rsplit(" ", 1)[1]
    filled = asyncio.run(sync(agent, hub.api_root, token, me, backfill_since=parse_since(since)))
    assert filled.backfilled is not None and filled.backfilled.as_dict() == {
        "cycles": 1,
        "observations": 3,
        "without_file": 0,
    }
    assert filled.pushed_groups == 3 and filled.push_failures == [] and filled.unqueued is None
    shared = {row["stix_id"] for row in hub.store.observations.rows()}
    made = {o["id"] for o in json.loads(bundle.read_text())["objects"] if o["type"] == "observed-data"}
    assert shared == made  # the same records, as the cycle made them
    again = asyncio.run(sync(agent, hub.api_root, token, me, backfill_since=parse_since(since)))
    assert again.backfilled is not None and again.backfilled.cycles == 0 and again.pushed_groups == 0
    agent.close()


def test_cli_sync_with_a_discovery_url_and_a_wrong_organisation(
    hub: RunningHub, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["init"]).exit_code == 0
    discovery, token = hub.url + "/taxii2/", hub.tokens["a-observer"]
    wrong = runner.invoke(cli, ["sync", "--hub", discovery, "--token", token, "--no-refresh"])
    assert wrong.exit_code == 2, wrong.output
    assert "'Org A CSIRT'" in wrong.output and "'Local CSIRT'" in wrong.output
    monkeypatch.setenv("C2WATCH_OBSERVER__ORGANIZATION", ORG_A)
    right = runner.invoke(
        cli, ["sync", "--hub", discovery, "--token", token, "--no-refresh", "--backfill", "2020-01-01"]
    )
    assert right.exit_code == 0, right.output
    assert f"hub API root {hub.api_root} (organisation {ORG_A})" in right.output
    assert "backfill: queued 0 observations of 0 cycles" in right.output


async def test_the_agent_checks_its_organisation_before_any_cycle(hub: RunningHub, tmp_path: Path) -> None:
    agent = open_store(tmp_path / "agent.db")
    hub_settings = {"url": hub.url + "/taxii2/", "token": hub.tokens["a-observer"]}
    wrong = Settings(observer={"organization": ORG_B}, hub=hub_settings)  # type: ignore[arg-type]
    stop = asyncio.Event()
    stop.set()  # once started, stop at once
    with pytest.raises(OrganizationMismatch, match=ORG_B):
        await run_agent(AgentParts(agent, wrong, tmp_path, lambda: T0, say=print), stop)
    right = Settings(observer={"organization": ORG_A}, hub=hub_settings)  # type: ignore[arg-type]
    said: list[str] = []
    await run_agent(AgentParts(agent, right, tmp_path, lambda: T0, say=said.append), stop)
    assert f"hub: this token belongs to {ORG_A!r}" in said and said[-1] == "agent stopped"
    agent.close()
