"""The hub judges the destinations from every organisation's records, some time after they arrive."""

from __future__ import annotations

import threading
import time

from c2watch.config import Settings, VerdictSettings
from c2watch.store import Store
from c2watch.wiring.hub import create_hub_app
from tests.helpers.hub import ORG_A, ORG_B, RunningHub, ThreadServer, make_tokens, post
from tests.helpers.stix_factory import envelope, producer


def _wait_for_verdicts(store: Store, count: int, seconds: float = 30.0) -> None:
    deadline, pause = time.monotonic() + seconds, threading.Event()
    while len(store.verdicts.stored()) < count and time.monotonic() < deadline:
        pause.wait(0.05)  # the refresh runs in the hub's own worker thread: poll its outcome, bounded


def test_pushes_are_judged_after_the_gather_time(store: Store) -> None:
    tokens = make_tokens(store)
    settings = Settings(verdict=VerdictSettings(hub_refresh_minutes=0.002))
    with ThreadServer(create_hub_app(store, settings), lifespan="on") as url:
        hub = RunningHub(url, store, tokens)
        assert store.verdicts.stored() == []
        post(hub, "a-observer", envelope(producer(ORG_A), 3))
        post(hub, "b-observer", envelope(producer(ORG_B, "observer-b"), 3))
        _wait_for_verdicts(store, 3)
    verdicts = store.verdicts.stored()
    assert len(verdicts) == 3 and {v.status for v in verdicts} <= {"alive", "dormant", "dead", "never-seen"}
