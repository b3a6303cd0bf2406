"""Change events on SQLite and PostgreSQL: each kind with its evidence, stored once however often the refresh runs,
merged across observers (and across records that arrive late)."""

from __future__ import annotations

from c2watch.analysis.events import Event, list_events
from tests.verdict.world import RULES, World, slot


def kinds(world: World) -> list[tuple[str, str, str]]:
    names = {pk: name for name, pk in world.targets.items()}
    return [(e.kind, names[e.target_pk], e.subject) for e in list_events(world.store)]


def only(world: World, kind: str) -> Event:
    [event] = [e for e in list_events(world.store) if e.kind == kind]
    return event


def test_status_change_seen_by_two_observers_is_one_event(world: World) -> None:
    world.target("a")
    world.add(*world.series("a", "tokyo", range(3), status=200), *world.series("a", "osaka", range(3), 9, status=200))
    world.add(world.row("a", "tokyo", slot(3, 1), status=404))
    first = world.refresh(slot(3, 5))
    assert [(e.kind, e.subject) for e in first.new_events] == [("status-changed", "200→404")]
    world.add(world.row("a", "osaka", slot(3, 9), status=200), world.row("a", "osaka", slot(4, 9), status=404))
    assert world.refresh(slot(4, 10)).new_events == []  # osaka saw it one slot later: the same change
    event = only(world, "status-changed")
    assert event.evidence["observers"] == ["tokyo", "osaka"] and event.evidence["from"] == "200"
    assert event.at == slot(3, 1) and event.observer == "tokyo" and event.destination == "http://192.0.2.1/gate.php"
    assert "HTTP status 200 → 404" in event.summary
    assert world.refresh(slot(4, 10)).new_events == [] and len(list_events(world.store)) == 1


def test_a_change_back_later_is_a_new_event(world: World) -> None:
    world.target("a")
    statuses = [200, 404] + [404] * 4 + [200]  # back to 200 more than merge_hours (12 h) later
    world.add(*(world.row("a", "tokyo", slot(n), status=s) for n, s in enumerate(statuses)))
    world.refresh(slot(7))
    assert kinds(world) == [("status-changed", "a", "200→404"), ("status-changed", "a", "404→200")]


def test_body_certificate_and_ttl_changes(world: World) -> None:
    world.target("a")
    b1, b2, c1, c2 = "1" * 64, "2" * 64, "a" * 64, "b" * 64
    world.add(
        world.row("a", "tokyo", slot(0), status=200, body=b1, cert=c1, ttl=50),
        world.row("a", "tokyo", slot(1), status=200, body=b1, cert=c1, ttl=52),  # 2 hops: within tolerance
        world.row("a", "tokyo", slot(2), status=200, body=b2, cert=c2, ttl=116),  # new host: 64 → 128 initial TTL
        world.row("a", "tokyo", slot(3), status=404, body=b1, cert=c2, ttl=116),  # status change: body not compared
    )
    world.refresh(slot(4))
    assert sorted(kinds(world)) == [
        ("body-changed", "a", "111111111111→222222222222"),
        ("certificate-changed", "a", "aaaaaaaaaaaa→bbbbbbbbbbbb"),
        ("status-changed", "a", "200→404"),
        ("ttl-changed", "a", "tokyo:52→116"),
    ]
    body = only(world, "body-changed")
    assert body.evidence["from"] == b1 and body.evidence["to"] == b2 and body.evidence["http_status"] == 200


def _dormant_then_back(world: World, silent: range, back: int) -> None:
    world.target("a")
    world.add(world.row("a", "tokyo", slot(0), status=200), world.row("a", "osaka", slot(0, 9), status=200))
    world.add(*world.series("a", "tokyo", silent), *world.series("a", "osaka", silent, 9))
    world.add(world.row("a", "osaka", slot(back, 9), status=200))


