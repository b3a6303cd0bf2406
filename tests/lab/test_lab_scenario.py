from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from c2watch.errors import InputError
from c2watch.lab import BEHAVIOUR_SYNTAX, BEHAVIOURS, Destination, Scenario, ScenarioError, parse_behaviour
from c2watch.lab.behaviours import BehaviourError, rate_answers
from c2watch.lab.scenario import PingMode, parse_ping

from .helpers import T0, dest

DAY = timedelta(days=1)


@pytest.mark.parametrize(
    ("text", "kind", "code", "reason", "seconds"),
    [
        ("status:200", "status", 200, "OK", 0.0),
        ("status:404", "status", 404, "Not Found", 0.0),
        ("status:200:Fine: really", "status", 200, "Fine: really", 0.0),
        ("status:799", "status", 799, "Unknown", 0.0),
        ("status:204:", "status", 204, "", 0.0),
        ("slow:1.5", "slow", 200, "OK", 1.5),
        ("drip", "drip", 200, "OK", 1.0),
        ("drip:0.2", "drip", 200, "OK", 0.2),
        ("tarpit", "tarpit", 200, "OK", 0.0),
    ],
)
def test_parse_behaviour(text: str, kind: str, code: int, reason: str, seconds: float) -> None:
    behaviour = parse_behaviour(text)
    assert (behaviour.kind, behaviour.code, behaviour.reason_phrase, behaviour.seconds) == (
        kind,
        code,
        reason,
        seconds,
    )
    assert behaviour.text == text


def test_parse_rate_wraps_a_behaviour() -> None:
    behaviour = parse_behaviour("rate:0.4:status:200:OK")
    assert behaviour.kind == "rate" and behaviour.probability == 0.4
    assert behaviour.inner == parse_behaviour("status:200:OK")


@pytest.mark.parametrize(
    "text",
    ["", "nonsense", "status", "status:20", "status:abc", "status:099", "slow", "slow:x", "slow:-1",
     "tarpit:3", "rate:1.5:status:200", "rate:0.5", "rate:0.5:closed", "rate:0.5:rate:0.5:tarpit",
     "status:200:caf\u00e9", "status:200:a\r\nX: y"],
)  # fmt: skip
def test_bad_behaviours_are_rejected(text: str) -> None:
    with pytest.raises(BehaviourError):
        parse_behaviour(text)


def test_catalogue_covers_every_kind_with_a_parsable_example() -> None:
    examples = {
        "status": "status:200",
        "slow": "slow:1",
        "rate": "rate:0.5:status:200",
        "field": "field:reason:long",
        "raw": "raw:48545450",
        "as": "as:nginx-default",
    }
    assert set(BEHAVIOURS) == set(BEHAVIOUR_SYNTAX)
    for kind, description in BEHAVIOURS.items():
        assert description and "\n" not in description
        assert parse_behaviour(examples.get(kind, kind)).kind == kind


def test_timeline_picks_the_last_step_started() -> None:
    d = dest("a", 1, (None, "status:200"), (T0, "status:404"), (T0 + DAY, "status:500"))
    assert d.behaviour_at(T0 - DAY).code == 200
    assert d.behaviour_at(T0).code == 404
    assert d.behaviour_at(T0 + DAY - timedelta(microseconds=1)).code == 404
    assert d.behaviour_at(T0 + 30 * DAY).code == 500


def test_before_the_first_start_a_destination_is_closed() -> None:
    d = dest("a", 1, (T0, "status:200"))
    assert d.behaviour_at(T0 - DAY).kind == "closed"
    assert d.behaviour_at(T0).kind == "status"


@pytest.mark.parametrize("address", ["10.0.0.1", "0.0.0.0", "192.168.1.1", "example.com", "::", "fe80::1"])
def test_only_loopback_addresses(address: str) -> None:
    with pytest.raises(ScenarioError) as info:
        dest("a", 1, (None, "status:200"), address=address)
    assert info.value.field == "address"
    assert isinstance(info.value, InputError)


def test_loopback_v6_and_other_127_addresses_are_fine() -> None:
    assert dest("a", 1, (None, "tarpit"), address="::1").url(8080) == "http://[::1]:8080/gate.php"
    assert dest("b", 1, (None, "tarpit"), address="127.200.3.4").address == "127.200.3.4"


