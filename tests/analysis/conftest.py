from __future__ import annotations

import pytest

from c2watch.store import Store
from tests.helpers.seed import standard


@pytest.fixture
def seeded(store: Store) -> dict[str, list[int]]:
    """The standard data set (see ``seed.standard``) in a store on every backend."""
    return standard(store)
