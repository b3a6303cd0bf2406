"""The wheel carries what the program needs at run time: migrations, STIX schemas, templates and static files."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).parent.parent.parent


def test_wheel_contents(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    [wheel] = tmp_path.glob("c2watch-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "c2watch/store/migrations/env.py" in names
    assert any(n.startswith("c2watch/store/migrations/versions/0001") for n in names)
    assert any(n.startswith("c2watch/stix/schemas/") and n.endswith(".json") for n in names)
    assert any(n.startswith("c2watch/web/templates/") for n in names)
    assert any(n.startswith("c2watch/web/static/") for n in names)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "c2watch = c2watch.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
