"""The paper's trial, reproduced in the lab: Table 1 as data, a scenario with its watchlist phases, and a runner
that observes it with real cycles over a fast-forwarded clock.

A trial file is a lab scenario (see :mod:`c2watch.lab.loader`) plus ``[[phase]]`` tables: which threat IDs are on
the watchlist from ``start`` to ``end`` (the paper observed Jan–Apr 2021, then Jul 2021 with five more threats)::

    [[phase]]
    threats = ["A", "B", "C", "D"]
    start = 2021-01-01T00:00:00+09:00
    end = 2021-05-01T00:00:00+09:00
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from c2watch.config import Settings
from c2watch.errors import InputError
from c2watch.lab import FakeClock, Lab, Scenario, scenario_from_mapping, to_watchlist_csv
from c2watch.lab.simulate import simulate_history, slots_between
from c2watch.observer.cycle import CycleSummary
from c2watch.observer.schedule import Schedule
from c2watch.store import Store
from c2watch.watchlist.importer import import_watchlist

__all__ = ["TABLE1", "TABLE1_MONTHS", "Phase", "Trial", "load_trial", "run_trial", "trial_settings"]

TABLE1_MONTHS = ("2021-01", "2021-02", "2021-03", "2021-04", "2021-07")
#: The paper's Table 1: threat ID -> (reported, monthly HTTP response rate % or None for '-').
TABLE1: Mapping[str, tuple[str, tuple[float | None, ...]]] = {
    "A": ("2020-10", (74.2, 49.2, 47.0, 54.1, 36.4)),
    "B": ("2020-10", (5.5, 2.2, 1.4, 11.0, 0.0)),
    "C": ("2020-10", (61.5, 36.5, 32.9, 36.5, 38.4)),
    "D": ("2020-10", (47.7, 28.9, 33.3, 38.2, 25.6)),
    "E": ("2020-12", (None, None, None, None, 100.0)),
    "F": ("2021-01", (None, None, None, None, 40.6)),
    "G": ("2021-02", (None, None, None, None, 100.0)),
    "H": ("2021-03", (None, None, None, None, 0.0)),
    "I": ("2021-06", (None, None, None, None, 20.7)),
}


@dataclass(frozen=True)
class Phase:
    """Threat IDs on the watchlist, observed every slot in ``[start, end)``."""

    threats: tuple[str, ...]
    start: dt.datetime
    end: dt.datetime


@dataclass(frozen=True)
class Trial:
    scenario: Scenario
    phases: tuple[Phase, ...]
    network: str


def _phase(index: int, item: Any) -> Phase:
    where = f"phase[{index}]"
    if not isinstance(item, dict) or set(item) != {"threats", "start", "end"}:
        raise InputError(f"{where}: needs exactly the keys threats, start, end")
    threats, start, end = item["threats"], item["start"], item["end"]
    if not isinstance(threats, list) or not all(isinstance(t, str) for t in threats):
        raise InputError(f"{where}.threats: must be a list of threat IDs")
    for name, value in (("start", start), ("end", end)):
        if not isinstance(value, dt.datetime) or value.tzinfo is None:
            raise InputError(f"{where}.{name}: must be a date-time with a UTC offset")
    if end <= start:
        raise InputError(f"{where}: end must be after start")
    return Phase(tuple(threats), start.astimezone(dt.UTC), end.astimezone(dt.UTC))


def load_trial(path: str | Path) -> Trial:
    """Read a trial file: a lab scenario plus ``[[phase]]`` tables and the ``network`` its addresses live in."""
    with open(path, "rb") as handle:
        data = tomllib.load(handle)
    phases = data.pop("phase", None)
    network = data.pop("network", None)
    if not isinstance(phases, list) or not phases or not isinstance(network, str):
        raise InputError(f"{path}: a trial needs a network and at least one [[phase]]")
    scenario = scenario_from_mapping(data, str(path))
    return Trial(scenario, tuple(_phase(i, item) for i, item in enumerate(phases)), network)


def trial_settings(trial: Trial, probes: tuple[str, ...] = ("http",)) -> Settings:
    """The trial's loopback network explicitly allowed; timeouts long enough for a busy machine (the lab answers
    at once, so they cost nothing)."""
    values: dict[str, Any] = {
        "observer": {"name": "table1-observer", "organization": "c2watch lab"},
        "safety": {"allow_networks": [trial.network]},
        "cycle": {"probes": list(probes)},
        "icmp": {"count": 1, "interval": 0.01, "timeout": 0.05},
        "http": {"connect_timeout": 5.0, "total_timeout": 5.0},
    }
    return Settings(**values)


async def run_trial(
    store: Store,
    settings: Settings,
    data_dir: Path,
    trial: Trial,
    on_cycle: Callable[[CycleSummary], None] | None = None,
) -> int:
    """Observe every phase with real cycles against the lab on a fake clock; returns the number of cycles."""
    clock = FakeClock(trial.phases[0].start)
    schedule = Schedule.from_settings(settings.schedule)
    cycles = 0
    async with Lab(trial.scenario, clock) as lab:
        for index, phase in enumerate(trial.phases):
            watched = Scenario([d for d in trial.scenario if d.threat_id in phase.threats], seed=trial.scenario.seed)
            path = data_dir / f"trial-watchlist-{index}.csv"
            path.write_text(to_watchlist_csv(watched, lab.ports()), encoding="utf-8")
            import_watchlist(store, path, phase.start, source="trial")
            slots = slots_between(schedule, phase.start, phase.end)
            cycles += len(await simulate_history(store, settings, data_dir, lab, clock, slots, on_cycle))
    return cycles