def test_reactivation_after_dormancy_merges_late_records(world: World) -> None:
    _dormant_then_back(world, range(1, 4), 4)
    [event] = world.refresh(slot(4, 10)).new_events
    assert (event.kind, event.observer, event.at) == ("reactivated", "osaka", slot(4, 9))
    assert event.evidence["from"] == "dormant" and event.evidence["silent_cycles"] == 6
    assert event.evidence["last_answer_at"] == slot(0, 9).isoformat()
    world.add(world.row("a", "tokyo", slot(4), status=200))  # tokyo's record, pulled late, is earlier
    assert world.refresh(slot(4, 30)).new_events == []
    assert only(world, "reactivated").evidence["observers"] == ["osaka", "tokyo"]


def test_reactivation_after_death(world: World) -> None:
    _dormant_then_back(world, range(1, 14), 14)
    world.refresh(slot(14, 10))
    assert [k for k, _, _ in kinds(world)] == ["reactivated"]
    assert only(world, "reactivated").evidence["from"] == "dead"


def test_first_answer_after_silence_but_not_a_first_observation(world: World) -> None:
    world.target("new")  # answers from its first observation: nothing happened
    world.add(*world.series("new", "tokyo", range(4), status=200))
    world.target("late")  # silent for 4 cycles over 12 h, then answers
    world.add(*world.series("late", "tokyo", range(4)), world.row("late", "tokyo", slot(4), status=200))
    world.target("gap")  # 2 silent cycles only (the agent was off): not enough evidence of dormancy
    world.add(world.row("gap", "tokyo", slot(0), status=200), *world.series("gap", "tokyo", range(1, 3)))
    world.add(world.row("gap", "tokyo", slot(9), status=200))
    world.refresh(slot(9, 5))
    assert kinds(world) == [("reactivated", "late", "")]
    assert only(world, "reactivated").evidence["from"] == "never-seen"


def test_blocking_suspicion_is_one_event_until_the_observer_gets_answers_again(world: World) -> None:
    world.target("a")
    world.target("other")

    def window(n: int, kyoto_gets: int | None) -> None:
        world.add(
            world.row("a", "tokyo", slot(n, 1), status=200),
            world.row("a", "osaka", slot(n, 11), status=200),
            world.row("a", "kyoto", slot(n, 21), status=kyoto_gets),
            world.row("other", "kyoto", slot(n, 22), status=200),
        )

    window(0, 200)
    for n in range(1, 4):
        window(n, None)
        world.refresh(slot(n, 30))
    event = only(world, "blocking-suspected")
    assert (event.subject, event.observer, event.at) == ("kyoto", "kyoto", slot(1))
    assert event.evidence["windows"] == 3 and event.evidence["answering_observers"] == ["tokyo", "osaka"]
    for n in range(4, 7):
        window(n, None)
        world.refresh(slot(n, 30))
    assert len(list_events(world.store)) == 1
    window(7, 200)  # kyoto gets an answer: the suspicion ends; a new one is a new event
    for n in range(8, 11):
        window(n, None)
        world.refresh(slot(n, 30))
    assert [e.at for e in list_events(world.store, kinds=["blocking-suspected"])] == [slot(1), slot(8)]


def test_dead_event_once(world: World) -> None:
    world.target("a")
    world.add(world.row("a", "tokyo", slot(0), status=200), *world.series("a", "tokyo", range(1, 13)))
    world.refresh(slot(12))
    world.add(world.row("a", "osaka", slot(13, 5)))  # late records move nothing: the same death
    world.refresh(slot(14))
    event = only(world, "dead")
    assert event.at == slot(0) + RULES.dead_after and event.evidence["last_answer_at"] == slot(0).isoformat()
    assert "may leave the deny list" in event.summary


def test_events_filters(world: World) -> None:
    world.target("a", threat="TID-A")
    world.target("b", threat="TID-B")
    world.add(world.row("a", "tokyo", slot(0), status=200), world.row("a", "tokyo", slot(1), status=500))
    world.add(world.row("b", "tokyo", slot(2), status=200), world.row("b", "tokyo", slot(3), status=302))
    world.refresh(slot(4))
    assert [e.threat_id for e in list_events(world.store, threat="TID-B")] == ["TID-B"]
    assert [e.subject for e in list_events(world.store, since=slot(2))] == ["200→302"]
    assert [e.subject for e in list_events(world.store, limit=1)] == ["200→302"]
    assert list_events(world.store, kinds=["dead"]) == []
