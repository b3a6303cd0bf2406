"""Backup while a writer is busy gives a consistent store; restore brings it back."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

from click.testing import CliRunner

from c2watch.cli import cli
from c2watch.models import WatchlistEntry
from c2watch.store import open_store

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def test_backup_during_writes_then_restore(home: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["init"]).exit_code == 0
    store = open_store(home / "c2watch.db")
    store.watchlist.apply([WatchlistEntry("TID-0", ip="198.51.100.1", port=80)], "base", NOW)
    stop = threading.Event()
    written: list[int] = []

    def writer() -> None:
        n = 0
        while not stop.is_set() and n < 2000:
            n += 1
            store.watchlist.apply([WatchlistEntry(f"TID-{n}", ip="198.51.100.2", port=80)], f"s{n}", NOW)
            written.append(n)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        result = runner.invoke(cli, ["backup", str(tmp_path / "copy.db")])
    finally:
        stop.set()
        thread.join()
    assert result.exit_code == 0, result.output
    copy = open_store(tmp_path / "copy.db")
    threats = [t.threat_id for t in copy.watchlist.threats()]
    assert "TID-0" in threats and len(threats) == len({*threats})  # complete transactions only
    for row in copy.watchlist.threats():
        assert row.active_targets == 1  # each threat came with its target, in one transaction
    copy.close()
    store.close()
    assert runner.invoke(cli, ["restore", str(tmp_path / "copy.db")]).exit_code == 0
    restored = open_store(home / "c2watch.db")
    assert len(restored.watchlist.threats()) == len(threats)
    assert (home / "c2watch.db.before-restore").exists()
    restored.close()


def test_backup_refuses_to_overwrite_and_restore_refuses_garbage(home: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    runner.invoke(cli, ["init"])
    (tmp_path / "exists.db").write_text("x")
    result = runner.invoke(cli, ["backup", str(tmp_path / "exists.db")])
    assert result.exit_code == 2 and "exists already" in result.stderr
    (tmp_path / "garbage.db").write_bytes(b"not a database" * 100)
    result = runner.invoke(cli, ["restore", str(tmp_path / "garbage.db")])
    assert result.exit_code == 2 and "not a c2watch SQLite store" in result.stderr
