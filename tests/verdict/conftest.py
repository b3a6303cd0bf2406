from __future__ import annotations

import pytest

from c2watch.store import Store
from tests.verdict.world import World


@pytest.fixture
def world(store: Store) -> World:
    """An empty world in a store on every backend."""
    return World(store)
