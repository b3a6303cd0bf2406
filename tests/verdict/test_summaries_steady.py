"""The steady state (one new observation per destination and observer, later than every row folded) is folded in SQL;
its summaries must equal a computation from scratch and the general path's, in batches that mix steady destinations
with late, repeated and proxy-failed rows, on every backend."""

from __future__ import annotations

import random
from typing import Any

import pytest

from c2watch.models.observation import EGRESS_FAILED
from c2watch.store.answers import watermark
from c2watch.store.verdicts import plan_fold
from tests.verdict.test_summaries import expected
from tests.verdict.world import World, slot

OBSERVERS = (("tokyo", 1), ("osaka", 13), ("kyoto", 29))


def cycle_rows(world: World, rng: random.Random, n: int, late: bool) -> list[dict[str, Any]]:
    """One cycle: each observer of ``a``, ``b`` and ``c`` mostly reports (staggered); ``c`` also gets a late row
    or a second row of the cycle when ``late``."""
    rows = []
    for target in ("a", "b", "c"):
        for observer, minutes in OBSERVERS:
            if rng.random() < 0.8:
                status = rng.choice([200, 404, None, None])
                found = world.row(
                    target,
                    observer,
                    slot(n, minutes),
                    status=status,
                    ttl=rng.choice([None, 50, 51]),
                    cert=rng.choice([None, "c" * 64]),
                )
                if rng.random() < 0.1:
                    found["outcome"] = EGRESS_FAILED
                rows.append(found)
    if late:
        when = slot(n - rng.randint(1, 3), 30 + n) if rng.random() < 0.5 else slot(n, 45)  # never a stored time
        rows.append(world.row("c", "tokyo", when, status=rng.choice([200, None]), ttl=50))
    return rows


def steady_targets(world: World) -> set[int]:
    """The destinations of the next fold that the plan leaves to the steady path."""
    with world.store.begin() as conn:
        mark = watermark(conn, slot(0))
        top = int(conn.exec_driver_sql("SELECT max(id) FROM observations").scalar_one())
        plan = plan_fold(conn, mark, top)
    rows = world.store.observations.rows()
    observed = {r["target_pk"] for r in rows if r["id"] > mark and r["outcome"] != EGRESS_FAILED}
    return observed - {row["target_pk"] for row in plan.rows}


def steady_by_definition(world: World, rows: list[dict[str, Any]], inserted: list[dict[str, Any]]) -> set[int]:
    """Destinations whose batch rows are one per observer, each later than every row folded before."""
    counted = [r for r in rows if r["outcome"] != EGRESS_FAILED]
    folded = [r for r in inserted[: len(inserted) - len(rows)] if r["outcome"] != EGRESS_FAILED]
    found = set()
    for target in {r["target_pk"] for r in counted}:
        mine = [r for r in counted if r["target_pk"] == target]
        before = [r["observed_at"] for r in folded if r["target_pk"] == target]
        one_each = len({r["observer_pk"] for r in mine}) == len(mine)
        if one_each and (not before or max(before) < min(r["observed_at"] for r in mine)):
            found.add(target)
    return found


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_cycle_by_cycle_folds_equal_from_scratch(world: World, seed: int) -> None:
    rng = random.Random(seed)
    for target in ("a", "b", "c"):
        world.target(target)
    inserted: list[dict[str, Any]] = []
    steady_seen = 0
    for n in range(14):
        rows = cycle_rows(world, rng, n, late=n > 2 and rng.random() < 0.5)
        world.add(*rows)
        inserted += rows
        steady = steady_targets(world)
        steady_seen += len(steady)
        assert (world.targets["c"] in steady) == (world.targets["c"] in steady_by_definition(world, rows, inserted))
        assert world.store.verdicts.fold_summaries(slot(n + 1)) == sum(r["outcome"] != EGRESS_FAILED for r in rows)
        counted = [r for r in inserted if r["outcome"] != EGRESS_FAILED]
        found = {(s.target_pk, s.observer_pk): s for s in world.store.verdicts.answer_summaries()}
        assert found == expected(counted), n
    assert steady_seen >= 14  # the steady path was taken, most cycles for most destinations


def status(target: str, n: int, minutes: int) -> int | None:
    """``a`` answers now and then; ``b`` answers, then falls silent for the last two cycles."""
    if target == "a":
        return 200 if (n + minutes) % 3 else None
    return 200 if n < 4 else None


def test_steady_fold_equals_the_general_one(world: World) -> None:
    """The same rows folded cycle by cycle (mostly steady) and all at once (general) give the same summaries."""
    for target in ("a", "b"):
        world.target(target)
    rows = [
        world.row(target, observer, slot(n, minutes), status=status(target, n, minutes), ttl=50 + n % 2)
        for n in range(6)
        for target in ("a", "b")
        for observer, minutes in OBSERVERS
        if (n, observer) != (3, "osaka")  # an observer that misses a cycle
    ]
    by_cycle = [[r for r in rows if r["observed_at"] < slot(n + 1) and r["observed_at"] >= slot(n)] for n in range(6)]
    for n, cycle in enumerate(by_cycle):
        world.add(*cycle)
        if n:
            assert steady_targets(world) == set(world.targets.values())
        world.store.verdicts.fold_summaries(slot(n + 1))
    cycle_by_cycle = world.store.verdicts.answer_summaries()
    assert {(s.target_pk, s.observer_pk): s for s in cycle_by_cycle} == expected(rows)
    assert any(s.after_http for s in cycle_by_cycle) and any(s.silent_icmp == 0 for s in cycle_by_cycle)
