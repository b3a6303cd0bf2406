"""The event loop cycles run on: ``[cycle] loop = "uvloop"`` (the default) when uvloop is installed, else asyncio's.

uvloop (libuv under asyncio's API) spends less CPU per socket event, timer and callback than asyncio's own loop;
the pinger's ICMP sockets (``add_reader``) and aiohttp run on either. Without uvloop (``pip install
'c2watch[fast]'``) the default quietly falls back to asyncio's loop.

>>> run(main(), "uvloop")                                 # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

__all__ = ["LOOPS", "loop_factory", "run"]

log = logging.getLogger(__name__)

LOOPS = ("uvloop", "asyncio")

T = TypeVar("T")


def loop_factory(kind: str) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """What makes a ``kind`` loop (None: asyncio's default); uvloop falls back to asyncio when not installed."""
    if kind not in LOOPS:
        raise ValueError(f"unknown event loop {kind!r}; known: {list(LOOPS)}")
    if kind == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:
        log.info("uvloop is not installed: the cycle runs on asyncio's event loop")
        return None
    return uvloop.new_event_loop


def run(main: Coroutine[Any, Any, T], kind: str) -> T:
    """``asyncio.run(main)`` on a ``kind`` event loop."""
    with asyncio.Runner(loop_factory=loop_factory(kind)) as runner:
        return runner.run(main)
