"""Sharding covers every destination exactly once, for any number of agents."""

from __future__ import annotations

import pytest

from c2watch.errors import InputError
from c2watch.models import Target
from c2watch.observer.shard import Shard

TARGETS = [
    Target(i, f"TID-{i % 7}", f"http://gate{i}.bad.example/|||80", None, f"gate{i}.bad.example", None, 80)
    for i in range(2000)
]


@pytest.mark.parametrize("count", range(1, 9))
def test_every_destination_in_exactly_one_shard(count: int) -> None:
    owners = [[s for s in range(1, count + 1) if Shard(s, count).owns(t)] for t in TARGETS]
    assert all(len(found) == 1 for found in owners)
    sizes = [sum(1 for found in owners if found == [s]) for s in range(1, count + 1)]
    assert min(sizes) > len(TARGETS) / count * 0.8  # and roughly balanced


def test_parse() -> None:
    assert Shard.parse("2/4") == Shard(2, 4)
    for bad in ("0/4", "5/4", "x", "1/0", "-1/2"):
        with pytest.raises(InputError, match="--shard"):
            Shard.parse(bad)
