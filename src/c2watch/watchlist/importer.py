"""Import a watchlist file or feed (any format, a MISP directory too) atomically, as the native import does.

Any bad row refuses the whole import (store unchanged) unless ``skip_invalid``; rows skipped by design
(hash IOCs, revoked or expired indicators ...) are reported and counted but refuse nothing. The outcome
says how the format mapped rows to threat IDs. :func:`store_entries` is shared with :mod:`.taxii_pull`.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from c2watch.errors import LineError, WatchlistError
from c2watch.store import ImportReport, Store
from c2watch.store.fit import column_length
from c2watch.store.tables import targets
from c2watch.watchlist import AUTO, ParseResult, parse_watchlist
from c2watch.watchlist.feed import FeedError

__all__ = ["MAX_SOURCE", "ImportOutcome", "bad_rows", "import_watchlist", "store_entries"]

MAX_SOURCE = column_length(targets.c.source)
"""Size of the store's ``targets.source`` column."""


@dataclass
class ImportOutcome:
    """What an import did: the format and encoding read, the store's report, the bad rows skipped (with
    ``skip_invalid``), the rows skipped by design, and the threat ID rule that was applied."""

    path: Path
    format: str
    encoding: str
    report: ImportReport
    skipped: list[LineError] = field(default_factory=list)
    ignored: list[LineError] = field(default_factory=list)
    threat_rule: str = ""


def import_watchlist(
    store: Store,
    path: Path,
    now: dt.datetime,
    fmt: str = AUTO,
    *,
    skip_invalid: bool = False,
    dry_run: bool = False,
    source: str | None = None,
    threat: str | None = None,
) -> ImportOutcome:
    """Import ``path`` (a file, or a MISP feed directory) in format ``fmt``.

    ``source`` (default: the file or directory name) scopes retirement; ``threat`` puts every destination
    under one threat ID instead of the format's rule; ``now`` is also the time expiring rows are judged at.
    """
    parsed = parse_watchlist(path, fmt, now=now, threat=threat)
    report = store_entries(store, parsed, path, source or path.name, now, skip_invalid=skip_invalid, dry_run=dry_run)
    return ImportOutcome(
        path, parsed.format, parsed.encoding, report, list(parsed.errors), list(parsed.ignored), parsed.threat_rule
    )


def store_entries(
    store: Store,
    parsed: ParseResult,
    where: Path | str,
    source: str,
    now: dt.datetime,
    *,
    skip_invalid: bool = False,
    dry_run: bool = False,
) -> ImportReport:
    """Apply ``parsed`` atomically: refuse on any error (unless ``skip_invalid``) or when nothing is left."""
    if parsed.errors and not skip_invalid:
        raise WatchlistError(where, parsed.errors)
    if len(source) > MAX_SOURCE:
        raise WatchlistError(
            where, [LineError(0, f"source name is {len(source)} characters long (limit {MAX_SOURCE})")]
        )
    if not parsed.entries:
        raise WatchlistError(where, [*parsed.errors, LineError(0, _nothing_left(parsed.ignored, parsed.format))])
    return store.watchlist.apply(parsed.entries, source, now, dry_run=dry_run)


def bad_rows(errors: Sequence[LineError]) -> int:
    """How many rows ``errors`` concern: a row with several bad fields counts once."""
    return len({_place(err) for err in errors})


def _place(error: LineError) -> tuple[int, str]:
    """The row an error is about: its line, or its place in a JSON document."""
    return error.line, error.at if isinstance(error, FeedError) else ""


def _nothing_left(ignored: list[LineError], fmt: str) -> str:
    if not ignored:
        if fmt == "stix":
            return "no destination to watch: the document holds no indicator (STIX names destinations in patterns)"
        return "no valid destination found"
    reasons = Counter(err.message for err in ignored).most_common(3)
    shown = "; ".join(f"{count} x {message}" for message, count in reasons)
    return f"no destination to watch: all {len(ignored)} rows were skipped by design ({shown})"
