"""``c2watch status``, ``c2watch events`` and ``c2watch export blocklist``: verdicts across observers, change
events and deny-list advice. Each first brings verdicts and events up to date with every record in the store
(idempotent; ``--no-refresh`` shows what was computed last, e.g. by the agent)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click
from rich.table import Table

from c2watch.alerts import deliver as deliver_webhooks
from c2watch.analysis.blocklist import DEFAULT_KEEP, FORMATS, Policy, advise, render
from c2watch.analysis.blocklist_formats import feed_files, nft_set, parse_values, write_feed
from c2watch.analysis.events import EVENT_KINDS, list_events, refresh
from c2watch.analysis.localtime import LocalClock
from c2watch.analysis.verdicts import Verdict, VerdictRules, stored_verdicts
from c2watch.cli.context import App, pass_app
from c2watch.errors import InputError, UnknownThreatError
from c2watch.observer.cycle import producer_of
from c2watch.stix.exchange import parse_since

__all__ = ["blocklist", "events", "status"]

OUTPUTS = (*FORMATS, "nft", "misp")

_NO_REFRESH = click.option(
    "--no-refresh", is_flag=True, help="Show what was computed last (by the agent) instead of refreshing first."
)


def _check_threat(app: App, threat: str | None) -> None:
    if threat is not None and threat not in {row.threat_id for row in app.store.watchlist.threats()}:
        raise UnknownThreatError(f"unknown threat ID {threat!r}")


def current_verdicts(app: App, threat: str | None, no_refresh: bool) -> list[Verdict]:
    """The verdicts now (refreshed), or as stored by the last refresh."""
    _check_threat(app, threat)
    if no_refresh:
        return stored_verdicts(app.store, threat)
    return refresh(app.store, app.settings, app.clock(), threat, keep_verdicts=True).verdicts


@click.command()
@click.option("--threat", help="Only the destinations of this threat ID.")
@click.option("--json", "as_json", is_flag=True, help="Print every verdict with its evidence as JSON.")
@_NO_REFRESH
@pass_app
def status(app: App, threat: str | None, as_json: bool, no_refresh: bool) -> None:
    """The verdict on every destination across observers: alive, blocked-for-observer, dormant, dead, never-seen.

    Judged from the records of every observer (ours and those pulled from the hub) with the [verdict] rules; the
    evidence (last answer per observer and probe, silent cycles, observers agreeing) is in --json.
    Example: c2watch status --threat TID-2024-0042
    """
    verdicts = current_verdicts(app, threat, no_refresh)
    clock = LocalClock(app.settings.observer.zone)
    if as_json:
        rules = VerdictRules.from_settings(app.settings).as_dict()
        app.print_json({"zone": clock.zone, "rules": rules, "verdicts": [v.as_dict(clock) for v in verdicts]})
        return
    table = Table("status", "threat", "destination", "since", "last answer", "observers")
    table.add_column("reason", overflow="fold")
    for v in verdicts:
        observers = f"{len(v.agreeing)}/{len(v.observers)}"
        table.add_row(
            v.status,
            v.threat_id,
            v.destination,
            clock.show(v.since) or "-",
            clock.show(v.last_answer_at) or "-",
            observers,
            v.reason,
        )
    app.console.print(table)


@click.command()
@click.option("--since", help="Only events at or after this date or timestamp (UTC), e.g. 2026-11-01.")
@click.option("--threat", help="Only events of this threat ID.")
@click.option("--kind", "kinds", multiple=True, type=click.Choice(EVENT_KINDS), help="Only events of this kind.")
@click.option("--limit", type=click.IntRange(min=1), help="Only the newest N events.")
@click.option("--json", "as_json", is_flag=True, help="Print the events with their evidence as JSON.")
@click.option("--deliver", is_flag=True, help="Also send undelivered events to the [alerts] webhooks now.")
@_NO_REFRESH
@pass_app
def events(
    app: App,
    since: str | None,
    threat: str | None,
    kinds: tuple[str, ...],
    limit: int | None,
    as_json: bool,
    deliver: bool,
    no_refresh: bool,
) -> None:
    """Change events: reactivations, status-code, body, certificate and TTL changes, blocking suspicions, deaths.

    Every event is stored once with its evidence; configured [alerts] webhooks receive each new one (the agent
    sends them; without the agent, --deliver sends them). Example: c2watch events --since 2026-11-01 --kind reactivated
    """
    _check_threat(app, threat)
    if not no_refresh:
        refresh(app.store, app.settings, app.clock(), threat)
    if deliver:
        report = asyncio.run(deliver_webhooks(app.store, app.settings.alerts, app.clock))
        click.echo(f"webhooks: {report.as_dict()}", err=True)
    found = list_events(app.store, parse_since(since) if since else None, threat, kinds, limit)
    clock = LocalClock(app.settings.observer.zone)
    if as_json:
        app.print_json({"zone": clock.zone, "events": [e.as_dict(clock) for e in found]})
        return
    table = Table("at", "kind", "threat", "destination")
    table.add_column("summary", overflow="fold")
    for event in found:
        table.add_row(clock.show(event.at) or "-", event.kind, event.threat_id, event.destination, event.summary)
    app.console.print(table)


@click.command("blocklist")
@click.option("--format", "fmt", type=click.Choice(OUTPUTS), default="plain", show_default=True)
@click.option(
    "--keep",
    help="Statuses whose destinations stay on the deny list (comma separated); default: every status but "
    "[blocklist] removable (" + ",".join(DEFAULT_KEEP) + ").",
)
@click.option("--removable", is_flag=True, help="Write what may leave the deny list instead, with why.")
@click.option(
    "--values",
    "values",
    default="all",
    show_default=True,
    help="The kind of values written, the same in both modes: ip, domain, url or all (or kinds joined by commas).",
)
@click.option("--kind", "kinds", hidden=True, help="Former name of --values.")
@click.option("--threat", help="Only the destinations of this threat ID.")
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path),
    help="Default: standard output. A directory for --format misp (required there).",
)
@_NO_REFRESH
@pass_app
def blocklist(
    app: App,
    fmt: str,
    keep: str | None,
    removable: bool,
    values: str,
    kinds: str | None,
    threat: str | None,
    output: Path | None,
    no_refresh: bool,
) -> None:
    """What should stay on the deny list (IPs, domains, URLs of the active watchlist), from the verdicts.

    plain: one value a line (with --removable: "value  # why"); csv: with statuses, threat IDs, last answer,
    valid_until and the reason; stix: a STIX 2.1 bundle of indicators (valid_until from the evidence) that
    indicate the threat IDs' campaigns; nft: an nftables set definition file of the IP addresses (nft -f);
    misp: a MISP feed directory (manifest.json, one event per threat ID with attributes and sightings).
    A value shared by several destinations stays while any of them is kept. Example: c2watch export blocklist
    --values ip --format nft -o /etc/nftables.d/c2watch.nft
    """
    wanted = parse_values(kinds if kinds is not None else values)
    if fmt == "misp" and output is None:
        raise InputError("--format misp writes a feed directory: give it with --output DIR")
    verdicts = current_verdicts(app, threat, no_refresh)
    rules = VerdictRules.from_settings(app.settings)
    advice = advise(verdicts, rules, app.clock(), Policy.from_settings(app.settings, keep), wanted)
    entries = advice.removable if removable else advice.keep
    what = f"{len(entries)} {'removable' if removable else 'kept'} values"
    if fmt == "misp":
        assert output is not None
        producer = producer_of(app.settings)
        files = feed_files(entries, producer.org_name, producer.org_identity, removable, advice.computed_at)
        write_feed(output, files)
        click.echo(f"{what} written as a MISP feed of {len(files) - 2} events to {output}", err=True)
        return
    text = nft_set(entries, removable) if fmt == "nft" else render(advice, fmt, removable, producer_of(app.settings))
    if output is None:
        click.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
    click.echo(f"{what} written to {output}", err=True)
