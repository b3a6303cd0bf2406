"""Verdicts across observers from synthetic observations, on SQLite and PostgreSQL: every status and the edges of
every threshold (rules of tests.verdict.world: alive 8 h, dead 2 days, 3 silent cycles, 3 blocked windows)."""

from __future__ import annotations

import dataclasses
import datetime as dt

from c2watch.analysis.verdicts import ALIVE, BLOCKED, DEAD, DORMANT, NEVER_SEEN, stored_verdicts
from tests.verdict.world import RULES, World, slot

SECOND = dt.timedelta(seconds=1)


def test_never_seen_without_observations_or_without_answers(world: World) -> None:
    world.target("quiet")
    world.target("closed")
    world.add(*world.series("closed", "tokyo", range(5)), *world.series("closed", "osaka", range(5), minutes=7))
    verdicts = world.verdicts(slot(5))
    assert verdicts["quiet"].status == NEVER_SEEN and verdicts["quiet"].reason == "not observed yet"
    closed = verdicts["closed"]
    assert closed.status == NEVER_SEEN and closed.last_answer_at is None
    assert closed.reason.startswith("never answered: 10 observations by 2 observer(s)")
    assert sorted(closed.agreeing) == ["osaka", "tokyo"]


def test_alive_until_exactly_the_alive_window(world: World) -> None:
    world.target("a")
    world.add(world.row("a", "tokyo", slot(0), status=200), world.row("a", "osaka", slot(1), status=None))
    last_answer = slot(0)
    assert world.verdicts(last_answer + RULES.alive_within)["a"].status == ALIVE
    later = world.verdicts(last_answer + RULES.alive_within + SECOND)["a"]
    assert later.status == DORMANT and later.silent_cycles == 1
    assert later.agreeing == ("osaka",)  # the observer that saw silence after the last answer


def test_dead_needs_the_whole_removal_window_observed(world: World) -> None:
    world.target("a")
    twelve = RULES.dead_after // RULES.window  # 2 days of 4 h slots
    world.add(world.row("a", "tokyo", slot(0), status=200), *world.series("a", "tokyo", range(1, twelve)))
    far_later = slot(100)
    verdict = world.verdicts(far_later)["a"]
    assert verdict.status == DORMANT, "observed silence ends 4 h short of the removal window"
    world.add(world.row("a", "osaka", slot(twelve, minutes=3)))
    verdict = world.verdicts(far_later)["a"]
    assert verdict.status == DEAD and verdict.silent_cycles == twelve
    assert verdict.last_observed_at is not None and verdict.last_answer_at is not None
    assert verdict.last_observed_at - verdict.last_answer_at >= RULES.dead_after
    assert sorted(verdict.agreeing) == ["osaka", "tokyo"]


def test_dead_needs_enough_silent_cycles(world: World) -> None:
    world.target("a")
    twelve = RULES.dead_after // RULES.window
    world.add(world.row("a", "tokyo", slot(0), status=200), world.row("a", "tokyo", slot(1)))
    world.add(world.row("a", "tokyo", slot(twelve)))  # the agent was off in between: 2 silent cycles only
    assert world.verdicts(slot(twelve))["a"].status == DORMANT
    world.add(world.row("a", "osaka", slot(twelve + 1)))  # the third silent cycle, by another observer
    verdict = world.verdicts(slot(twelve + 1))["a"]
    assert verdict.status == DEAD and verdict.silent_cycles == RULES.min_silent_cycles == 3


def test_an_answer_after_death_makes_it_alive_again(world: World) -> None:
    world.target("a")
    world.add(world.row("a", "tokyo", slot(0), status=200), *world.series("a", "tokyo", range(1, 14)))
    assert world.verdicts(slot(14))["a"].status == DEAD
    world.add(world.row("a", "osaka", slot(14, minutes=9), status=404))
    verdict = world.verdicts(slot(14, minutes=10))["a"]
    assert verdict.status == ALIVE and verdict.silent_cycles == 0 and verdict.agreeing == ("osaka",)


def _blocking_world(world: World, windows: int, c_elsewhere: bool = True) -> None:
    """A answers tokyo and osaka; kyoto gets nothing from A in ``windows`` windows (after answering before)."""
    world.target("a")
    world.target("other")
    world.add(world.row("a", "kyoto", slot(0, minutes=20), status=200))
    for n in range(1, windows + 1):
        world.add(
            world.row("a", "tokyo", slot(n, minutes=1), status=200),
            world.row("a", "osaka", slot(n, minutes=11), status=200),
            world.row("a", "kyoto", slot(n, minutes=21)),
            world.row("other", "kyoto", slot(n, minutes=22), status=200 if c_elsewhere else None),
        )


