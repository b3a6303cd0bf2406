"""Helpers for observer tests: settings that allow loopback only, a lab imported as the watchlist."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from c2watch.config import Settings
from c2watch.lab import Destination, Lab, Scenario, to_watchlist_csv
from c2watch.models.observation import Observation
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
