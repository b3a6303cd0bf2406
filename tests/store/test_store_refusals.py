"""A watchlist import that the database refuses in part costs only the refused entries, on SQLite and PostgreSQL
alike: the others are stored, each refusal names its line and the database's words, a dry run still stores
nothing, and control characters in an entry's text are stored escaped."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa

from c2watch.errors import WatchlistError
from c2watch.store import Store
from c2watch.store.tables import targets
from c2watch.watchlist.importer import import_watchlist
from tests.helpers.database import refuse_rows

NOW = dt.datetime(2026, 1, 5, 3, 0, tzinfo=dt.UTC)
HEADER = "threat_id,ip,domain,url,port,reported_on,malware_sha256,file_type,summary\n"
LINES = [
    "TID-R,198.51.100.7,,,80,2026-01-01,,,first\n",
    "TID-R,198.51.100.8,,,80,2026-01-01,,,refuse me\n",
    "TID-R,198.51.100.9,,,80,2026-01-01,,,bell\x07 and escape\x1b[31m\n",
]


def _summaries(store: Store) -> dict[str, str | None]:
    with store.connect() as conn:
        return {row.ip: row.summary for row in conn.execute(sa.select(targets.c.ip, targets.c.summary))}


def test_a_refused_entry_costs_only_itself(store: Store, tmp_path: Path) -> None:
    refuse_rows(store, "targets", "summary", "'refuse me'")
    path = tmp_path / "watchlist.csv"
    path.write_text(HEADER + "".join(LINES), encoding="utf-8")
    dry = import_watchlist(store, path, NOW, dry_run=True)
    assert len(dry.report.added) == 2 and len(dry.report.refused) == 1 and _summaries(store) == {}
    outcome = import_watchlist(store, path, NOW)
    [refusal] = outcome.report.refused
    assert refusal.startswith("TID-R ||198.51.100.8|80 (line 3): ") and "refuse_summary" in refusal
    assert len(outcome.report.added) == 2
    assert _summaries(store) == {"198.51.100.7": "first", "198.51.100.9": "bell\\x07 and escape\\x1b[31m"}


def test_a_threat_id_with_control_characters_is_a_line_error(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "watchlist.csv"
    path.write_text(HEADER + LINES[0] + LINES[0].replace("TID-R", "TID\x1b[2J"), encoding="utf-8")
    with pytest.raises(WatchlistError) as caught:
        import_watchlist(store, path, NOW)
    assert [(e.line, e.field) for e in caught.value.errors] == [(3, "threat_id")]
    assert "control characters" in str(caught.value) and _summaries(store) == {}


def test_a_refused_update_keeps_the_destination_listed(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "watchlist.csv"
    path.write_text(HEADER + LINES[0] + LINES[2], encoding="utf-8")
    import_watchlist(store, path, NOW)
    refuse_rows(store, "targets", "summary", "'refuse me'")
    path.write_text(HEADER + LINES[0] + LINES[2].replace("bell\x07 and escape\x1b[31m", "refuse me"), encoding="utf-8")
    outcome = import_watchlist(store, path, NOW)
    assert len(outcome.report.refused) == 1 and outcome.report.retired == []
    assert {t.ip: t.active for t in store.watchlist.targets()} == {"198.51.100.7": True, "198.51.100.9": True}
