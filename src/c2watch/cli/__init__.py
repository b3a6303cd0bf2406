"""The ``c2watch`` command line: thin click commands over the library."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from c2watch.cli.agent import agent
from c2watch.cli.backup import backup, restore
from c2watch.cli.context import App
from c2watch.cli.dashboard import dashboard
from c2watch.cli.doctor import doctor
from c2watch.cli.hub import hub
from c2watch.cli.hub_observer import observer
from c2watch.cli.init import init
from c2watch.cli.key import key
from c2watch.cli.lab import demo, lab
from c2watch.cli.observe import observe
from c2watch.cli.report import report
from c2watch.cli.retention import retention
from c2watch.cli.signatures import signatures
from c2watch.cli.status import blocklist, events, status
from c2watch.cli.sync import export, import_, sync
from c2watch.cli.threats import threats
from c2watch.cli.watchlist import watchlist
from c2watch.errors import C2WatchError

__all__ = ["cli", "main"]


class _Group(click.Group):
    """The top-level group: a c2watch error becomes a message on stderr and its exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except C2WatchError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(exc.exit_code)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="C2WATCH_HOME",
    default="c2watch-data",
    show_default=True,
    help="Data directory holding c2watch.toml and the SQLite store (env C2WATCH_HOME).",
)
@click.version_option(package_name="c2watch")
@click.pass_context
def cli(ctx: click.Context, home: Path) -> None:
    """c2watch: is this C2 server, which a CERT told us to block, still alive?"""
    ctx.obj = App(home)
    ctx.call_on_close(ctx.obj.close)


for command in (
    init,
    key,
    doctor,
    backup,
    restore,
    watchlist,
    threats,
    observe,
    agent,
    lab,
    demo,
    hub,
    sync,
    export,
    import_,
    report,
    dashboard,
    status,
    events,
    retention,
    signatures,
):
    cli.add_command(command)
export.add_command(blocklist)
hub.add_command(observer)


def main() -> None:
    """Console entry point."""
    cli.main(prog_name="c2watch")
