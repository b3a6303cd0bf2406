"""``c2watch doctor``."""

from __future__ import annotations

import asyncio
import sys

import click

from c2watch.cli.context import App, pass_app
from c2watch.doctor import run_checks

_MARK = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL"}


@click.command()
@click.option("--json", "as_json", is_flag=True)
@pass_app
def doctor(app: App, as_json: bool) -> None:
    """Check ICMP permission, resolver, store, disk, open-file limit, secret files, hub, clock and each [egress]
    proxy; exit 1 if observation is blocked.

    Example: c2watch doctor
    """
    settings = app.settings
    checks = asyncio.run(run_checks(settings, app.home.store_url(settings), app.home.path, app.clock))
    if as_json:
        app.print_json([check.__dict__ for check in checks])
    else:
        for check in checks:
            fix = f"  -> {check.fix}" if check.fix and check.level != "ok" else ""
            click.echo(f"[{_MARK[check.level]}] {check.name:10} {check.message}{fix}")
    if any(check.level == "fail" for check in checks):
        sys.exit(1)
