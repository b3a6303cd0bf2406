"""Backup and restore of a SQLite store with SQLite's online backup API: a consistent copy even while an agent
writes (WAL), taken page by page without blocking the writer for long."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from c2watch.errors import InputError, StoreError

__all__ = ["backup_sqlite", "restore_sqlite"]


def _check_sqlite(path: Path) -> None:
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            conn.execute("SELECT count(*) FROM alembic_version").fetchone()
    except sqlite3.DatabaseError as exc:
        raise InputError(f"{path}: not a c2watch SQLite store ({exc})") from exc


def backup_sqlite(database: Path, target: Path) -> int:
    """Copy ``database`` to ``target`` (which must not exist); returns its size in bytes."""
    if target.exists():
        raise InputError(f"{target}: exists already; choose a new file")
    if not database.exists():
        raise StoreError(f"{database}: no store to back up")
    source = sqlite3.connect(database)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy, pages=1024)
    finally:
        copy.close()
        source.close()
    _check_sqlite(target)
    return target.stat().st_size


def restore_sqlite(backup: Path, database: Path) -> None:
    """Replace ``database`` with ``backup`` (stop the agent first); the old file is kept as ``.before-restore``."""
    _check_sqlite(backup)
    if database.exists():
        kept = database.with_name(database.name + ".before-restore")
        if not kept.exists():
            backup_sqlite(database, kept)
    source = sqlite3.connect(backup)
    target = sqlite3.connect(database)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()
