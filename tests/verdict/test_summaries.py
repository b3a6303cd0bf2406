"""The incremental answer summaries equal a computation from scratch, whatever order the rows arrive in (records
pulled late with old times included), and concurrent folds never count a row twice."""

from __future__ import annotations

import datetime as dt
import random
import threading
from typing import Any

import pytest

from c2watch.models.kinds import ANSWER_PROBES as PROBES
from c2watch.store import Store
from c2watch.store.answers import Summary
from tests.verdict.world import World, slot

ANSWERED = {
    "http": lambda r: r["http_status"] is not None,
    "icmp": lambda r: r["ping_received"] > 0,
    "tls": lambda r: r["tls_cert_sha256"] is not None,
}


def expected(rows: list[dict[str, Any]]) -> dict[tuple[int, int], Summary]:
    """The summaries computed from every row at once."""
    found = {}
    for target_pk, observer_pk in {(r["target_pk"], r["observer_pk"]) for r in rows}:
        mine = sorted(
            (r for r in rows if (r["target_pk"], r["observer_pk"]) == (target_pk, observer_pk)),
            key=lambda r: r["observed_at"],
        )
        theirs = [r for r in rows if r["target_pk"] == target_pk]
        values: dict[str, Any] = {}
        for probe in PROBES:
            own = [r["observed_at"] for r in mine if ANSWERED[probe](r)]
            dest = [r["observed_at"] for r in theirs if ANSWERED[probe](r)]
            values[f"{probe}_at"] = max(own) if own else None
            values[f"silent_{probe}"] = sum(1 for r in mine if not own or r["observed_at"] > max(own))
            values[f"after_{probe}"] = sum(1 for r in mine if not dest or r["observed_at"] > max(dest))
        at_http = {r["observed_at"]: r for r in mine}.get(values["http_at"])
        at_icmp = {r["observed_at"]: r for r in mine}.get(values["icmp_at"])
        found[(target_pk, observer_pk)] = Summary(
            target_pk,
            observer_pk,
            len(mine),
            mine[0]["observed_at"],
            mine[-1]["observed_at"],
            values["http_at"],
            at_http["http_status"] if at_http else None,
            values["icmp_at"],
            at_icmp["ping_ttl"] if at_icmp else None,
            values["tls_at"],
            *(values[f"silent_{p}"] for p in PROBES),
            *(values[f"after_{p}"] for p in PROBES),
        )
    return found


def random_rows(world: World, rng: random.Random) -> list[dict[str, Any]]:
    rows = []
    for target in ("a", "b", "c"):
        for observer, minutes in (("tokyo", 1), ("osaka", 13), ("kyoto", 29)):
            for n in range(24):
                if rng.random() < 0.8:
                    status = rng.choice([200, 404, None, None])
                    ttl = rng.choice([None, 50, 51])
                    cert = rng.choice([None, "c" * 64])
                    rows.append(world.row(target, observer, slot(n, minutes), status=status, ttl=ttl, cert=cert))
    return rows


@pytest.mark.parametrize("seed", [1, 2])
def test_folding_in_any_order_equals_from_scratch(world: World, seed: int) -> None:
    rng = random.Random(seed)
    for target in ("a", "b", "c"):
        world.target(target)
    rows = random_rows(world, rng)
    rng.shuffle(rows)  # pulled records arrive late and out of order
    inserted: list[dict[str, Any]] = []
    now = slot(30)
    while rows:
        size = rng.randint(1, 60)
        batch, rows = rows[:size], rows[size:]
        world.add(*batch)
        inserted += batch
        assert world.store.verdicts.fold_summaries(now) == len(batch)
        assert {(s.target_pk, s.observer_pk): s for s in world.store.verdicts.answer_summaries()} == expected(inserted)
    assert world.store.verdicts.fold_summaries(now) == 0


def test_concurrent_folds_count_each_row_once(tmp_path: Any, store: Store) -> None:
    world = World(store)
    world.target("a")
    rows = [world.row("a", "tokyo", slot(n), status=200 if n % 3 else None) for n in range(300)]
    world.add(*rows)
    now = dt.datetime.now(dt.UTC)
    barrier = threading.Barrier(4)
    folded: list[int] = []

    def fold() -> None:
        barrier.wait()
        folded.append(store.verdicts.fold_summaries(now))

    threads = [threading.Thread(target=fold) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(folded)[-1] == 300 and sum(folded) == 300
    assert store.verdicts.answer_summaries() == list(expected(rows).values())
