"""``c2watch backup`` and ``c2watch restore`` (SQLite stores; back PostgreSQL up with pg_dump)."""

from __future__ import annotations

from pathlib import Path

import click

from c2watch.cli.context import App, pass_app
from c2watch.errors import ConfigError
from c2watch.home import DB_FILE
from c2watch.store import backup_sqlite, restore_sqlite


def _database(app: App) -> Path:
    if app.settings.store.url:
        raise ConfigError("backup/restore handle the SQLite store; for PostgreSQL use pg_dump / pg_restore")
    return app.home.path / DB_FILE


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@pass_app
def backup(app: App, file: Path) -> None:
    """Write a consistent copy of the store to FILE, safe while the agent runs.

    Example: c2watch backup /backup/c2watch-$(date +%F).db
    """
    size = backup_sqlite(_database(app), file)
    click.echo(f"store backed up to {file} ({size >> 10} KiB)")


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_app
def restore(app: App, file: Path) -> None:
    """Replace the store with backup FILE (stop the agent first; the old store is kept as .before-restore).

    Example: c2watch restore /backup/c2watch-2026-11-01.db
    """
    database = _database(app)
    restore_sqlite(file, database)
    click.echo(f"store {database} restored from {file}")
