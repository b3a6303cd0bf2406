"""Observe the identity scenario day by day (real cycles against the lab on 127.66.0.0/24, fast-forwarded clock,
every 4 h from 2026-03-01 00:00 JST for 14 days) and print each destination's verdict at the end of every day
beside the designed one.

    python examples/identity/reproduce.py --home /tmp/identity     # about a minute on 2 cores
    c2watch --home /tmp/identity status
    c2watch --home /tmp/identity dashboard
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import time
from pathlib import Path

from make_scenario import DAYS, DESIGNED, START

from c2watch.home import Home
from c2watch.lab import load_scenario
from c2watch.lab.storyline import verdicts_by_day

HERE = Path(__file__).parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", type=Path, default=Path("identity-data"), help="data directory to create")
    args = parser.parse_args()
    args.home.mkdir(parents=True, exist_ok=True)
    shutil.copy(HERE / "c2watch.toml", args.home / "c2watch.toml")
    home = Home(args.home)
    home.init()
    store = home.open_store()
    began = time.perf_counter()
    table = asyncio.run(
        verdicts_by_day(store, home.settings(), args.home, load_scenario(HERE / "scenario.toml"), START, DAYS)
    )
    print(f"{DAYS} days in {time.perf_counter() - began:.0f} s\n")
    print("\n".join(table.rows()))
    wrong = [name for name, line in table.statuses.items() if line != DESIGNED[name]]
    print("\nevery verdict as designed" if not wrong else f"\nnot as designed: {', '.join(wrong)}")
    store.close()


if __name__ == "__main__":
    main()
