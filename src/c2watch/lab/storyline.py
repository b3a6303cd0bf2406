"""A scenario observed day by day: real cycles against the lab under a fast-forwarded clock, the verdicts refreshed
at the end of every day, and what each destination was judged each day (the identity scenario's table)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from c2watch.analysis.events import refresh
from c2watch.analysis.verdicts import Verdict
from c2watch.config import Settings
from c2watch.lab.clock import FakeClock
from c2watch.lab.demo import to_watchlist_csv
from c2watch.lab.lab import Lab, with_lab_names
from c2watch.lab.scenario import Scenario
from c2watch.lab.simulate import simulate_history, slots_between
from c2watch.observer.schedule import Schedule
from c2watch.store import Store
from c2watch.watchlist.importer import import_watchlist

__all__ = ["DayTable", "verdicts_by_day"]

_DAY = dt.timedelta(days=1)


@dataclass
class DayTable:
    """Destination name -> its verdict at the end of each day (and the last day's verdicts in full)."""

    days: list[dt.date] = field(default_factory=list)
    statuses: dict[str, list[str]] = field(default_factory=dict)
    last: dict[str, Verdict] = field(default_factory=dict)

    def rows(self) -> list[str]:
        width = max((len(name) for name in self.statuses), default=0)
        head = " " * width + "  " + " ".join(f"{day:%m-%d}" for day in self.days)
        return [head] + [
            f"{name:{width}}  " + " ".join(f"{s[:5]:5}" for s in line) for name, line in self.statuses.items()
        ]


async def verdicts_by_day(
    store: Store, settings: Settings, data_dir: Path, scenario: Scenario, start: dt.datetime, days: int
) -> DayTable:
    """Observe ``scenario`` from ``start`` for ``days`` days (every schedule slot) and judge at each day's end."""
    clock = FakeClock(start)
    table = DayTable(statuses={dest.name: [] for dest in scenario})
    async with Lab(scenario, clock) as lab:
        settings = with_lab_names(settings, lab)
        path = data_dir / "storyline-watchlist.csv"
        path.write_text(to_watchlist_csv(scenario, lab.ports()), encoding="utf-8")
        import_watchlist(store, path, start, source="c2watch-lab-storyline")
        names = {lab.url_for(dest.name): dest.name for dest in scenario}
        schedule = Schedule.from_settings(settings.schedule)
        for day in range(days):
            begin = start + day * _DAY
            await simulate_history(store, settings, data_dir, lab, clock, slots_between(schedule, begin, begin + _DAY))
            report = refresh(store, settings, begin + _DAY - dt.timedelta(seconds=1), keep_verdicts=True)
            table.days.append(begin.date())
            found = _by_name(report.verdicts, names)
            for name, line in table.statuses.items():
                line.append(found[name].status if name in found else "-")
            table.last = found
    return table


def _by_name(verdicts: list[Verdict], names: Mapping[str, str]) -> dict[str, Verdict]:
    return {names[url]: v for v in verdicts if (url := v.target.url) is not None and url in names}
