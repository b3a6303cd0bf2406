"""Cycles end to end: concurrency, persistence as results finish, an interrupted cycle, the CLI summary."""

from __future__ import annotations

import asyncio
import json
import random
from pathlib import Path

import pytest
from click.testing import CliRunner

from c2watch.cli import cli
from c2watch.lab import Lab, Scenario
from c2watch.lab.dnsserver import LabDns
from c2watch.models.observation import Observation
from c2watch.observer.cycle import CycleOptions, run_cycle
from c2watch.store import Store, open_store
from tests.helpers.observing import destination, import_lab, lab_settings


async def test_interrupted_cycle_keeps_what_finished_and_next_cycle_runs(tmp_path: Path) -> None:
    fast = [destination(i, "status:200") for i in range(1, 7)]
    scenario = Scenario([*fast, destination(20, "tarpit"), destination(21, "tarpit")])
    store = open_store(tmp_path / "c2watch.db")
    settings = lab_settings(http={"total_timeout": 30.0})
    six_done = asyncio.Event()
    finished: list[Observation] = []

    def on_result(obs: Observation) -> None:
        finished.append(obs)
        if len(finished) == 6:
            six_done.set()

    async with Lab(scenario) as lab:
        import_lab(store, lab, scenario, tmp_path)
        cycle = asyncio.create_task(run_cycle(store, settings, tmp_path, CycleOptions(on_result=on_result)))
        await asyncio.wait_for(six_done.wait(), timeout=20)
        cycle.cancel()
        with pytest.raises(asyncio.CancelledError):
            await cycle
        rows = store.observations.rows()
        assert len(rows) == 6 and all(r["http_status"] == 200 for r in rows)
        quick = lab_settings(http={"total_timeout": 0.5})
        summary = await run_cycle(store, quick, tmp_path, CycleOptions(rng=random.Random(1)))
    assert summary.destinations == 8 and summary.outcomes == {"responding": 6, "ping-only": 2}
    assert len(store.observations.rows()) == 14
    store.close()


async def test_domain_targets_are_resolved_through_the_configured_server(tmp_path: Path, store: Store) -> None:
    scenario = Scenario([destination(1, "status:200")])
    async with Lab(scenario) as lab, LabDns({"gate.c2.test": ["127.88.0.1"]}) as dns:
        port = lab.port_of(scenario.destinations[0].name)
        csv = f"threat_id,domain,port\nDNS-T,gate.c2.test,{port}\nDNS-T,private.c2.test,{port}\n"
        (tmp_path / "wl.csv").write_text(csv, encoding="utf-8")
        from c2watch.watchlist.importer import import_watchlist
        from tests.helpers.observing import START

        import_watchlist(store, tmp_path / "wl.csv", START)
        settings = lab_settings(
            dns={"nameservers": ["127.0.0.1"], "port": dns.port}, safety={"allow_domains": ["c2.test"]}
        )
        summary = await run_cycle(store, settings, tmp_path)
    assert summary.outcomes == {"responding": 1, "dns-failed": 1}
    rows = {r["probed_value"]: r for r in store.observations.rows()}
    assert rows["gate.c2.test"]["resolved"] == ["127.88.0.1"]
    assert rows["gate.c2.test"]["http_status"] == 200
    assert rows["private.c2.test"]["details"]["dns_error"] == "nxdomain"


def test_observe_cli_prints_one_json_summary(tmp_path: Path, home: Path) -> None:
    scenario = Scenario([destination(1, "status:404"), destination(2, "closed")])

    async def serve_and_observe() -> str:
        async with Lab(scenario) as lab:
            runner = CliRunner()
            assert runner.invoke(cli, ["init"]).exit_code == 0
            (home / "c2watch.toml").write_text(
                '[safety]\nallow_networks = ["127.0.0.0/8"]\n[icmp]\ncount = 2\ninterval = 0.05\n'
                "[http]\ntotal_timeout = 2.0\n",
                encoding="utf-8",
            )
            from c2watch.lab import to_watchlist_csv

            (tmp_path / "wl.csv").write_text(to_watchlist_csv(scenario, lab.ports()), encoding="utf-8")
            assert runner.invoke(cli, ["watchlist", "import", str(tmp_path / "wl.csv")]).exit_code == 0
            result = await asyncio.to_thread(runner.invoke, cli, ["observe", "--json"])
            assert result.exit_code == 0, result.output
            return result.stdout

    summary = json.loads(asyncio.run(serve_and_observe()))
    assert summary["destinations"] == 2
    assert summary["outcomes"] == {"responding": 1, "ping-only": 1}
    assert Path(summary["stix_path"]).exists()


def test_observe_unknown_threat_is_an_error(home: Path) -> None:
    runner = CliRunner()
    runner.invoke(cli, ["init"])
    result = runner.invoke(cli, ["observe", "--threat", "NOPE"])
    assert result.exit_code == 2 and "NOPE" in result.stderr


def test_documentation_targets_are_refused_not_probed(home: Path) -> None:
    runner = CliRunner()
    runner.invoke(cli, ["init"])
    assert runner.invoke(cli, ["watchlist", "import", "examples/watchlist.csv"]).exit_code == 0
    result = runner.invoke(cli, ["observe", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["outcomes"] == {"refused-by-guard": 4}
