"""Reproduce the paper's Table 1: observe the trial scenario with real cycles (lab on loopback, fast-forwarded
clock, every 4 h from 00:00 JST over Jan–Apr and Jul 2021), then print the monthly report beside the paper's.

    python examples/table1/reproduce.py --home /tmp/table1      # ~2 minutes on 2 cores
    c2watch --home /tmp/table1 report monthly
    c2watch --home /tmp/table1 dashboard
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

from c2watch.analysis import monthly_report
from c2watch.home import Home
from c2watch.lab.trial import TABLE1, TABLE1_MONTHS, load_trial, run_trial, trial_settings

HERE = Path(__file__).parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", type=Path, default=Path("table1-data"), help="data directory to create")
    parser.add_argument("--icmp", action="store_true", help="ping too (needs root or ping_group_range)")
    args = parser.parse_args()
    home = Home(args.home)
    home.init()
    store = home.open_store()
    trial = load_trial(HERE / "scenario.toml")
    settings = trial_settings(trial, ("icmp", "http") if args.icmp else ("http",))
    began = time.perf_counter()
    cycles = asyncio.run(run_trial(store, settings, args.home, trial))
    print(f"{cycles} cycles in {time.perf_counter() - began:.0f} s; store {home.store_url(home.settings())}")
    report = monthly_report(store, settings.observer.zone)
    print("threat  " + "  ".join(f"{m:>13}" for m in TABLE1_MONTHS) + "   (measured / paper)")
    for row in report.threats:
        paper = TABLE1[row.threat_id][1]
        cells = [
            f"{row.shown(m):>6} /{'-' if p is None else f'{p:g}':>5}" for m, p in zip(TABLE1_MONTHS, paper, strict=True)
        ]
        print(f"{row.threat_id:6}  " + "  ".join(cells))
    store.close()


if __name__ == "__main__":
    main()
