"""``c2watch sync``, ``c2watch export observations`` and ``c2watch import observations``."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import click

from c2watch.cli.context import App, pass_app
from c2watch.cli.refresh import NO_REFRESH, echo_refreshed, refresh_and_deliver
from c2watch.errors import ConfigError
from c2watch.observer.cycle import producer_of
from c2watch.stix.exchange import export_bundle, parse_since, read_bundle
from c2watch.stix.keys import read_public_key
from c2watch.taxii.keysync import import_records
from c2watch.taxii.sync import SyncReport
from c2watch.taxii.sync import sync as run_sync


@click.command()
@click.option(
    "--hub",
    "hub_url",
    help="The hub's discovery URL (…/taxii2/) or API root URL (…/api/) (default: [hub] url, each of its URLs in turn).",
)
@click.option("--token", help="Organisation observer token (default: [hub] token).")
@click.option(
    "--backfill",
    "backfill_since",
    metavar="SINCE",
    help="First queue this observer's cycles since SINCE (a date or timestamp, UTC) that were never pushed.",
)
@click.option("--json", "as_json", is_flag=True)
@NO_REFRESH
@pass_app
def sync(
    app: App, hub_url: str | None, token: str | None, backfill_since: str | None, as_json: bool, no_refresh: bool
) -> None:
    """Push the outbox to the hub, then pull the other observers' records.

    --hub may be the hub's discovery URL (its default API root is followed) or an API root. The hub says which
    organisation the token belongs to; a different [observer] organization is an error naming both, before anything
    is pushed. Cycles recorded before [hub] was set were never queued: sync says so, and --backfill queues them.

    Then, as the agent does after a sync, recompute the verdicts and events with every observer's records and send
    new events to the [alerts] webhooks (a webhook that is down is retried by the next delivery, never an error).

    Example: c2watch sync --hub https://hub.example/taxii2/ --token c2w_... --backfill 2026-11-01
    """
    settings = app.settings
    url, secret = (hub_url,) if hub_url else settings.hub.urls, token or settings.hub.token
    if not url or not secret:
        raise ConfigError("no hub configured: set [hub] url and token, or pass --hub and --token")
    since = parse_since(backfill_since) if backfill_since else None
    producer = producer_of(settings, app.home.path)
    report = asyncio.run(
        run_sync(
            app.store,
            url,
            secret,
            producer,
            settings.hub.sync_batch,
            settings.hub.timeout,
            since,
            max_response_bytes=settings.hub.max_response_bytes,
        )
    )
    if not as_json:
        _echo_report(report)
    refreshed = None if no_refresh else refresh_and_deliver(app)
    if as_json:
        app.print_json({**report.as_dict(), "refresh": refreshed.as_dict() if refreshed else None})
    elif refreshed is not None:
        echo_refreshed(refreshed)


def _echo_report(report: SyncReport) -> None:
    click.echo(f"hub API root {report.api_root} (organisation {report.organization or 'not said by the hub'})")
    if report.backfilled is not None:
        done = report.backfilled
        click.echo(
            f"backfill: queued {done.observations} observations of {done.cycles} cycles"
            + (f" ({done.without_file} cycles without a bundle file skipped)" if done.without_file else "")
        )
    click.echo(
        f"pushed {report.pushed_groups} observations ({len(report.push_failures)} refused), "
        f"pulled {report.pulled_objects} objects, {report.indexed} new observations, "
        f"{sum(report.refused.values())} records refused (signature{_reasons(report.refused)}); "
        f"outbox {report.outbox_left}"
    )
    if report.keys.get("untrusted"):
        click.echo(f"warning: {report.keys['untrusted']} observer keys from the hub not trusted (see the log)")
    if report.unqueued:
        click.echo(report.unqueued)


def _reasons(refused: dict[str, int]) -> str:
    return "".join(f", {count} {reason}" for reason, count in sorted(refused.items()))


@click.group("export")
def export() -> None:
    """Write records for air-gapped exchange, or the deny-list advice."""


@export.command("observations")
@click.option("--since", required=True, help="Date or timestamp (UTC), e.g. 2026-11-01.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Default: standard output.")
@pass_app
def export_observations(app: App, since: str, output: Path | None) -> None:
    """This observer's records since a date, as one STIX 2.1 bundle.

    Example: c2watch export observations --since 2026-11-01 -o org-a.json
    """
    bundle = export_bundle(app.home.path / "observations", parse_since(since))
    text = json.dumps(bundle, ensure_ascii=False)
    if output is None:
        click.echo(text)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"{len(bundle['objects'])} objects written to {output}", err=True)


@click.group("import")
def import_() -> None:
    """Read records exchanged air-gapped."""


@import_.command("observations")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--org", "org_name", required=True, help="The organisation that produced the file.")
@click.option(
    "--key",
    "keys",
    multiple=True,
    help="Public key (or a file holding it) of an observer whose records the file holds, when not pinned yet.",
)
@click.option("--json", "as_json", is_flag=True)
@pass_app
def import_observations(app: App, file: Path, org_name: str, keys: tuple[str, ...], as_json: bool) -> None:
    """Index another organisation's STIX bundle; objects not created by that organisation are refused, and so are
    records whose signature does not hold against the observer keys pinned here (or given with --key).

    Example: c2watch import observations org-b.json --org "Org B CSIRT" --key osaka-01.pub
    """
    given = [read_public_key(text) for text in keys]
    origin = f"file:{file.resolve()}"
    result = import_records(app.store, read_bundle(file), org_name, given, origin)
    refused = [{"id": r.object_id, "message": f"signature: {r.reason}"} for r in result.refused]
    if as_json:
        app.print_json(
            {
                "accepted": result.accepted,
                "indexed": result.indexed,
                "failures": result.failures + refused,
                "refused_signatures": len(refused),
            }
        )
        return
    for failure in result.failures + refused:
        click.echo(f"refused {failure['id']}: {failure['message']}", err=True)
    click.echo(
        f"{result.accepted} objects accepted, {result.indexed} new observations, "
        f"{len(result.failures) + len(refused)} refused ({len(refused)} records whose signature does not hold)"
    )
