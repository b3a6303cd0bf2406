"""``bench/feeds_conformance.py``: one table row per feed file, each imported into a throw-away store."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]
FEEDS = Path(__file__).parent / "feeds"


def run(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "feeds_conformance.py"), *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return done.stdout


def test_a_row_per_file_with_its_counts() -> None:
    rows = {line.split(" | ")[0].lstrip("| "): line.split(" | ")[1:] for line in run(str(FEEDS)).splitlines()[2:]}
    assert set(rows) == {path.name for path in FEEDS.iterdir()}
    assert rows["feodo.csv"][:4] == ["feodo", "3", "3", "0"]  # format, destinations, added, bad rows
    assert rows["feodo.csv"][4].startswith("1 (1x repeats a destination")
    assert rows["misp"][0] == "misp" and rows["stix_bundle.json"][-1] == "ok |"


def test_no_folder_nothing_to_check(tmp_path: Path) -> None:
    assert run(str(tmp_path / "absent")).startswith("no folder")
