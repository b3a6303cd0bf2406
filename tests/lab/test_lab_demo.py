from __future__ import annotations

import asyncio
import csv
import io
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import c2watch.lab as lab_api
from c2watch.lab import FakeClock, Lab, Scenario, example_scenario, serve, to_watchlist_csv
from c2watch.lab.demo import DEMO_DAYS, DEMO_OBSERVERS, DEMO_START, WATCHLIST_HEADER
from c2watch.watchlist import parse_watchlist

from .helpers import connect, fetch, status_of


def test_public_api() -> None:
    for name in ("Lab", "Scenario", "Destination", "load_scenario", "BEHAVIOURS", "example_scenario", "serve",
                 "to_watchlist_csv", "FakeClock"):  # fmt: skip
        assert name in lab_api.__all__ and hasattr(lab_api, name)


def test_example_scenario() -> None:
    scenario = example_scenario()
    assert len(scenario) == 16
    assert {dest.threat_id for dest in scenario} == {"DEMO-A", "DEMO-B", "DEMO-C"}
    assert sorted(dest.address for dest in scenario) == sorted(f"127.77.0.{i}" for i in range(1, 17))
    kinds = {dest.behaviour_at(DEMO_START).kind for dest in scenario}
    assert {"status", "closed", "tarpit", "slow", "rate", "as"} <= kinds
    assert any(dest.scheme == "https" for dest in scenario)
    gate = scenario.get("demo-a-gate")
    days = [0, 0.25 * DEMO_DAYS, 0.5 * DEMO_DAYS, 0.8 * DEMO_DAYS]
    texts = [gate.behaviour_at(DEMO_START + timedelta(days=day)).text for day in days]
    assert texts == ["status:200", "status:404", "status:500", "silent"]  # the paper's story
    tls, sapporo = scenario.get("demo-b-tls"), DEMO_OBSERVERS[-1][1]
    assert sapporo not in tls.blocked_at(DEMO_START + timedelta(days=0.69 * DEMO_DAYS))
    assert tls.blocked_at(DEMO_START + timedelta(days=0.7 * DEMO_DAYS)) == {sapporo}
    assert len({source for _name, source in DEMO_OBSERVERS}) == 3
    flap = scenario.get("demo-a-flap")  # HTTP and ping flap together
    slots = [DEMO_START + timedelta(hours=4 * n) for n in range(60)]
    http = [scenario.resolve(flap, at).kind == "status" for at in slots]
    assert [scenario.ping_at(flap, at).loss == 0 for at in slots] == http and 10 < sum(http) < 50
    back = scenario.get("demo-b-back")
    shares = (0, 0.3, 0.6)
    assert [back.behaviour_at(DEMO_START + timedelta(days=DEMO_DAYS * s)).kind for s in shares] == [
        "status",
        "silent",
        "status",
    ]
    moved = scenario.get("demo-b-moved")
    assert moved.ping_at(DEMO_START).ttl is None and moved.ping_at(DEMO_START + timedelta(days=20)).ttl == 52
    short = example_scenario(DEMO_START, 8)  # the stories scale with the span
    assert short.get("demo-a-gate").behaviour_at(DEMO_START + timedelta(days=2)).code == 404
    named = {dest.name: dest for dest in scenario if dest.domain}
    assert {d.domain for d in named.values()} == {"gate.sunk.test", "shop.parked.test", "www.gone.test"}
    gone = named["demo-c-gone"]
    answers = [gone.answer_at(DEMO_START + timedelta(hours=hours)) for hours in (0, 12, 24 * 40)]
    assert [a.kind if a else None for a in answers] == ["a", "nxdomain", "nxdomain"]
    rented = scenario.get("demo-c-rerented")
    personas = [rented.behaviour_at(DEMO_START + timedelta(days=day)).args for day in (0, 5)]
    assert personas == [("cobalt-strike",), ("nginx-default",)]


def test_watchlist_csv(tmp_path: Path) -> None:
    text = to_watchlist_csv(example_scenario())
    rows = list(csv.reader(io.StringIO(text)))
    assert tuple(rows[0]) == WATCHLIST_HEADER
    assert rows[1][:6] == ["DEMO-A", "127.77.0.1", "", "http://127.77.0.1:8080/gate.php", "8080", "2025-01-01"]
    assert len(rows) == 17
    assert rows[11][1:4] == ["", "shop.parked.test", "http://shop.parked.test:8080/"]  # found through DNS
    path = tmp_path / "demo.csv"
    path.write_text(text, encoding="utf-8")
    parsed = parse_watchlist(path)  # the product's own reader accepts it
    assert parsed.errors == [] and len(parsed.entries) == 16
    assert parsed.entries[5].url == "https://127.77.0.6:8443/"


def test_watchlist_csv_takes_the_ports_a_lab_chose() -> None:
    from .helpers import one

    scenario = one("gate", "status:200")
    assert ",http://127.77.1.10:0/gate.php,0," in to_watchlist_csv(scenario)
    assert ",http://127.77.1.10:4321/gate.php,4321," in to_watchlist_csv(scenario, {"gate": 4321})


def demo_on_free_ports() -> Scenario:
    """The demo scenario with port 0 everywhere, so parallel test runs do not collide."""
    return Scenario([replace(dest, port=0) for dest in example_scenario()])


async def test_the_demo_runs_on_a_fake_clock() -> None:
    clock = FakeClock(DEMO_START)
    async with Lab(demo_on_free_ports(), clock) as lab:
        assert status_of(await fetch(lab.url_for("demo-a-gate")))[0] == 200
        assert status_of(await fetch(lab.url_for("demo-b-tls")))[0] == 200
        clock.advance(days=0.25 * DEMO_DAYS)
        assert status_of(await fetch(lab.url_for("demo-a-gate")))[0] == 404
        clock.advance(days=0.25 * DEMO_DAYS)
        assert status_of(await fetch(lab.url_for("demo-a-gate")))[0] == 500


async def test_serve_runs_until_stopped() -> None:
    stop = asyncio.Event()
    ready: list[Lab] = []
    task = asyncio.create_task(serve(demo_on_free_ports(), FakeClock(DEMO_START), stop, on_ready=ready.append))
    while not ready:
        await asyncio.sleep(0.01)
    url = ready[0].url_for("demo-a-gate")
    assert status_of(await fetch(url))[0] == 200
    stop.set()
    await asyncio.wait_for(task, 5)
    try:
        await connect(url)
    except ConnectionRefusedError:
        pass
    else:
        raise AssertionError("still listening after serve() returned")
