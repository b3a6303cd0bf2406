"""``c2watch observe``: one cycle now."""

from __future__ import annotations

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from c2watch.cli.context import App, pass_app
from c2watch.cli.refresh import NO_REFRESH, echo_refreshed, refresh_and_deliver
from c2watch.observer import eventloop
from c2watch.observer.cycle import CycleOptions, CycleSummary, run_cycle
from c2watch.observer.shard import Shard


@click.command()
@click.option("--threat", help="Only the destinations of this threat ID.")
@click.option("--shard", help="Only shard i of n (e.g. 2/4) when several agents split one watchlist.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@NO_REFRESH
@pass_app
def observe(app: App, threat: str | None, shard: str | None, as_json: bool, no_refresh: bool) -> None:
    """Run one observation cycle now: every active destination, concurrently; print a summary.

    Then, as the agent does after a cycle, recompute the verdicts and events of every destination and send new
    events to the [alerts] webhooks (a webhook that is down is retried by the next delivery, never an error).

    Example: c2watch observe --threat TID-2024-0042
    """
    show_progress = not as_json and app.console.is_terminal
    with Progress(
        TextColumn("observing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=app.console,
        disable=not show_progress,
        transient=True,
    ) as progress:
        task = progress.add_task("cycle", total=None)
        options = CycleOptions(
            threat=threat,
            shard=Shard.parse(shard) if shard else None,
            on_start=lambda total: progress.update(task, total=total),
            on_result=lambda _obs: progress.advance(task),
        )
        cycle = run_cycle(app.store, app.settings, app.home.path, options, app.clock)
        summary = eventloop.run(cycle, app.settings.cycle.loop)
    if not as_json:
        _print_summary(app, summary)
    refreshed = None if no_refresh or summary.interrupted else refresh_and_deliver(app)
    if as_json:
        app.print_json({**summary.as_dict(), "refresh": refreshed.as_dict() if refreshed else None})
    elif refreshed is not None:
        echo_refreshed(refreshed)


def _print_summary(app: App, summary: CycleSummary) -> None:
    table = Table("outcome", "destinations", title=f"cycle {summary.cycle_id} ({summary.observer})")
    for outcome, count in sorted(summary.outcomes.items()):
        table.add_row(outcome, str(count))
    app.console.print(table)
    app.console.print(
        f"{summary.destinations} destinations in {summary.duration_s:.1f} s; STIX bundle: {summary.stix_path or '-'}"
    )
