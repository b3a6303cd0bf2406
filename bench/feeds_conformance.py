"""Import every real feed file under ``../shared/feeds-real/`` and print what each gave.

Usage: ``.venv/bin/python bench/feeds_conformance.py [FOLDER]`` (default: ``../shared/feeds-real`` beside the
project). Each file (a MISP feed directory counts as one) is imported twice into its own throw-away SQLite store
in a temporary directory: strictly (accepted, or refused with the reason), then with ``--skip-invalid`` for the
counts. Nothing is probed and nothing outside the temporary directory is written. Prints one table row per file:
file, format, destinations parsed, added, bad rows skipped (with reasons), rows ignored by design (with reasons),
and the strict result.
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from c2watch.errors import LineError, WatchlistError
from c2watch.store import open_store
from c2watch.watchlist.importer import ImportOutcome, bad_rows, import_watchlist

DEFAULT_FOLDER = Path(__file__).resolve().parents[2] / "shared" / "feeds-real"
NOW = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
_NOT_FEEDS = {"SOURCES.md"}


@dataclass
class Row:
    file: str
    format: str = "-"
    destinations: int = 0
    added: int = 0
    skipped: str = "0"
    ignored: str = "0"
    result: str = "ok"


def candidates(folder: Path) -> list[Path]:
    """Every file of ``folder`` and its sub-folders, a MISP feed directory (with a manifest) as one."""
    found: list[Path] = []
    for path in sorted(folder.iterdir()):
        if path.name in _NOT_FEEDS:
            continue
        if path.is_dir() and not (path / "manifest.json").is_file():
            found += candidates(path)
        else:
            found.append(path)
    return found


def _import(path: Path, home: Path, skip_invalid: bool) -> ImportOutcome:
    store = open_store(home / f"{'skip' if skip_invalid else 'strict'}.db")
    try:
        return import_watchlist(store, path, NOW, skip_invalid=skip_invalid)
    finally:
        store.close()


def _reasons(errors: list[LineError], rows: int) -> str:
    if not errors:
        return "0"
    counts = Counter(_short(err.message) for err in errors).most_common(3)
    return f"{rows} (" + "; ".join(f"{n}x {message}" for message, n in counts) + ")"


def _short(message: str, limit: int = 70) -> str:
    text = " ".join(message.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def measure(path: Path, name: str) -> Row:
    row = Row(name)
    with tempfile.TemporaryDirectory(prefix="c2watch-conformance-") as home:
        try:
            _import(path, Path(home), skip_invalid=False)
        except WatchlistError as exc:
            row.result = "refused: " + _short(str(exc.errors[-1]) if exc.errors else str(exc), 100)
        try:
            outcome = _import(path, Path(home), skip_invalid=True)
        except WatchlistError as exc:
            row.skipped = _reasons(exc.errors, bad_rows(exc.errors)) if row.result == "ok" else row.skipped
            return row
    row.format = outcome.format
    row.destinations = len(outcome.report.added) + outcome.report.unchanged + len(outcome.report.updated)
    row.added = len(outcome.report.added)
    row.skipped = _reasons(outcome.skipped, bad_rows(outcome.skipped))
    row.ignored = _reasons(outcome.ignored, len(outcome.ignored))
    return row


def main(argv: list[str]) -> int:
    folder = Path(argv[1]) if len(argv) > 1 else DEFAULT_FOLDER
    if not folder.is_dir():
        print(f"no folder {folder}: nothing to check")
        return 0
    rows = [measure(path, str(path.relative_to(folder))) for path in candidates(folder)]
    print("| file | format | destinations | added | skipped rows (reasons) | ignored rows (reasons) | strict import |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        cells = [row.file, row.format, str(row.destinations), str(row.added), row.skipped, row.ignored, row.result]
        print("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
