"""Agent sync: enrol this observer's key, push every outbox group the hub has not acknowledged, pin the observers'
keys the hub publishes, then pull the other observers' records, refusing those whose signature does not hold.

Push sends the outbox oldest first in envelopes of ``batch`` groups and marks a batch acknowledged only after the
hub's status resource came back, so a hub that dies mid-push loses nothing and the re-sent objects are identical
re-posts (successes). Pull reads ``observations`` from a cursor kept in the store (re-reading a short overlap, since
concurrent writers may commit out of order) and indexes what it finds; indexing is idempotent.

``url`` may list several URLs of one hub (its replicas): when one cannot be reached or answers 5xx, the sync goes on
with the next (what was acknowledged stays acknowledged; the batch in flight is re-sent, an identical re-post), and
the pull cursor is one for them all (:func:`c2watch.taxii.onboard.cursor_key`).

Before that, ``url`` is resolved to an API root (a discovery URL leads to its default one) and the organisation the
hub knows the token by is checked against the producer's (:mod:`c2watch.taxii.onboard`), and, when asked, earlier
cycles are queued (:mod:`c2watch.taxii.backfill`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from c2watch.errors import WatchlistError
from c2watch.stix.observation import Producer
from c2watch.store import Store
from c2watch.taxii.backfill import BackfillReport, backfill, unqueued_notice
from c2watch.taxii.client import HubClient, HubRefused
from c2watch.taxii.collections import OBSERVATIONS, WATCHLIST
from c2watch.taxii.keysync import enrol_own_key, learn_keys
from c2watch.taxii.onboard import (
    api_root_of,
    check_organization,
    cursor_key,
    first_answering,
    hub_organization,
    hub_urls,
)
from c2watch.taxii.pull import pull_observations

__all__ = ["SyncReport", "pull_observations", "push_outbox", "sync"]

log = logging.getLogger(__name__)


@dataclass
class SyncReport:
    pushed_groups: int = 0
    push_failures: list[dict[str, Any]] = field(default_factory=list)
    pulled_objects: int = 0
    indexed: int = 0
    outbox_left: int = 0
    watchlist: dict[str, Any] = field(default_factory=dict)
    api_root: str = ""
    organization: str | None = None  # as the hub knows the token (None: a hub that does not say)
    backfilled: BackfillReport | None = None
    unqueued: str | None = None  # the notice when earlier cycles were never queued
    refused: dict[str, int] = field(default_factory=dict)  # pulled records refused (signature), by reason
    keys: dict[str, Any] = field(default_factory=dict)  # enrolment of our key, keys pinned/revoked/untrusted

    def as_dict(self) -> dict[str, Any]:
        return {
            "pushed_groups": self.pushed_groups,
            "push_failures": len(self.push_failures),
            "pulled_objects": self.pulled_objects,
            "indexed": self.indexed,
            "outbox_left": self.outbox_left,
            "api_root": self.api_root,
            "organization": self.organization,
            "backfilled": self.backfilled.as_dict() if self.backfilled else None,
            "unqueued": self.unqueued,
            "refused": sum(self.refused.values()),
            "refused_by_reason": dict(self.refused),
            "keys": dict(self.keys),
        }


def _envelope(producer: Producer, groups: list[tuple[int, str]]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {obj["id"]: obj for obj in producer.identities()}
    for _, text in groups:
        for obj in json.loads(text):
            seen.setdefault(obj["id"], obj)
    return list(seen.values())


async def push_outbox(store: Store, hub: HubClient, producer: Producer, batch: int, report: SyncReport) -> None:
    """Push until the outbox is empty; a batch the hub finds too large is halved."""
    while groups := store.outbox.pending(batch):
        try:
            status = await hub.add_objects(OBSERVATIONS.id, _envelope(producer, groups))
        except HubRefused as exc:
            if exc.status == 413 and batch > 1:
                batch = max(1, batch // 2)
                continue
            raise
        store.outbox.ack([group_id for group_id, _ in groups])
        report.pushed_groups += len(groups)
        report.push_failures.extend(status.get("failures", []))


def pull_hub_watchlist(store: Store, api_root: str, token: str, report: SyncReport) -> None:
    """Bring the hub's ``watchlist`` collection into the local watchlist (source: the hub's collection URL, so
    indicators a coordinator withdrew are retired here). Bad indicators are skipped and counted, never fatal."""
    from c2watch.watchlist.taxii_pull import pull_watchlist

    try:
        outcome = pull_watchlist(store, api_root, WATCHLIST.id, token, store.clock(), skip_invalid=True)
    except WatchlistError as exc:  # an empty collection, or nothing usable in it
        report.watchlist = {"error": str(exc).splitlines()[-1]}
        return
    report.watchlist = {**outcome.report.as_dict(), "skipped": len(outcome.skipped)}


@dataclass(frozen=True)
class _Sync:
    """One sync's arguments, whichever URL it goes to."""

    store: Store
    urls: tuple[str, ...]
    token: str
    producer: Producer
    batch: int
    timeout: float
    backfill_since: dt.datetime | None
    max_response_bytes: int


async def sync(
    store: Store,
    url: str | Sequence[str],
    token: str,
    producer: Producer,
    batch: int = 200,
    timeout: float = 30.0,
    backfill_since: dt.datetime | None = None,
    max_response_bytes: int = 64 * 1024 * 1024,
) -> SyncReport:
    """Resolve ``url`` to an API root, check the organisation, queue earlier cycles when ``backfill_since`` is
    given, enrol our key, push the outbox, learn the observers' keys, then pull (every record checked against the
    keys pinned here; no answer read past ``max_response_bytes``); with several URLs, each in turn while the one
    before is unavailable. Raises HubUnavailable (none answered: retry later) or HubRefused (fix the token, or
    OrganizationMismatch: fix [observer] organization)."""
    job = _Sync(store, hub_urls(url), token, producer, batch, timeout, backfill_since, max_response_bytes)
    report = SyncReport()
    await first_answering(job.urls, lambda one: _sync_with(job, one, report))
    await asyncio.to_thread(pull_hub_watchlist, store, report.api_root, token, report)
    report.outbox_left = store.outbox.depth()
    report.unqueued = unqueued_notice(store, producer.system_identity)
    return report


async def _sync_with(job: _Sync, url: str, report: SyncReport) -> None:
    store, producer = job.store, job.producer
    report.api_root = await api_root_of(url, job.token, job.timeout)
    async with HubClient(report.api_root, job.token, job.timeout, job.max_response_bytes) as hub:
        report.organization = await hub_organization(hub)
        if producer.org_name:
            check_organization(producer.org_name, report.organization)
        if job.backfill_since is not None and report.backfilled is None:
            report.backfilled = await asyncio.to_thread(backfill, store, producer.system_identity, job.backfill_since)
        await enrol_own_key(store, hub, producer, report)
        await push_outbox(store, hub, producer, job.batch, report)
        keyring = await learn_keys(store, hub, report)
        await pull_observations(store, hub, report, keyring=keyring, cursor=cursor_key(job.urls, report.api_root))