@pytest.mark.parametrize(
    ("steps", "field"),
    [
        ([], "timeline"),
        ([(T0.replace(tzinfo=None), "status:200")], "timeline[0].start"),
        ([(T0, "status:200"), (None, "status:404")], "timeline[1].start"),
        ([(T0, "status:200"), (T0, "status:404")], "timeline[1].start"),
        ([(None, "status:200"), (T0, "bogus")], "timeline[1].behaviour"),
    ],
)
def test_bad_timelines_name_the_step(steps: list[tuple[datetime | None, str]], field: str) -> None:
    with pytest.raises(ScenarioError) as info:
        dest("a", 1, *steps)
    assert info.value.field == field


def test_starts_are_normalised_to_utc() -> None:
    from datetime import timezone

    plus2 = T0.astimezone(timezone(timedelta(hours=2)))
    d = dest("a", 1, (plus2, "tarpit"))
    assert d.timeline[0][0] == T0 and d.timeline[0][0].utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("extra", "field"),
    [({"port": 70000}, "port"), ({"port": True}, "port"), ({"scheme": "ftp"}, "scheme"),
     ({"path": "gate.php"}, "path"), ({"path": "/a b"}, "path"), ({"ping": "loss:101"}, "ping"),
     ({"name": ""}, "name"), ({"threat_id": " "}, "threat_id")],
)  # fmt: skip
def test_bad_fields_are_named(extra: dict[str, object], field: str) -> None:
    fields: dict[str, object] = {"name": "a", "threat_id": "T", "address": "127.0.0.1", "port": 80}
    fields.update(extra)
    with pytest.raises(ScenarioError) as info:
        Destination(timeline=[(None, "tarpit")], **fields)  # type: ignore[arg-type]
    assert info.value.field == field


def test_scenario_rejects_duplicates() -> None:
    a = dest("a", 1, (None, "tarpit"), port=8080)
    with pytest.raises(ScenarioError, match=r"destination\[1\]\.name"):
        Scenario([a, a])
    b = dest("b", 1, (None, "tarpit"), port=8080)
    with pytest.raises(ScenarioError, match=r"destination\[1\]\.port"):
        Scenario([a, b])
    Scenario([dest("c", 1, (None, "tarpit")), dest("d", 1, (None, "tarpit"))])  # port 0 twice is fine


def test_ping_modes() -> None:
    assert parse_ping("reply") == PingMode(0)
    assert parse_ping("drop") == PingMode(100)
    assert parse_ping("loss:50").loss == 50
    assert parse_ping("loss:50").text == "loss:50"
    for bad in ("loss", "loss:x", "loss:-1", "loss:101", "sometimes"):
        with pytest.raises(ScenarioError):
            parse_ping(bad)


def test_rate_is_deterministic_per_time_slot() -> None:
    scenario = Scenario([dest("r", 1, (None, "rate:0.5:status:200"))], seed=3, slot_seconds=3600)
    for hour in range(50):
        at = T0 + timedelta(hours=hour)
        first = scenario.resolve("r", at).kind
        assert first in ("status", "silent")
        assert scenario.resolve("r", at).kind == first
        assert scenario.resolve("r", at + timedelta(minutes=59)).kind == first


@pytest.mark.parametrize("probability", [0.1, 0.4, 0.75])
def test_rate_fraction_over_1000_slots(probability: float) -> None:
    hits = sum(
        rate_answers("dest", T0 + timedelta(hours=4 * n), probability, seed=0, slot_seconds=4 * 3600)
        for n in range(1000)
    )
    assert abs(hits / 1000 - probability) <= 0.05


def test_rate_depends_on_name_and_seed() -> None:
    def pattern(name: str, seed: int) -> list[bool]:
        return [rate_answers(name, T0 + timedelta(hours=n), 0.5, seed=seed, slot_seconds=3600) for n in range(64)]

    assert pattern("a", 0) == pattern("a", 0)
    assert pattern("a", 0) != pattern("b", 0)
    assert pattern("a", 0) != pattern("a", 1)
