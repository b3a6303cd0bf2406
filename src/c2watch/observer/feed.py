"""A cycle's destinations streamed from the store page by page, so that memory stays flat for a million of them.

The store yields pages by id (keyset paging). The next page is read in a thread while the workers take from the
current one, so the event loop (and the probes' timing) never waits for the database. Each page is filtered by the
shard and shuffled with the cycle's random generator before any of it is probed: the order of a cycle is random
within each page (``PAGE_SIZE`` destinations), and pages come in id order, i.e. roughly in import order. A whole
watchlist up to ``PAGE_SIZE`` destinations is one page: shuffled as a whole, as before streaming.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator

from c2watch.models import Target
from c2watch.observer.shard import Shard

__all__ = ["PAGE_SIZE", "TargetFeed"]

PAGE_SIZE = 10_000
"""Destinations per page: the unit of shuffling; two pages at most are in memory (the current one, the next)."""


class TargetFeed:
    """Hands out destinations one at a time to many workers; ``take()`` returns None when none is left."""

    def __init__(self, pages: Iterator[list[Target]], rng: random.Random, shard: Shard | None = None) -> None:
        self._pages = pages
        self._rng = rng
        self._shard = shard
        self._current: list[Target] = []
        self._ahead: asyncio.Future[list[Target] | None] | None = self._read()
        self.taken = 0

    def _read(self) -> asyncio.Future[list[Target] | None]:
        return asyncio.ensure_future(asyncio.to_thread(next, self._pages, None))

    def _prepare(self, page: list[Target]) -> list[Target]:
        if self._shard is not None:
            page = [target for target in page if self._shard.owns(target)]
        self._rng.shuffle(page)
        return page

    async def take(self) -> Target | None:
        while not self._current:
            ahead = self._ahead
            if ahead is None:
                return None
            page = await ahead  # workers that find the page empty all wait for the same read
            if self._ahead is not ahead:  # another worker woke first and took this page in
                continue
            self._ahead = None if page is None else self._read()
            self._current = self._prepare(page or [])
        self.taken += 1
        return self._current.pop()

    def close(self) -> None:
        """Stop reading ahead (a read under way finishes in its thread; its page is dropped)."""
        if self._ahead is not None:
            self._ahead.cancel()
            self._ahead = None
        self._current = []
