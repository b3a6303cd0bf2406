"""The multi-observer lab pieces: observers leaving from their own loopback addresses ([observer] source_address),
destinations blocking one of them, ping modes over time (follow, ttl:N), and several observers simulated into one
store with a refresh per simulated day."""

from __future__ import annotations

import asyncio
import os
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from c2watch.analysis.events import list_events
from c2watch.analysis.verdicts import stored_verdicts
from c2watch.config import Settings
from c2watch.lab import Destination, FakeClock, Lab, Scenario, ScenarioError, scenario_from_mapping
from c2watch.lab.icmp_filter import rules_at
from c2watch.lab.scenario import PingMode, parse_ping
from c2watch.lab.simulate import as_observer, simulate_observers, slots_between
from c2watch.observer.cycle import run_cycle
from c2watch.observer.schedule import Schedule
from c2watch.probes.pinger import open_pinger
from c2watch.store import Store
from tests.helpers.observing import START, import_lab, lab_settings

from .helpers import status_of

TOKYO, OSAKA, SAPPORO = "127.78.0.1", "127.78.0.2", "127.78.0.3"
nft_root = pytest.mark.skipif(
    shutil.which("nft") is None or os.geteuid() != 0, reason="needs root and nft (Debian package nftables)"
)


def _dest(index: int, timeline: list[tuple[float, str]], **extra: object) -> Destination:
    return Destination(
        name=f"d{index}",
        threat_id="OBS",
        address=f"127.79.0.{index}",
        port=0,
        timeline=[(START + timedelta(days=day), behaviour) for day, behaviour in timeline],
        path="/gate.php",
        **extra,  # type: ignore[arg-type]
    )


def test_ping_modes_and_blocked_sources_over_time() -> None:
    assert parse_ping("follow") == PingMode(follow=True) and parse_ping("ttl:52") == PingMode(ttl=52)
    assert parse_ping("ttl:52").text == "ttl:52" and parse_ping("follow").text == "follow"
    for bad in ("ttl:0", "ttl:256", "ttl:x", "loss:101", "sometimes"):
        with pytest.raises(ScenarioError, match="follow or ttl:N"):
            parse_ping(bad)
    blocked = [(START + timedelta(hours=12), f"{SAPPORO}, {OSAKA}"), (START + timedelta(days=3), "")]
    pings = [(START + timedelta(days=2), "ttl:50")]
    dest = _dest(1, [(0, "status:200"), (1, "silent")], ping="follow", pings=pings, blocked=blocked)
    scenario = Scenario([dest])
    assert dest.blocked_at(START) == frozenset()
    assert dest.blocked_at(START + timedelta(hours=12)) == {SAPPORO, OSAKA}
    assert dest.blocked_at(START + timedelta(days=3)) == frozenset()
    assert scenario.ping_at(dest, START).loss == 0  # follows: HTTP answers
    assert scenario.ping_at(dest, START + timedelta(days=1)).loss == 100  # follows: HTTP silent
    assert scenario.ping_at(dest, START + timedelta(days=2)) == PingMode(ttl=50)


def test_blocked_and_pings_load_from_toml_with_the_field_named() -> None:
    base = {"name": "a", "threat_id": "T", "address": "127.79.0.1", "port": 0, "behaviour": "status:200"}
    loaded = scenario_from_mapping(
        {
            "destination": [
                {
                    **base,
                    "pings": [{"start": START, "ping": "ttl:60"}],
                    "blocked": [{"start": START, "sources": SAPPORO}],
                }
            ]
        }
    )
    assert loaded.get("a").blocked_at(START) == {SAPPORO} and loaded.get("a").ping_at(START).ttl == 60
    with pytest.raises(ScenarioError, match=r"destination\[0\]\.blocked\[0\]\.sources: .*'nobody'"):
        scenario_from_mapping({"destination": [{**base, "blocked": [{"start": START, "sources": "nobody"}]}]})
    with pytest.raises(ScenarioError, match=r"destination\[0\]\.pings\[1\]\.start: .*increasing"):
        steps = [{"start": START, "ping": "drop"}, {"start": START, "ping": "reply"}]
        scenario_from_mapping({"destination": [{**base, "pings": steps}]})


def test_icmp_rules_drop_blocked_sources_and_set_the_ttl() -> None:
    inputs, outputs = rules_at("127.79.0.1", PingMode(ttl=52), [SAPPORO, "::1"])
    assert inputs == [f"ip saddr {SAPPORO} ip daddr 127.79.0.1 icmp type echo-request counter drop"]
    assert outputs == ["ip saddr 127.79.0.1 icmp type echo-reply ip ttl set 52"]
    assert rules_at("127.79.0.1", PingMode(100)) == (["ip daddr 127.79.0.1 icmp type echo-request counter drop"], [])


def test_source_address_must_be_an_ip_address() -> None:
    assert Settings(observer={"source_address": "127.78.0.3"}).observer.source_address == SAPPORO  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="source_address"):
        Settings(observer={"source_address": "lab-sapporo"})  # type: ignore[arg-type]


async def _get_from(url: str, source: str) -> bytes:
    """A GET on a connection bound to ``source``; b"" when the peer resets or closes it."""
    host, _, port = url.split("/")[2].partition(":")
    try:
        reader, writer = await asyncio.open_connection(host, int(port), local_addr=(source, 0))
        writer.write(b"GET /gate.php HTTP/1.1\r\nHost: x\r\n\r\n")
        data = await asyncio.wait_for(reader.read(65536), 5)
        writer.close()
        return data
    except ConnectionError:
        return b""


