"""Property: whatever a server answers (status lines, headers and bodies of any length and any bytes), a cycle on
PostgreSQL completes and stores one observation per destination, the same as its STIX bundle says."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from c2watch.lab import Destination, Lab, Scenario
from c2watch.observer.cycle import run_cycle
from c2watch.stix.ingest import records_from_objects
from c2watch.store import Store, open_store
from tests.helpers.observing import import_lab, lab_settings

SETTINGS = lab_settings(cycle={"probes": ["http"]}, http={"connect_timeout": 1.0, "total_timeout": 1.0})
COMPARED = ("outcome", "http_status", "http_reason", "http_server", "http_content_type", "http_location")

line_bytes = st.binary(max_size=3000).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b""))
status_line = st.one_of(
    st.builds(lambda code, reason: b"HTTP/1.1 %d %s" % (code, reason), st.integers(100, 999), line_bytes),
    line_bytes,  # not HTTP at all
)
header_name = st.sampled_from([b"Server", b"Location", b"Content-Type", b"X-Lab"])
header = st.builds(lambda name, value: name + b": " + value, header_name, line_bytes)
answer = st.builds(
    lambda line, headers, body: b"\r\n".join([line, *headers]) + b"\r\n\r\n" + body,
    status_line,
    st.lists(header, max_size=4),
    st.binary(max_size=5000),
)


@pytest.fixture
def pg_store(postgres_url: str) -> Iterator[Store]:
    store = open_store(postgres_url)
    yield store
    store.close()


def scenario(answers: list[bytes]) -> Scenario:
    behaviours = [f"raw:{data.hex()}" for data in answers] + ["status:200"]
    return Scenario(
        [
            Destination(
                name=f"prop-{i}",
                threat_id="PROP",
                address=f"127.90.0.{i + 1}",
                port=0,
                timeline=[(None, b)],
                ping="reply",
            )
            for i, b in enumerate(behaviours)
        ]
    )


def cycle(store: Store, tmp_path: Path, answers: list[bytes]) -> tuple[int, Path]:
    async def go() -> tuple[int, Path]:
        lab_scenario = scenario(answers)
        async with Lab(lab_scenario, control_icmp=False) as lab:
            import_lab(store, lab, lab_scenario, tmp_path)
            summary = await run_cycle(store, SETTINGS, tmp_path)
        assert summary.stix_path is not None
        return summary.cycle_id, Path(summary.stix_path)

    return asyncio.run(go())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(answers=st.lists(answer, min_size=1, max_size=3))
def test_any_answer_costs_no_record(pg_store: Store, tmp_path: Path, answers: list[bytes]) -> None:
    cycle_id, path = cycle(pg_store, tmp_path, answers)
    rows = [row for row in pg_store.observations.rows() if row["cycle_pk"] == cycle_id]
    assert len(rows) == len(answers) + 1
    bundle = json.loads(path.read_text(encoding="utf-8"))
    records = {r.row["probed_value"]: r.row for r in records_from_objects({o["id"]: o for o in bundle["objects"]})}
    stored = {row["probed_value"]: row for row in rows}
    assert set(records) == set(stored)
    for key, record in records.items():
        assert {n: record.get(n) for n in COMPARED} == {n: stored[key][n] for n in COMPARED}, key
    [usual] = [row for row in rows if row["probed_value"].startswith(f"http://127.90.0.{len(answers) + 1}:")]
    assert (usual["http_status"], usual["http_reason"], usual["http_server"]) == (200, "OK", "nginx")
    assert "fitted" not in usual["details"]
