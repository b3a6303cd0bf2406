"""Metrics of an agent (after a real cycle) and of a hub (after real requests), parsed by prometheus_client."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from c2watch.lab import Lab, Scenario
from c2watch.metrics import AgentMetrics
from c2watch.observer.cycle import CycleOptions, run_cycle
from c2watch.store import open_store
from c2watch.taxii.collections import OBSERVATIONS
from tests.helpers.hub import ORG_A, RunningHub
from tests.helpers.observing import destination, import_lab, lab_settings
from tests.helpers.stix_factory import envelope, producer


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


async def test_agent_metrics_after_a_cycle(tmp_path: Path) -> None:
    scenario = Scenario([destination(1, "status:200"), destination(2, "closed"), destination(3, "reset")])
    store = open_store(tmp_path / "c2watch.db")
    metrics = AgentMetrics(outbox_depth=lambda: float(store.outbox.depth()))
    async with Lab(scenario) as lab:
        import_lab(store, lab, scenario, tmp_path)
        summary = await run_cycle(store, lab_settings(), tmp_path, CycleOptions(on_result=metrics.observed))
    metrics.cycle_done(summary)
    metrics.synced()
    found = samples(metrics.exposition().decode())
    assert found[("c2watch_destinations_observed_total", (("outcome", "responding"),))] == 1
    assert found[("c2watch_destinations_observed_total", (("outcome", "ping-only"),))] == 2
    assert found[("c2watch_probe_errors_total", (("kind", "refused"), ("probe", "http")))] == 1
    assert found[("c2watch_probe_errors_total", (("kind", "reset"), ("probe", "http")))] == 1
    assert found[("c2watch_last_cycle_destinations", (("outcome", "ping-only"),))] == 2
    assert found[("c2watch_cycle_duration_seconds_count", ())] == 1
    assert found[("c2watch_outbox_depth", ())] == 0
    assert found[("c2watch_last_sync_success_timestamp_seconds", ())] > 1.7e9
    store.close()


def test_hub_metrics(hub: RunningHub) -> None:
    headers = {
        "Authorization": f"Bearer {hub.tokens['a-observer']}",
        "Accept": "application/taxii+json;version=2.1",
        "Content-Type": "application/taxii+json;version=2.1",
    }
    objects = envelope(producer(ORG_A), 2)
    body = json.dumps({"objects": objects})
    assert (
        httpx.post(
            f"{hub.api_root}collections/{OBSERVATIONS.id}/objects/", content=body, headers=headers, timeout=30
        ).status_code
        == 202
    )
    assert httpx.get(f"{hub.api_root}collections/", timeout=30).status_code == 401
    hub.store.access.add_organization("Hub Operations")
    operator, _ = hub.store.access.create_token("Hub Operations", "prometheus", "operator")
    scraped = httpx.get(f"{hub.url}/metrics", headers={"Authorization": f"Bearer {operator}"}, timeout=30)
    found = samples(scraped.text)
    route = "/api/collections/{collection_id}/objects/"
    assert (
        found[("c2watch_hub_request_duration_seconds_count", (("method", "POST"), ("route", route), ("status", "202")))]
        == 1
    )
    assert (
        found[
            (
                "c2watch_hub_request_duration_seconds_count",
                (("method", "GET"), ("route", "/api/collections/"), ("status", "401")),
            )
        ]
        == 1
    )
    assert found[
        ("c2watch_hub_ingested_objects_total", (("collection", "observations"), ("result", "success")))
    ] == len(objects)
