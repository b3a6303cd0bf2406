"""Refused records are counted where an operator looks: the sync command's output, the agent's metrics and the
dashboard's overview (page and JSON)."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa

from c2watch.config import Settings
from c2watch.metrics import AgentMetrics
from c2watch.stix.trust import Refusal
from c2watch.stix.vocab import DETAILS_EXTENSION
from c2watch.store import open_store
from c2watch.store.tables import taxii_objects
from c2watch.web import create_app
from c2watch.web.server import ServedApp
from c2watch.wiring.hub import create_hub_app
from tests.helpers.cli import Invoke
from tests.helpers.hub import ORG_B, RunningHub, ThreadServer, key_record, make_tokens, post, signing_producer
from tests.helpers.seed import standard
from tests.helpers.stix_factory import group
from tests.web.conftest import fetch


def test_sync_prints_the_records_it_refused(invoke: Invoke, tmp_path: Path) -> None:
    hub_store = open_store(tmp_path / "hub.db")
    tokens = make_tokens(hub_store)
    osaka = signing_producer(ORG_B, "osaka-40")
    hub_store.keys.add(key_record(ORG_B, "osaka-40"))
    with ThreadServer(create_hub_app(hub_store)) as url:
        hub = RunningHub(url, hub_store, tokens)
        objects = [*osaka.identities(), *group(osaka, 1), *group(osaka, 2)]
        assert post(hub, "b-observer", objects).json()["failures"] == []
        [first, _] = [o for o in objects if o["type"] == "observed-data"]
        first["extensions"][DETAILS_EXTENSION]["outcome"] = "silent"
        with hub_store.begin() as conn:  # altered in the hub's database
            conn.execute(
                sa.update(taxii_objects).where(taxii_objects.c.object_id == first["id"]).values(body=json.dumps(first))
            )
        token, _ = hub_store.access.create_token(ORG_B, "local", "reader")
        out = invoke("sync", "--hub", hub.api_root, "--token", token, "--no-refresh")
    assert "1 new observations, 1 records refused (signature, 1 invalid)" in out.stdout
    hub_store.close()


def test_metrics_count_refused_records_by_reason() -> None:
    metrics = AgentMetrics()
    metrics.synced({"invalid": 2, "revoked": 1})
    metrics.synced({"invalid": 1})
    text = metrics.exposition().decode()
    assert 'c2watch_sync_refused_records_total{reason="invalid"} 3.0' in text
    assert 'c2watch_sync_refused_records_total{reason="revoked"} 1.0' in text


def test_the_overview_shows_the_refused_records(tmp_path: Path) -> None:
    store = open_store(tmp_path / "c2watch.db")
    standard(store)
    refusals = [Refusal(f"observed-data--{n}", "identity--x", None, "invalid") for n in range(3)]
    store.keys.save_refusals("https://hub.example/api/", refusals)
    with ServedApp(create_app(store, Settings())) as app:
        assert fetch(app.url + "api/overview").json()["refused_records"] == 3
        page = fetch(app.url).text
    assert 'id="refused-records"' in page and '<span class="num">3</span>' in page
    store.close()
