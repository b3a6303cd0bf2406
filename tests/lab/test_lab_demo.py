from __future__ import annotations

import asyncio
import csv
import io
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import c2watch.lab as lab_api
from c2watch.lab import FakeClock, Lab, Scenario, example_scenario, serve, to_watchlist_csv
from c2watch.lab.demo import DEMO_START, WATCHLIST_HEADER
from c2watch.watchlist import parse_watchlist

from .helpers import connect, fetch, status_of


def test_public_api() -> None:
    for name in ("Lab", "Scenario", "Destination", "load_scenario", "BEHAVIOURS", "example_scenario", "serve",
                 "to_watchlist_csv", "FakeClock"):  # fmt: skip
        assert name in lab_api.__all__ and hasattr(lab_api, name)


def test_example_scenario() -> None:
    scenario = example_scenario()
    assert len(scenario) == 12
    assert {dest.threat_id for dest in scenario} == {"DEMO-A", "DEMO-B", "DEMO-C"}
    assert all(dest.address.startswith("127.77.0.") for dest in scenario)
    kinds = {dest.behaviour_at(DEMO_START).kind for dest in scenario}
    assert {"status", "closed", "tarpit", "slow", "reset", "rate"} <= kinds
    assert any(dest.scheme == "https" for dest in scenario)
    gate = scenario.get("demo-a-gate")
    codes = [gate.behaviour_at(DEMO_START + timedelta(days=day)).code for day in (0, 7, 14, 300)]
    assert codes == [200, 404, 500, 500]
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
    assert len(rows) == 13
    assert rows[11][1:4] == ["", "shop.parked.test", "http://shop.parked.test:8080/"]  # found through DNS
    path = tmp_path / "demo.csv"
    path.write_text(text, encoding="utf-8")
    parsed = parse_watchlist(path)  # the product's own reader accepts it
    assert parsed.errors == [] and len(parsed.entries) == 12
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
        clock.advance(days=7)
        assert status_of(await fetch(lab.url_for("demo-a-gate")))[0] == 404
        clock.advance(days=7)
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
