"""Helpers for observer tests: settings that allow loopback only, a lab imported as the watchlist."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from c2watch.config import Settings
from c2watch.lab import Destination, Lab, Scenario, to_watchlist_csv
from c2watch.models.observation import Observation
from c2watch.observer.cycle import run_cycle
from c2watch.store import Store
from c2watch.watchlist.importer import import_watchlist

START = dt.datetime(2021, 1, 1, tzinfo=dt.UTC)


def lab_settings(**sections: dict[str, Any]) -> Settings:
    """Loopback explicitly allowed; short timeouts so hostile peers end quickly."""
    base: dict[str, dict[str, Any]] = {
        "safety": {"allow_networks": ["127.0.0.0/8"]},
        "icmp": {"count": 2, "interval": 0.05, "timeout": 0.5},
        "http": {"connect_timeout": 1.0, "total_timeout": 2.0},
        "tls": {"timeout": 1.0},
        "dns": {"nameservers": ["127.0.0.1"], "port": 9, "timeout": 0.5},
    }
    for name, values in sections.items():
        base[name] = {**base.get(name, {}), **values}
    return Settings(**base)  # type: ignore[arg-type]


def destination(index: int, behaviour: str, scheme: str = "http", ping: str = "reply") -> Destination:
    name = behaviour.replace(":", "-").replace(".", "_")
    return Destination(
        name=f"{index:02d}-{name}"[:63],
        threat_id="LAB",
        address=f"127.88.0.{index}",
        port=0,
        timeline=[(None, behaviour)],
        scheme=scheme,
        path="/gate.php",
        ping=ping,
    )


def import_lab(store: Store, lab: Lab, scenario: Scenario, tmp_path: Path) -> None:
    path = tmp_path / "lab-watchlist.csv"
    path.write_text(to_watchlist_csv(scenario, lab.ports()), encoding="utf-8")
    import_watchlist(store, path, START)


def by_address(observations: list[Observation]) -> dict[str, Observation]:
    return {obs.target.host: obs for obs in observations}


def lab_cycle(store: Store, scenario: Scenario, settings: Settings, tmp_path: Path) -> tuple[dict[str, Any], Path]:
    """One real cycle over ``scenario`` (served by a lab that leaves ICMP alone, imported as the watchlist): the
    stored rows by destination name, and the cycle's bundle."""

    async def go() -> Path:
        async with Lab(scenario, control_icmp=False) as lab:
            import_lab(store, lab, scenario, tmp_path)
            summary = await run_cycle(store, settings, tmp_path)
        assert summary.stix_path is not None
        return Path(summary.stix_path)

    path = asyncio.run(go())
    names = {dest.address: dest.name for dest in scenario}
    rows = {names[urlsplit(row["probed_value"]).hostname or ""]: row for row in store.observations.rows()}
    return rows, path
