"""The agent's pull of the observations collection: every page after the cursor, indexed into the local store.

Pages are read in the order objects were added. Observed-data refers by id to objects a page may not hold: the
network-traffic of a group split across two pages, and the observer and organisation identities and the SCOs
(addresses, URLs), which the hub stores once (deterministic ids make every later sighting an identical re-post), so
they sit pages — or pulls — behind. A pull keeps the identities and SCOs it has seen and the previous page's
network-traffic, and fetches by id what it still misses. The next page is fetched while the current one is indexed
(in a thread), and the cyclic garbage collector is paused for the pull (pages are freed by reference counting).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from c2watch.gcpause import gc_paused
from c2watch.stix.ingest import parse_time
from c2watch.stix.pinning import screen
from c2watch.stix.trust import Keyring
from c2watch.stix.vocab import DETAILS_EXTENSION, taxii_timestamp
from c2watch.store import Store
from c2watch.taxii.client import HubClient, Page
from c2watch.taxii.collections import OBSERVATIONS

__all__ = ["OVERLAP", "PULL_PAGE", "pull_observations"]

OVERLAP = dt.timedelta(minutes=5)  # concurrent writers may commit out of order: re-read a little
PULL_PAGE = 5000
_REF_CHUNK = 40  # ids per match[id] request (keeps the URL short)

Objects = dict[str, dict[str, Any]]


class Report(Protocol):
    pulled_objects: int
    indexed: int
    refused: dict[str, int]


def _record_refs(page: Iterable[dict[str, Any]]) -> set[Any]:
    """Ids our observed-data needs to become records: organisation, observer, network-traffic and SCOs."""
    wanted: set[Any] = set()
    for obj in page:
        if obj.get("type") == "observed-data":
            details = obj.get("extensions", {}).get(DETAILS_EXTENSION)
            if isinstance(details, dict):
                wanted.update((obj.get("created_by_ref"), details.get("observer_ref"), *obj.get("object_refs", [])))
    return wanted


@dataclass
class _Pull:
    """What a pull carries from page to page."""

    refs: Objects = field(default_factory=dict)  # identities and SCOs seen or fetched
    traffic: Objects = field(default_factory=dict)  # network-traffic of the previous page
    absent: set[str] = field(default_factory=set)  # ids the hub does not have

    def resolve(self, context: Objects, wanted: set[Any]) -> list[str]:
        """Add to ``context`` what ``wanted`` names from earlier pages (and the destinations of the traffic it
        names); the ids still missing."""
        missing = []
        for ref in wanted:
            if not isinstance(ref, str) or ref in self.absent:
                continue
            found = context.get(ref) or self.refs.get(ref) or self.traffic.get(ref)
            if found is None:
                missing.append(ref)
                continue
            context[ref] = found
            destination = found.get("dst_ref") if found.get("type") == "network-traffic" else None
            if isinstance(destination, str) and destination not in context:
                missing.extend(self.resolve(context, {destination}))
        return sorted(set(missing))

    def keep(self, page: Objects) -> None:
        for oid, obj in page.items():
            if obj.get("type") == "identity" or "value" in obj:
                self.refs[oid] = obj
        self.traffic = {oid: obj for oid, obj in page.items() if obj.get("type") == "network-traffic"}


async def _fetch(hub: HubClient, pull: _Pull, context: Objects, missing: list[str]) -> None:
    """Fetch by id the objects still missing (twice at most: fetched traffic names its destination)."""
    for _ in range(2):
        fetched: Objects = {}
        for start in range(0, len(missing), _REF_CHUNK):
            chunk = missing[start : start + _REF_CHUNK]
            page = await hub.get_objects(OBSERVATIONS.id, ids=chunk)
            fetched.update({o["id"]: o for o in page.objects if isinstance(o, dict) and o.get("id") in chunk})
            pull.absent.update(set(chunk) - fetched.keys())
        pull.refs.update(fetched)
        missing = pull.resolve(context, set(fetched))
        if not missing:
            return


async def _page(hub: HubClient, since: str | None, next_: str | None, size: int) -> Page:
    return await hub.get_objects(OBSERVATIONS.id, added_after=since, next_=next_, limit=size)


async def _screened(
    store: Store, origin: str, current: Objects, context: Objects, keyring: Keyring | None, report: Report
) -> Objects:
    """``context`` without the page's records whose signature does not hold (kept in the store, counted)."""
    if keyring is None:
        return context
    kept, refusals = await asyncio.to_thread(screen, current, context, keyring)  # CPU: off the event loop
    if refusals:
        for refusal in await asyncio.to_thread(store.keys.save_refusals, origin, refusals):
            report.refused[refusal.reason] = report.refused.get(refusal.reason, 0) + 1
    return kept


async def pull_observations(
    store: Store,
    hub: HubClient,
    report: Report,
    page_size: int = PULL_PAGE,
    keyring: Keyring | None = None,
    cursor: str | None = None,
) -> None:
    """Read new objects of the observations collection and index the records in them (with ``keyring``, only
    those whose signature holds, :func:`c2watch.stix.pinning.screen`); the cursor is kept under ``cursor`` (default:
    the hub's API root)."""
    key = cursor or hub.api_root
    cursor_at = store.outbox.cursor(key, OBSERVATIONS.id)
    since = taxii_timestamp(cursor_at - OVERLAP) if cursor_at else None
    pull, latest = _Pull(), cursor_at
    fetch: asyncio.Future[Page] | None = asyncio.ensure_future(_page(hub, since, None, page_size))
    with gc_paused():
        try:
            while fetch is not None:
                page = await fetch
                fetch = (
                    asyncio.ensure_future(_page(hub, since, page.next, page_size)) if page.more and page.next else None
                )
                current = {o["id"]: o for o in page.objects if isinstance(o, dict) and isinstance(o.get("id"), str)}
                report.pulled_objects += len(current)
                context = dict(current)
                missing = pull.resolve(context, _record_refs(current.values()))
                if missing:
                    await _fetch(hub, pull, context, missing)
                context = await _screened(store, hub.api_root, current, context, keyring, report)
                report.indexed += await asyncio.to_thread(store.observations.index_shared, context)
                pull.keep(current)
                if page.date_added_last:
                    stamp = parse_time(page.date_added_last)
                    latest = stamp if latest is None or stamp > latest else latest
        finally:
            if fetch is not None:
                fetch.cancel()
    if latest is not None:
        store.outbox.set_cursor(key, OBSERVATIONS.id, latest)
