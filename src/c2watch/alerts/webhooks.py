"""Webhook delivery: each configured URL has a cursor in the store (the last event it acknowledged). ``deliver``
POSTs the events after the cursor one by one, oldest first; a 2xx answer moves the cursor, anything else (an
error, a timeout, a redirect) stops that webhook until ``next_attempt_at`` (``retry_min_seconds`` doubling up to
``retry_max_seconds``). A webhook added to the configuration starts with the events stored after it was added.

Each POST carries one event as JSON (``Content-Type: application/json``), ``X-C2watch-Event`` (its kind),
``X-C2watch-Delivery`` (its ``uid``, the same on every retry, for receivers to drop duplicates) and, when
``[alerts] secret`` is set, ``X-C2watch-Signature: sha256=<HMAC-SHA256 of the body with the secret>``.

A webhook URL may carry credentials (``https://user:pw@…``, ``?token=…``): it is used as configured, but logged,
reported and stored (its cursor's key, its last error) only as :func:`c2watch.text.redact_url` writes it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from c2watch.analysis.events import Event
from c2watch.config import AlertSettings
from c2watch.errors import ConfigError
from c2watch.store import Store
from c2watch.text import redact_url, redact_urls

__all__ = ["DeliveryReport", "backoff", "deliver", "payload", "webhook_keys"]

log = logging.getLogger(__name__)
_BATCH = 100


@dataclass
class DeliveryReport:
    delivered: int = 0
    failures: dict[str, str] = field(default_factory=dict)
    next_attempt_at: dt.datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "delivered": self.delivered,
            "failures": dict(self.failures),
            "next_attempt_at": self.next_attempt_at.isoformat() if self.next_attempt_at else None,
        }

    def retry_at(self, when: dt.datetime) -> None:
        self.next_attempt_at = when if self.next_attempt_at is None else min(self.next_attempt_at, when)


def webhook_keys(urls: list[str]) -> dict[str, str]:
    """Each webhook by the key it is stored and shown under (its URL without credentials); :class:`ConfigError`
    when two webhooks differ only in their credentials."""
    keys: dict[str, str] = {}
    for url in urls:
        key = redact_url(url)
        if key in keys:
            raise ConfigError(f"[alerts] webhooks: two webhooks differ only in their credentials ({key})")
        keys[key] = url
    return keys


def backoff(failures: int, settings: AlertSettings) -> dt.timedelta:
    """The wait after ``failures`` failed attempts in a row."""
    seconds = min(settings.retry_max_seconds, settings.retry_min_seconds * 2 ** max(failures - 1, 0))
    return dt.timedelta(seconds=seconds)


def payload(event: Event) -> bytes:
    body = {"type": "c2watch-event", **event.as_dict()}
    return json.dumps(body, ensure_ascii=False, sort_keys=True).encode("utf-8")


def _headers(event: Event, body: bytes, secret: str) -> dict[str, str]:
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "c2watch-webhook",
        "X-C2watch-Event": event.kind,
        "X-C2watch-Delivery": event.uid,
    }
    if secret:
        digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
        headers["X-C2watch-Signature"] = f"sha256={digest}"
    return headers


async def _post(session: aiohttp.ClientSession, url: str, event: Event, settings: AlertSettings) -> str | None:
    """None when the receiver acknowledged the event (2xx), else what went wrong (without the URL's credentials)."""
    body = payload(event)
    try:
        async with session.post(
            url, data=body, headers=_headers(event, body, settings.secret), allow_redirects=False
        ) as response:
            if 200 <= response.status < 300:
                return None
            return f"HTTP {response.status}"
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        return redact_urls(f"{type(exc).__name__}: {exc}", [url])[:500]


async def _deliver_one(
    session: aiohttp.ClientSession,
    store: Store,
    key: str,
    url: str,
    settings: AlertSettings,
    clock: Callable[[], dt.datetime],
    report: DeliveryReport,
) -> None:
    store.events.ensure_webhook_cursors([key], clock())
    cursor = store.events.webhook_cursor(key)
    assert cursor is not None
    if cursor.next_attempt_at is not None and cursor.next_attempt_at > clock():
        report.retry_at(cursor.next_attempt_at)
        return
    failures, last = cursor.failures, cursor.last_event_id
    while batch := store.events.after(last, _BATCH):
        for stored in batch:
            event = Event.from_stored(stored)
            error = await _post(session, url, event, settings)
            now = clock()
            if error is not None:
                retry = now + backoff(failures + 1, settings)
                store.events.webhook_failed(key, error, retry, now)
                report.failures[key] = error
                report.retry_at(retry)
                log.warning("webhook %s: event %s not delivered (%s); retrying at %s", key, event.uid, error, retry)
                return
            store.events.webhook_delivered(key, event.id, now)
            failures, last = 0, event.id
            report.delivered += 1


async def deliver(store: Store, settings: AlertSettings, clock: Callable[[], dt.datetime]) -> DeliveryReport:
    """Send every undelivered event to every configured webhook whose back-off is over; a receiver's failure is
    recorded (and retried later), never raised."""
    report = DeliveryReport()
    if not settings.webhooks:
        return report
    keys = webhook_keys(settings.webhooks)
    timeout = aiohttp.ClientTimeout(total=settings.timeout)
    async with aiohttp.ClientSession(timeout=timeout, trust_env=False) as session:
        for key, url in keys.items():
            await _deliver_one(session, store, key, url, settings, clock, report)
    return report
