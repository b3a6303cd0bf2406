"""The events role: reactivations, status changes and blocking suspicions as they are recorded, read back, and
delivered to webhooks (one cursor per webhook, keyed by its URL without credentials: every method takes the URL as
configured and keeps only what :func:`c2watch.text.redact_url` leaves of it)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from c2watch.store import dashboard as _dashboard
from c2watch.store import events as _events
from c2watch.store.dashboard import EventWindow
from c2watch.store.database import Database
from c2watch.store.events import Cursor, EventCandidate, StoredEvent
from c2watch.text import redact_url, redact_urls

__all__ = ["Events"]


class Events:
    def __init__(self, db: Database) -> None:
        self.db = db

    def record(self, candidates: Sequence[EventCandidate], now: dt.datetime | None = None) -> list[int]:
        with self.db.begin() as conn:
            return _events.record_events(conn, candidates, self.db.now(now))

    def matching(
        self,
        since: dt.datetime | None = None,
        threat: str | None = None,
        kinds: Sequence[str] = (),
        limit: int | None = None,
        ids: Sequence[int] = (),
    ) -> list[StoredEvent]:
        with self.db.connect() as conn:
            return _events.list_events(conn, since, threat, kinds, limit, ids)

    def in_window(self, window: EventWindow) -> tuple[list[StoredEvent], int]:
        """The events of ``window`` (oldest first) and how many there are in all (ignoring its limit)."""
        with self.db.connect() as conn:
            return _dashboard.find_events(conn, window), _dashboard.count_events(conn, window)

    def after(self, event_id: int, limit: int = 100) -> list[StoredEvent]:
        with self.db.connect() as conn:
            return _events.events_after(conn, event_id, limit)

    def ensure_webhook_cursors(self, urls: Sequence[str], now: dt.datetime | None = None) -> None:
        with self.db.begin() as conn:
            _events.ensure_cursors(conn, sorted({redact_url(url) for url in urls}), self.db.now(now))

    def webhook_cursor(self, url: str) -> Cursor | None:
        with self.db.connect() as conn:
            return _events.cursor(conn, redact_url(url))

    def webhook_delivered(self, url: str, event_id: int, now: dt.datetime | None = None) -> None:
        with self.db.begin() as conn:
            _events.webhook_delivered(conn, redact_url(url), event_id, self.db.now(now))

    def webhook_failed(
        self, url: str, error: str, next_attempt_at: dt.datetime, now: dt.datetime | None = None
    ) -> None:
        with self.db.begin() as conn:
            _events.webhook_failed(conn, redact_url(url), redact_urls(error, [url]), next_attempt_at, self.db.now(now))
