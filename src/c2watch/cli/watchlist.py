"""``c2watch watchlist import|list|pull``."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from c2watch.cli.context import App, pass_app
from c2watch.errors import LineError
from c2watch.store import ImportReport
from c2watch.watchlist.feed import FeedError
from c2watch.watchlist.importer import ImportOutcome, bad_rows, import_watchlist
from c2watch.watchlist.taxii_pull import PullOutcome, pull_watchlist

FORMATS = ["auto", "c2watch", "c2lemon", "urlhaus", "threatfox", "feodo", "stix", "misp", "text"]
_SHOWN_PLACES = 5


@click.group()
def watchlist() -> None:
    """The destinations to observe, grouped by threat ID."""


@watchlist.command("import")
@click.argument("file", type=click.Path(exists=True, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="auto", show_default=True)
@click.option("--threat", help="Put every destination under this threat ID (instead of the format's rule).")
@click.option("--skip-invalid", is_flag=True, help="Store the good rows and list the bad ones.")
@click.option("--dry-run", is_flag=True, help="Report what would change; store nothing.")
@click.option("--source", help="Name of this list for retirement (default: the file name).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@pass_app
def import_(
    app: App,
    file: Path,
    fmt: str,
    threat: str | None,
    skip_invalid: bool,
    dry_run: bool,
    source: str | None,
    as_json: bool,
) -> None:
    """Import a watchlist: c2watch or c2lemon CSV, URLhaus, ThreatFox, Feodo Tracker, STIX 2.1, MISP, plain list.

    FILE may be a MISP feed directory. Re-importing the same file changes nothing; rows a feed skips by
    design (hash IOCs, revoked or expired indicators ...) are counted, not errors.

    Example: c2watch watchlist import examples/watchlist.csv
    """
    outcome = import_watchlist(
        app.store, file, app.clock(), fmt, skip_invalid=skip_invalid, dry_run=dry_run, source=source, threat=threat
    )
    if as_json:
        app.print_json(_as_json(outcome))
        return
    _echo_problems(str(file), outcome.skipped, outcome.ignored)
    for refusal in outcome.report.refused:
        click.echo(f"refused by the store {file}: {refusal}", err=True)
    verb = "would import" if dry_run else "imported"
    click.echo(f"{verb} {file} ({outcome.format}, {outcome.encoding}): {_counts(outcome.report, outcome)}")
    click.echo(f"threat IDs: {outcome.threat_rule}")


def _as_json(outcome: ImportOutcome) -> dict[str, object]:
    return {
        "file": str(outcome.path),
        "format": outcome.format,
        "encoding": outcome.encoding,
        "threat_rule": outcome.threat_rule,
        **outcome.report.as_dict(),
        "skipped_rows": bad_rows(outcome.skipped),
        "skipped": [_error_json(e) for e in outcome.skipped],
        "ignored": [_error_json(e) for e in outcome.ignored],
    }


def _error_json(error: LineError) -> dict[str, Any]:
    value: dict[str, Any] = {"line": error.line, "field": error.field, "message": error.message}
    if isinstance(error, FeedError) and error.at:
        value["at"] = error.at
    return value


def _counts(report: ImportReport, outcome: ImportOutcome | PullOutcome) -> str:
    """What changed; ``skipped`` counts bad rows (a row with two bad fields is one), ``ignored`` rows skipped by
    design; ``kept`` destinations this source no longer lists but another still does."""
    kept = f"{len(report.released)} kept (listed by another source), " if report.released else ""
    return (
        f"{len(report.added)} added, {len(report.updated)} updated, {len(report.reactivated)} reactivated, "
        f"{len(report.retired)} retired, {kept}{report.unchanged} unchanged, {bad_rows(outcome.skipped)} skipped, "
        f"{len(outcome.ignored)} ignored" + (f", {len(report.refused)} refused by the store" if report.refused else "")
    )


def _echo_problems(where: str, skipped: Sequence[LineError], ignored: Sequence[LineError]) -> None:
    """Every skipped bad row; the rows ignored by design grouped by reason, with a few places each."""
    for err in skipped:
        click.echo(f"skipped {where}: {err}", err=True)
    places: dict[str, list[str]] = defaultdict(list)
    for err in ignored:
        places[err.message].append(f"line {err.line}" if err.line else getattr(err, "at", "") or "file")
    for message, where_list in places.items():
        shown = ", ".join(where_list[:_SHOWN_PLACES]) + (", ..." if len(where_list) > _SHOWN_PLACES else "")
        click.echo(f"ignored {len(where_list)} in {where}: {message} ({shown})", err=True)


@watchlist.command("pull")
@click.option("--taxii", "url", required=True, help="TAXII 2.1 discovery or API root URL.")
@click.option("--collection", required=True, help="Id of the collection holding the indicators.")
@click.option("--token", envvar="C2WATCH_TAXII_TOKEN", help="Access token (env C2WATCH_TAXII_TOKEN); sent as Bearer.")
@click.option("--user", help="Send the token as the HTTP Basic password of this user instead.")
@click.option("--threat", help="Put every destination under this threat ID (instead of the STIX rule).")
@click.option("--skip-invalid", is_flag=True, help="Store the good indicators and list the bad ones.")
@click.option("--dry-run", is_flag=True, help="Report what would change; store nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@pass_app
def pull(
    app: App,
    url: str,
    collection: str,
    token: str | None,
    user: str | None,
    threat: str | None,
    skip_invalid: bool,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Import the STIX indicators of a TAXII 2.1 collection (the collection URL is the source).

    Example: c2watch watchlist pull --taxii https://cert.example/taxii2/ --collection 91a7b528-... --token T
    """
    if user is not None and token is None:
        raise click.UsageError("--user needs --token (sent as the password)")
    outcome = pull_watchlist(
        app.store,
        url,
        collection,
        token,
        app.clock(),
        user=user,
        skip_invalid=skip_invalid,
        dry_run=dry_run,
        threat=threat,
    )
    if as_json:
        app.print_json(_pull_json(outcome))
        return
    _echo_problems(outcome.url, outcome.skipped, outcome.ignored)
    verb = "would pull" if dry_run else "pulled"
    click.echo(
        f"{verb} {outcome.url} ({outcome.title}, {outcome.objects} objects in {outcome.pages} pages): "
        f"{_counts(outcome.report, outcome)}"
    )
    click.echo(f"threat IDs: {outcome.threat_rule}")


def _pull_json(outcome: PullOutcome) -> dict[str, object]:
    return {
        "url": outcome.url,
        "collection": outcome.collection,
        "title": outcome.title,
        "pages": outcome.pages,
        "objects": outcome.objects,
        "threat_rule": outcome.threat_rule,
        **outcome.report.as_dict(),
        "skipped_rows": bad_rows(outcome.skipped),
        "skipped": [_error_json(e) for e in outcome.skipped],
        "ignored": [_error_json(e) for e in outcome.ignored],
    }


@watchlist.command("list")
@click.option("--threat", help="Only this threat ID.")
@click.option("--all", "show_all", is_flag=True, help="Include retired destinations.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def list_(app: App, threat: str | None, show_all: bool, as_json: bool) -> None:
    """List destinations (active ones unless --all)."""
    rows = app.store.watchlist.targets(threat, active_only=not show_all)
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
