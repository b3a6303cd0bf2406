"""Egress through a real SOCKS5 proxy (microsocks) on loopback: the lab sees the proxy's address, never the
observer's; the request is byte for byte the one docs/observer.md documents; a proxy that is down is
``egress-failed`` for every destination and changes no verdict.

On loopback both the observer and the proxy would connect from 127.0.0.1, so microsocks binds its outgoing
connections to 127.0.0.66 (``-b``): an address only the proxy uses. tests/observer/test_egress_netns.py does the
same across network namespaces.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import signal
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from stix2validator import ValidationOptions, validate_file

from c2watch.analysis.verdicts import VerdictRules, evaluate
from c2watch.config import DEFAULT_USER_AGENT, Settings
from c2watch.lab import Lab, Scenario
from c2watch.metrics import AgentMetrics
from c2watch.observer.cycle import CycleOptions, run_cycle
from c2watch.stix.ingest import records_from_objects
from c2watch.store import Store
from tests.helpers.observing import destination, import_lab, lab_settings
from tests.helpers.proxies import (
    accepting,
    free_port,
    require_proxies,
    start_microsocks,
    start_tinyproxy,
    stop,
    wait_until,
)

PROXY_OUT = "127.0.0.66"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "observer.md"
T0 = dt.datetime(2021, 3, 1, tzinfo=dt.UTC)


@pytest.fixture
def socks(tmp_path: Path) -> Iterator[str]:
    require_proxies()
    port = free_port()
    proc = start_microsocks("127.0.0.1", port, tmp_path / "microsocks.log", bind=PROXY_OUT)
    try:
        wait_until(accepting("127.0.0.1", port), "microsocks")
        yield f"socks5h://127.0.0.1:{port}"
    finally:
        stop(proc)


@pytest.fixture
def connect_proxy(tmp_path: Path) -> Iterator[str]:
    require_proxies()
    port = free_port()
    proc = start_tinyproxy("127.0.0.1", port, tmp_path / "tinyproxy", "127.0.0.1")
    try:
        wait_until(accepting("127.0.0.1", port), "tinyproxy")
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc)


def egress_settings(*proxies: str, **sections: dict[str, Any]) -> Settings:
    listed = [{"url": url, "label": f"rented-{n}"} for n, url in enumerate(proxies, 1)]
    return lab_settings(egress={"proxies": listed}, **sections)


def scenario() -> Scenario:
    return Scenario([destination(1, "status:200"), destination(2, "status:200", scheme="https")])


def cycle(store: Store, settings: Settings, tmp_path: Path, lab: Lab, at: dt.datetime = T0, metrics: Any = None) -> Any:
    async def go() -> Any:
        import_lab(store, lab, lab.scenario, tmp_path)
        options = CycleOptions(on_result=metrics.observed if metrics else None)
        return await run_cycle(store, settings, tmp_path, options, clock=lambda: at)

    return go()


async def observe(store: Store, settings: Settings, tmp_path: Path) -> tuple[Lab, Any]:
    async with Lab(scenario(), control_icmp=False) as lab:
        summary = await cycle(store, settings, tmp_path, lab)
    return lab, summary


PROBES = {"probes": ["dns", "icmp", "http", "tls", "jarm", "favicon"]}


def test_every_tcp_probe_leaves_through_the_proxy(store: Store, tmp_path: Path, socks: str) -> None:
    settings = egress_settings(socks, cycle=PROBES)
    lab, summary = asyncio.run(observe(store, settings, tmp_path))
    assert summary.outcomes == {"responding": 2}
    assert lab.hits and {hit.peer for hit in lab.hits} == {PROXY_OUT}  # HTTP, favicon, TLS and JARM connections
    https = lab.scenario.destinations[1].name
    assert lab.requests[https] >= 1 + 1 + 1 + 10  # GET, favicon, handshake, ten JARM hellos
    for row in store.observations.rows():
        probes = row["details"]["probes"]
        assert row["details"]["egress"] == "rented-1"
        assert probes["icmp"]["outcome"] == "refused-by-egress"  # never silently direct
        assert probes["http"]["outcome"] == "responding" and probes["favicon"]["outcome"] == "answered"
    assert validate_file(summary.stix_path, ValidationOptions(version="2.1", disabled=["103", "301"])).is_valid
    bundle = json.loads(Path(summary.stix_path).read_text(encoding="utf-8"))
    observed = [o for o in bundle["objects"] if o["type"] == "observed-data"]
    assert {next(iter(o["extensions"].values())).get("egress") for o in observed} == {"rented-1"}
    shared = records_from_objects({o["id"]: o for o in bundle["objects"]})  # as another observer indexes them
    assert len(shared) == 2 and {r.row["details"]["egress"] for r in shared} == {"rented-1"}


def test_direct_observation_shows_the_observers_address(store: Store, tmp_path: Path) -> None:
    """The control: without a proxy the lab sees loopback's default source, not the proxy's address."""
    lab, summary = asyncio.run(observe(store, lab_settings(), tmp_path))
    assert summary.outcomes == {"responding": 2}
    assert PROXY_OUT not in {hit.peer for hit in lab.hits}
    assert all("egress" not in row["details"] for row in store.observations.rows())


def documented_request() -> str:
    """The request form docs/observer.md shows (the block after "What a C2 server receives")."""
    text = DOCS.read_text(encoding="utf-8")
    found = re.search(r"What a C2 server receives.*?```http\n(.*?)```", text, re.S)
    assert found, "docs/observer.md documents the request"
    return found.group(1)


@pytest.mark.parametrize("through_proxy", [False, True])
def test_the_request_is_byte_for_byte_the_documented_one(
    store: Store, tmp_path: Path, socks: str, through_proxy: bool
) -> None:
    settings = egress_settings(socks) if through_proxy else lab_settings()
    settings = Settings(**{**settings.model_dump(), "cycle": {"probes": ["http"]}})
    lab, _ = asyncio.run(observe(store, settings, tmp_path))
    assert len(lab.access) == 2
    for access in lab.access:
        server = next(s for s in lab.scenario if s.name == access.name)
        port = int(re.search(rb"Host: [^:]+:(\d+)", access.head).group(1))  # type: ignore[union-attr]
        form = documented_request().replace("{host}", f"{server.address}:{port}").replace("{path}", "/gate.php")
        expected = form.replace("{user_agent}", DEFAULT_USER_AGENT).replace("\n", "\r\n") + "\r\n"
        assert access.head == expected.encode("latin-1")
        assert (access.peer == PROXY_OUT) is through_proxy


def test_a_proxy_that_is_down_is_egress_failed_and_changes_no_verdict(
    store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    down = f"socks5h://127.0.0.1:{free_port()}"  # nothing listens there
    rules = VerdictRules(dead_after=dt.timedelta(days=1), min_silent_cycles=2)
    judged_at = T0 + dt.timedelta(days=5)
    metrics = AgentMetrics()

    async def go() -> tuple[Any, list[Any]]:
        async with Lab(scenario(), control_icmp=False) as lab:
            await cycle(store, lab_settings(), tmp_path, lab)
            store.verdicts.fold_summaries(T0)
            before = evaluate(store, rules, judged_at)
            failed = [
                await cycle(store, egress_settings(down), tmp_path, lab, T0 + dt.timedelta(days=day), metrics)
                for day in (1, 2, 3, 4)
            ]
        return before, failed

    before, failed = asyncio.run(go())
    assert [s.outcomes for s in failed] == [{"egress-failed": 2}] * 4
    assert b'c2watch_egress_failed_total{egress="rented-1"} 8.0' in metrics.exposition()
    assert caplog.text.count("egress rented-1 failed for 2 of 2 destinations") == 4  # once a cycle, not per destination
    rows = [row for row in store.observations.rows() if row["outcome"] == "egress-failed"]
    assert len(rows) == 8 and {row["http_outcome"] for row in rows} == {"egress-failed"}
    assert {row["details"]["probes"]["http"]["error"] for row in rows} == {"egress-failed"}
    store.verdicts.fold_summaries(judged_at)
    after = evaluate(store, rules, judged_at)
    assert [v.status for v in before] == ["dormant", "dormant"]  # not dead: no silent cycle since the answer
    assert [v.as_dict() for v in after] == [v.as_dict() for v in before]
    assert all(s.observations == 1 and s.silent_http == 0 for s in store.verdicts.answer_summaries())


@pytest.mark.parametrize(("proxy", "kind"), [("socks", "refused"), ("connect_proxy", "connect")])
def test_what_the_proxy_reports_of_the_destination_is_the_destinations(
    store: Store, tmp_path: Path, request: pytest.FixtureRequest, proxy: str, kind: str
) -> None:
    """A destination that refuses (not listening) is the destination's silence, whichever proxy reports it; a
    listening one answers through the same proxy in the same cycle."""
    settings = egress_settings(request.getfixturevalue(proxy), cycle={"probes": ["http", "tls"]})

    async def go() -> Any:
        closed = Scenario([destination(1, "closed"), destination(2, "status:200", scheme="https")])
        async with Lab(closed, control_icmp=False) as lab:
            return await cycle(store, settings, tmp_path, lab)

    assert asyncio.run(go()).outcomes == {"silent": 1, "responding": 1}
    silent = next(row for row in store.observations.rows() if row["outcome"] == "silent")
    assert silent["http_outcome"] == "error" and silent["http_error"] == kind


def test_a_hung_socks_proxy_is_egress_failed_a_hanging_destination_is_silent(store: Store, tmp_path: Path) -> None:
    """A microsocks stopped with SIGSTOP accepts connections (the kernel's backlog) and never answers: the
    destinations are egress-failed. Through a running one, a destination that accepts and never answers is the
    destination's timeout."""
    require_proxies()
    hung, running = free_port(), free_port()
    procs = [
        start_microsocks("127.0.0.1", hung, tmp_path / "hung.log"),
        start_microsocks("127.0.0.1", running, tmp_path / "running.log"),
    ]
    try:
        for port in (hung, running):
            wait_until(accepting("127.0.0.1", port), "microsocks")
        procs[0].send_signal(signal.SIGSTOP)

        async def go(proxy: int) -> Any:
            tarpit = Scenario([destination(1, "tarpit"), destination(2, "status:200")])
            async with Lab(tarpit, control_icmp=False) as lab:
                return await cycle(store, egress_settings(f"socks5h://127.0.0.1:{proxy}"), tmp_path, lab)

        assert asyncio.run(go(hung)).outcomes == {"egress-failed": 2}
        assert asyncio.run(go(running)).outcomes == {"silent": 1, "responding": 1}
    finally:
        procs[0].send_signal(signal.SIGCONT)
        for proc in procs:
            stop(proc)
    errors = Counter((row["outcome"], row["http_error"]) for row in store.observations.rows())
    assert errors == {("egress-failed", "egress-failed"): 2, ("silent", "timeout"): 1, ("responding", None): 1}