def test_blocked_for_observer_after_enough_windows(world: World) -> None:
    _blocking_world(world, RULES.blocked_windows)
    verdict = world.verdicts(slot(RULES.blocked_windows, minutes=30))["a"]
    assert verdict.status == BLOCKED and verdict.blocked == ("kyoto",)
    assert sorted(verdict.agreeing) == ["osaka", "tokyo"]
    kyoto = next(view for view in verdict.observers if view.observer == "kyoto")
    assert kyoto.suspected and kyoto.blocked_windows == 3 and kyoto.blocked_since == slot(1)
    assert kyoto.last_answer_at == slot(0, minutes=20) and kyoto.silent_cycles == 3
    assert "likely blocking" in verdict.reason


def test_not_blocked_one_window_short(world: World) -> None:
    _blocking_world(world, RULES.blocked_windows - 1)
    verdict = world.verdicts(slot(RULES.blocked_windows - 1, minutes=30))["a"]
    assert verdict.status == ALIVE and verdict.blocked == ()


def test_an_observer_that_gets_nothing_anywhere_is_down_not_blocked(world: World) -> None:
    _blocking_world(world, 4, c_elsewhere=False)
    verdict = world.verdicts(slot(4, minutes=30))["a"]
    assert verdict.status == ALIVE and verdict.blocked == ()


def test_blocking_ends_when_the_observer_gets_an_answer(world: World) -> None:
    _blocking_world(world, 4)
    world.add(world.row("a", "kyoto", slot(5, minutes=21), status=200))
    assert world.verdicts(slot(5, minutes=30))["a"].status == ALIVE


def test_blocked_becomes_dormant_when_everybody_is_silent(world: World) -> None:
    _blocking_world(world, 4)
    for n in range(5, 8):
        world.add(world.row("a", "tokyo", slot(n, minutes=1)), world.row("a", "kyoto", slot(n, minutes=21)))
    assert world.verdicts(slot(7, minutes=30))["a"].status == DORMANT


def test_answer_probes_decide_what_counts(world: World) -> None:
    world.target("pingable")
    world.add(*world.series("pingable", "tokyo", range(3), ttl=54))
    assert world.verdicts(slot(3))["pingable"].status == NEVER_SEEN
    icmp = dataclasses.replace(RULES, answer_probes=("icmp",))
    verdict = world.verdicts(slot(3), icmp)["pingable"]
    assert verdict.status == ALIVE and verdict.last_answer_at == slot(2)
    [view] = verdict.observers
    assert view.answers == {"http": None, "icmp": slot(2), "tls": None} and view.ttl == 54


def test_evidence_per_observer_and_probe(world: World) -> None:
    world.target("a")
    world.add(
        world.row("a", "tokyo", slot(0), status=200, ttl=50, cert="c" * 64),
        world.row("a", "tokyo", slot(1), status=503, ttl=51),
        world.row("a", "tokyo", slot(2)),
        world.row("a", "osaka", slot(2, minutes=5)),
        world.row("a", "osaka", slot(3, minutes=5)),
    )
    verdict = world.verdicts(slot(4))["a"]
    tokyo, osaka = sorted(verdict.observers, key=lambda v: v.observer, reverse=True)
    assert tokyo.answers == {"http": slot(1), "icmp": slot(1), "tls": slot(0)}
    assert (tokyo.http_status, tokyo.ttl, tokyo.silent_cycles, tokyo.observations) == (503, 51, 1, 3)
    assert (osaka.last_answer_at, osaka.silent_cycles, osaka.after_last_answer) == (None, 2, 2)
    assert verdict.silent_cycles == 3 and verdict.status == DORMANT
    as_json = verdict.as_dict()
    assert as_json["observers"][0]["last_answer_by_probe"]["tls"] == slot(0).isoformat()


def test_verdicts_are_stored_with_since(world: World) -> None:
    world.target("a")
    world.add(world.row("a", "tokyo", slot(0), status=200))
    world.refresh(slot(0, minutes=5))
    world.refresh(slot(1))
    [cached] = stored_verdicts(world.store)
    assert cached.status == ALIVE and cached.since == slot(0) and cached.computed_at == slot(1)  # the first answer
    world.add(world.row("a", "tokyo", slot(2)), world.row("a", "tokyo", slot(3)))
    world.refresh(slot(3))
    [cached] = stored_verdicts(world.store)
    assert cached.status == DORMANT and cached.since == slot(0)  # the last answer
    fresh = world.verdicts(slot(3))["a"]
    assert dataclasses.replace(cached, computed_at=fresh.computed_at) == fresh
