"""``c2watch watchlist import|list``."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from c2watch.cli.context import App, pass_app
from c2watch.watchlist.importer import ImportOutcome, import_watchlist

FORMATS = ["auto", "c2watch", "c2lemon"]


@click.group()
def watchlist() -> None:
    """The destinations to observe, grouped by threat ID."""


@watchlist.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="auto", show_default=True)
@click.option("--skip-invalid", is_flag=True, help="Store the good rows and list the bad ones.")
@click.option("--dry-run", is_flag=True, help="Report what would change; store nothing.")
@click.option("--source", help="Name of this list for retirement (default: the file name).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@pass_app
def import_(
    app: App, file: Path, fmt: str, skip_invalid: bool, dry_run: bool, source: str | None, as_json: bool
) -> None:
    """Import a watchlist CSV. Re-importing the same file changes nothing.

    Example: c2watch watchlist import examples/watchlist.csv
    """
    outcome = import_watchlist(app.store, file, app.clock(), fmt, skip_invalid, dry_run, source)
    if as_json:
        app.print_json(_as_json(outcome))
        return
    for err in outcome.skipped:
        click.echo(f"skipped {file}: {err}", err=True)
    report = outcome.report
    verb = "would import" if dry_run else "imported"
    click.echo(
        f"{verb} {file} ({outcome.format}, {outcome.encoding}): {len(report.added)} added, "
        f"{len(report.updated)} updated, {len(report.reactivated)} reactivated, {len(report.retired)} retired, "
        f"{report.unchanged} unchanged, {len(outcome.skipped)} skipped"
    )


def _as_json(outcome: ImportOutcome) -> dict[str, object]:
    return {
        "file": str(outcome.path),
        "format": outcome.format,
        "encoding": outcome.encoding,
        **outcome.report.as_dict(),
        "skipped": [{"line": e.line, "field": e.field, "message": e.message} for e in outcome.skipped],
    }


@watchlist.command("list")
@click.option("--threat", help="Only this threat ID.")
@click.option("--all", "show_all", is_flag=True, help="Include retired destinations.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def list_(app: App, threat: str | None, show_all: bool, as_json: bool) -> None:
    """List destinations (active ones unless --all)."""
    rows = app.store.targets(threat, active_only=not show_all)
    if as_json:
        app.print_json([row.__dict__ for row in rows])
        return
    table = Table("threat ID", "url", "domain", "ip", "port", "reported", "state")
    for row in rows:
        state = "active" if row.active else "retired"
        table.add_row(
            row.threat_id,
            row.url or "",
            row.domain or "",
            row.ip or "",
            str(row.port or ""),
            str(row.reported_on or ""),
            state,
        )
    app.console.print(table)
