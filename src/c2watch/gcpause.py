"""Pause Python's cyclic garbage collector around bulk work: STIX objects in the hub and the agent, a cycle's probing.

An envelope or a page of 1,000–10,000 objects allocates a few hundred thousand dicts and lists that reference
counting frees as soon as the request is done; while they live, they trigger collections of every generation, and
the full ones walk every object of the process (a fifth to a half of an ingest's CPU in the hub). Pausing the
collector for that span is safe: nothing the span allocates forms reference cycles that must be freed sooner.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["gc_paused"]

_lock = threading.Lock()
_spans = 0  # spans inside gc_paused, in every thread
_reenable = False  # whether the collector was on when the first of them began


@contextmanager
def gc_paused() -> Iterator[None]:
    """The collector is off inside; back on when the last of the overlapping spans (any thread) ends, unless it was
    off before the first."""
    global _spans, _reenable
    with _lock:
        if _spans == 0:
            _reenable = gc.isenabled()
            gc.disable()
        _spans += 1
    try:
        yield
    finally:
        with _lock:
            _spans -= 1
            if _spans == 0 and _reenable:
                gc.enable()
