"""A coordinator publishes the watchlist on the hub; agents (sync) and `watchlist pull` bring it home."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from c2watch.cli import cli
from c2watch.stix.observation import campaign_object
from c2watch.stix.vocab import identity_ids
from c2watch.store import open_store
from c2watch.taxii.collections import WATCHLIST
from c2watch.taxii.sync import sync
from tests.helpers.hub import ORG_A, ORG_B, RunningHub, post
from tests.helpers.stix_factory import producer


def indicator(org_identity: str, number: int, pattern: str, revoked: bool = False) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--6f2b6c39-2d3c-4f0e-8d7b-3c9f0a6b1e{number:02d}",
        "created_by_ref": org_identity,
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-02T00:00:00.000Z" if revoked else "2026-01-01T00:00:00.000Z",
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z",
        "external_references": [{"source_name": "cert-threat-id", "external_id": "TID-HUB-1"}],
        **({"revoked": True} if revoked else {}),
    }


def publish(hub: RunningHub, revoke_second: bool = False) -> None:
    org = identity_ids(ORG_A, "")[0]
    objects = [
        campaign_object("TID-HUB-1"),
        indicator(org, 1, "[url:value = 'http://gate.bad.example/a.php']"),
        indicator(org, 2, "[ipv4-addr:value = '203.0.113.9']", revoked=revoke_second),
    ]
    response = post(hub, "a-coordinator", objects, f"collections/{WATCHLIST.id}/objects/")
    assert response.status_code == 202 and response.json()["failure_count"] == 0, response.text


async def test_agent_sync_brings_the_hub_watchlist_and_retires_withdrawn_entries(
    hub: RunningHub, tmp_path: Path
) -> None:
    publish(hub)
    agent = open_store(tmp_path / "agent.db")
    report = await sync(agent, hub.api_root, hub.tokens["b-observer"], producer(ORG_B, "osaka-01"))
    assert report.watchlist["added"] == 2
    assert {(t.threat_id, t.url or t.ip) for t in agent.watchlist.targets(active_only=True)} == {
        ("TID-HUB-1", "http://gate.bad.example/a.php"),
        ("TID-HUB-1", "203.0.113.9"),
    }
    publish(hub, revoke_second=True)  # the coordinator withdraws one indicator (a new, revoked version)
    again = await sync(agent, hub.api_root, hub.tokens["b-observer"], producer(ORG_B, "osaka-01"))
    assert again.watchlist["retired"] == 1
    assert [t.url for t in agent.watchlist.targets(active_only=True)] == ["http://gate.bad.example/a.php"]


def test_watchlist_pull_command_against_our_hub(hub: RunningHub, home: Path) -> None:
    publish(hub)
    runner = CliRunner()
    assert runner.invoke(cli, ["init"]).exit_code == 0
    result = runner.invoke(
        cli,
        [
            "watchlist",
            "pull",
            "--taxii",
            f"{hub.url}/taxii2/",
            "--collection",
            "watchlist",
            "--token",
            hub.tokens["a-reader"],
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["added"] == 2
