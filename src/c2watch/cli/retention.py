"""``c2watch retention run``: roll old observations up into daily summaries, remove them, expire cycle files."""

from __future__ import annotations

import click

from c2watch.cli.context import App, pass_app
from c2watch.store import RetentionPolicy, RetentionReport, run_retention

#: Exit code when something was left for a later run (another run in progress, a busy table, unfolded rows).
SKIPPED = 3


@click.group()
def retention() -> None:
    """Retention of raw observations and STIX cycle files ([retention] in c2watch.toml)."""


@retention.command("run")
@click.option("--dry-run", is_flag=True, help="Say what would be rolled up and removed; change nothing.")
@click.option("--keep-days", type=click.IntRange(1, 36500), help="Override [retention] keep_days for this run.")
@click.option("--max-steps", type=click.IntRange(1), help="Stop after this many partitions/days (resume later).")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def run(app: App, dry_run: bool, keep_days: int | None, max_steps: int | None, as_json: bool) -> None:
    """Roll up and remove observations older than keep_days (reports stay the same), create the coming monthly
    partitions (PostgreSQL), and compress or delete old STIX cycle files. Safe to rerun or interrupt; exits 3
    when something was left for a later run.

    Example: c2watch retention run --dry-run
    """
    policy = RetentionPolicy.from_settings(app.settings, keep_days)
    report = run_retention(app.store, policy, app.clock(), app.home.path, dry_run=dry_run, max_steps=max_steps)
    if as_json:
        app.print_json(report.as_dict())
    else:
        click.echo(describe(report))
    if report.skipped:
        click.get_current_context().exit(SKIPPED)


def describe(report: RetentionReport) -> str:
    """A few lines for people."""
    verb = "would roll up" if report.dry_run else "rolled up"
    lines = [
        f"cutoff {report.cutoff.isoformat()} ({report.zone}): {verb} {report.observations_rolled_up:,} observations"
        f" ({len(report.partitions_dropped)} monthly partitions, {report.days_rolled_up} days row by row)"
    ]
    if report.partitions_created:
        lines.append(
            f"partitions {'to create' if report.dry_run else 'created'}: {', '.join(report.partitions_created)}"
        )
    if report.files is not None and report.files.mode != "keep":
        f = report.files
        lines.append(f"STIX cycle files before {f.cutoff:%Y-%m-%d}: {f.compressed} compressed, {f.deleted} deleted")
    lines += [f"skipped: {reason}" for reason in report.skipped]
    if not report.complete and not report.skipped:
        lines.append("stopped at --max-steps; run again to go on")
    lines.append(f"took {report.seconds:.1f} s")
    return "\n".join(lines)
