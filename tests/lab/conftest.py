from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from c2watch.lab import FakeClock, Lab, Scenario

from .helpers import T0

StartLab = Callable[[Scenario], Awaitable[Lab]]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
async def start_lab(clock: FakeClock) -> AsyncIterator[StartLab]:
    """Start labs on the fake clock; every one is stopped when the test ends."""
    labs: list[Lab] = []

    async def start(scenario: Scenario) -> Lab:
        lab = Lab(scenario, clock, head_timeout=2.0, poll_interval=0.02)
        await lab.start()
        labs.append(lab)
        return lab

    yield start
    for lab in labs:
        await lab.stop()