async def test_a_destination_resets_the_connections_of_a_blocked_source() -> None:
    clock = FakeClock(START)
    scenario = Scenario([_dest(1, [(0, "status:200")], blocked=[(START + timedelta(days=1), SAPPORO)])])
    async with Lab(scenario, clock, control_icmp=False) as lab:
        url = lab.url_for("d1")
        assert status_of(await _get_from(url, SAPPORO))[0] == 200  # not blocked yet
        clock.advance(days=1)
        assert status_of(await _get_from(url, TOKYO))[0] == 200
        assert await _get_from(url, SAPPORO) == b""
    assert [(hit.peer, hit.behaviour) for hit in lab.hits] == [
        (SAPPORO, "status:200"),
        (TOKYO, "status:200"),
        (SAPPORO, "blocked"),
    ]


@nft_root
async def test_echo_requests_of_a_blocked_source_are_dropped_and_the_ttl_changes_on_time() -> None:
    clock = FakeClock(START)
    dest = _dest(2, [(0, "status:200")], pings=[(START + timedelta(days=1), "ttl:52")],
                 blocked=[(START + timedelta(days=1), SAPPORO)])  # fmt: skip
    async with Lab(Scenario([dest]), clock) as lab:
        assert lab.icmp_controlled
        tokyo, sapporo = await open_pinger("auto", TOKYO), await open_pinger("auto", SAPPORO)
        try:
            before = await sapporo.ping(dest.address, count=1, timeout=1.0)
            clock.advance(days=1)
            await lab.sync()
            answered = await tokyo.ping(dest.address, count=1, timeout=1.0)
            dropped = await sapporo.ping(dest.address, count=1, timeout=0.3)
        finally:
            await tokyo.aclose()
            await sapporo.aclose()
    assert before.outcome == "alive" and before.ttl == 64
    assert answered.outcome == "alive" and answered.ttl == 52
    assert dropped.outcome == "no-reply"


def test_observers_simulated_into_one_store_are_judged_every_day(store: Store, tmp_path: Path) -> None:
    """Three observers, each from its own address; d1 blocks SAPPORO from day 1. The refresh during the simulation
    records the suspicion when it arises (detected on a simulated day, not at the end), and the verdict says who."""
    scenario = Scenario(
        [
            _dest(1, [(0, "status:200")], blocked=[(START + timedelta(days=1), SAPPORO)]),
            _dest(2, [(0, "status:200"), (0.5, "status:404")]),
        ]
    )
    settings = lab_settings(verdict={"lookback_days": 1})
    observers = [as_observer(settings, name, source) for name, source in
                 (("lab-tokyo", TOKYO), ("lab-osaka", OSAKA), ("lab-sapporo", SAPPORO))]  # fmt: skip
    end = START + timedelta(days=3)
    slots = slots_between(Schedule.from_settings(settings.schedule), START, end)

    async def go() -> None:
        clock = FakeClock(START)
        async with Lab(scenario, clock, control_icmp=False) as lab:
            import_lab(store, lab, scenario, tmp_path)
            done = await simulate_observers(store, observers, tmp_path, lab, clock, slots)
            assert {summary.observer for summary in done} == {"lab-tokyo", "lab-osaka", "lab-sapporo"}
            assert len(done) == 3 * len(slots)
            assert {hit.peer for hit in lab.hits} == {TOKYO, OSAKA, SAPPORO}

    asyncio.run(go())
    verdicts = {v.target.url.split("/")[2].split(":")[0]: v for v in stored_verdicts(store)}
    assert verdicts["127.79.0.1"].status == "blocked-for-observer"
    assert verdicts["127.79.0.1"].blocked == ("lab-sapporo",)
    assert verdicts["127.79.0.2"].status == "alive"
    events = list_events(store)
    blocking = [e for e in events if e.kind == "blocking-suspected"]
    assert [e.observer for e in blocking] == ["lab-sapporo"] and blocking[0].detected_at < slots[-1]
    changed = [e for e in events if e.kind == "status-changed"]
    assert changed and all(e.subject == "200→404" for e in changed)  # one per observer or merged, never missed
    assert changed[0].detected_at < START + timedelta(days=2)


def test_every_tcp_probe_of_a_cycle_leaves_from_the_source_address(store: Store, tmp_path: Path) -> None:
    """HTTP, TLS and JARM of an HTTPS destination: the lab sees each connection from the observer's address."""
    scenario = Scenario([_dest(3, [(0, "status:200")], scheme="https")])
    settings = as_observer(lab_settings(cycle={"probes": ["http", "tls", "jarm"]}), "lab-osaka", OSAKA)

    async def go() -> set[str]:
        async with Lab(scenario, FakeClock(START), control_icmp=False) as lab:
            import_lab(store, lab, scenario, tmp_path)
            summary = await run_cycle(store, settings, tmp_path, clock=FakeClock(START))
            assert summary.outcomes == {"responding": 1}
            assert len(lab.hits) > 2  # one GET, one handshake, JARM's ten hellos
            return {hit.peer for hit in lab.hits}

    assert asyncio.run(go()) == {OSAKA}
