"""Import a watchlist file into the store: parse, then apply atomically (or keep the good rows with skip_invalid)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from c2watch.errors import LineError, WatchlistError
from c2watch.store import ImportReport, Store
from c2watch.watchlist import parse_watchlist

__all__ = ["ImportOutcome", "import_watchlist"]


@dataclass
class ImportOutcome:
    path: Path
    format: str
    encoding: str
    report: ImportReport
    skipped: list[LineError] = field(default_factory=list)


def import_watchlist(
    store: Store,
    path: Path,
    now: dt.datetime,
    fmt: str = "auto",
    skip_invalid: bool = False,
    dry_run: bool = False,
    source: str | None = None,
) -> ImportOutcome:
    """Import ``path``. Any bad line refuses the whole file (store unchanged) unless ``skip_invalid``.

    ``source`` (default: the file name) scopes retirement: a destination this source listed before and
    no longer lists is retired, not deleted.
    """
    parsed = parse_watchlist(path, fmt)
    if parsed.errors and not skip_invalid:
        raise WatchlistError(path, parsed.errors)
    if not parsed.entries:
        raise WatchlistError(path, [*parsed.errors, LineError(0, "no valid destination in the file")])
    report = store.apply_watchlist(parsed.entries, source or path.name, now, dry_run=dry_run)
    return ImportOutcome(path, parsed.format, parsed.encoding, report, list(parsed.errors))
