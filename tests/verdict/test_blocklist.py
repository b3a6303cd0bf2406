"""Deny-list advice: IP, domain and URL destinations, kept or removable with why, as plain text, CSV and valid
STIX 2.1 indicators whose valid_until follows the evidence."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import stix2
from stix2validator import ValidationOptions, validate_parsed_json

from c2watch.analysis.blocklist import DEFAULT_KEEP, Advice, advise, parse_keep, pattern, render
from c2watch.analysis.verdicts import evaluate
from c2watch.errors import InputError
from c2watch.models import WatchlistEntry
from c2watch.stix.observation import Producer
from c2watch.stix.vocab import identity_ids
from c2watch.store import open_store
from tests.verdict.world import RULES, World, slot

NOW = slot(20)
ORG = "Org A CSIRT"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    store = open_store(tmp_path / "c2watch.db")
    yield World(store)
    store.close()


def producer() -> Producer:
    org, system = identity_ids(ORG, "tokyo")
    return Producer(org, system, ORG, "tokyo")


def build(world: World) -> Advice:
    """alive IP+URL; dormant domain; dead URL; never-seen domain; an IP both alive (TID-A) and dead (TID-B)."""
    world.target("alive", threat="TID-A", ip="198.51.100.7", url="http://198.51.100.7:8080/gate.php", port=8080)
    world.target("dormant", threat="TID-A", domain="update.c2.example", port=443)
    world.target("dead", threat="TID-B", url="https://cdn.c2.example/x?id=1'2", port=443)
    world.target("never", threat="TID-B", domain="never.c2.example", port=80)
    world.target("shared-alive", threat="TID-A", ip="2001:db8::7", port=80)
    world.target("shared-dead", threat="TID-B", ip="2001:db8::7", port=443)
    world.add(world.row("alive", "tokyo", slot(20), status=200))
    world.add(world.row("dormant", "tokyo", slot(15), status=200), world.row("dormant", "tokyo", slot(19)))
    world.add(world.row("dead", "tokyo", slot(0), status=404), *world.series("dead", "tokyo", range(1, 20)))
    world.add(*world.series("never", "tokyo", range(18, 21)))
    world.add(world.row("shared-alive", "tokyo", slot(20), status=200))
    world.add(
        world.row("shared-dead", "tokyo", slot(0), status=200), *world.series("shared-dead", "tokyo", range(1, 20))
    )
    verdicts = world.verdicts(NOW)
    assert [verdicts[n].status for n in ("alive", "dormant", "dead", "never")] == [
        "alive",
        "dormant",
        "dead",
        "never-seen",
    ]
    return advise(list(verdicts.values()), RULES, NOW)


def test_plain_keeps_everything_but_dead_and_shared_values_stay(world: World) -> None:
    advice = build(world)
    assert render(advice, "plain", False, producer()).splitlines() == [
        "198.51.100.7",
        "2001:db8::7",
        "never.c2.example",
        "update.c2.example",
        "http://198.51.100.7:8080/gate.php",
    ]
    shared = next(e for e in advice.keep if e.value == "2001:db8::7")
    assert shared.statuses == ("alive", "dead") and shared.threat_ids == ("TID-A", "TID-B")
    [line] = render(advice, "plain", True, producer()).splitlines()
    assert line.startswith("https://cdn.c2.example/x?id=1'2  # dead: no answer to any of 1 observer(s) for")


def test_keep_option_moves_statuses_to_removable(world: World) -> None:
    build(world)
    verdicts = list(world.verdicts(NOW).values())
    advice = advise(verdicts, RULES, NOW, keep=parse_keep("alive,blocked-for-observer"))
    removable = {e.value: e.reason.split(":")[0] for e in advice.removable}
    assert removable == {
        "https://cdn.c2.example/x?id=1'2": "dead",
        "never.c2.example": "never-seen",
        "update.c2.example": "dormant",
    }
    with pytest.raises(InputError, match="unknown status zombie"):
        parse_keep("alive,zombie")
    assert parse_keep(",".join(DEFAULT_KEEP)) == DEFAULT_KEEP


def test_csv_columns(world: World) -> None:
    rows = list(csv.DictReader(io.StringIO(render(build(world), "csv", False, producer()))))
    alive = next(r for r in rows if r["value"] == "198.51.100.7")
    assert alive["kind"] == "ip" and alive["advice"] == "keep" and alive["statuses"] == "alive"
    assert alive["last_answer_at"] == slot(20).isoformat()
    assert alive["valid_until"] == (slot(20) + RULES.dead_after).isoformat()
    never = next(r for r in rows if r["value"] == "never.c2.example")
    assert never["valid_until"] == (NOW + RULES.dead_after).isoformat()


def test_stix_indicators_are_valid_and_expire_with_the_evidence(world: World) -> None:
    advice = build(world)
    for removable in (False, True):
        bundle = json.loads(render(advice, "stix", removable, producer()))
        result = validate_parsed_json(bundle, ValidationOptions(version="2.1", disabled=["103", "301"]))
        assert result.is_valid, [str(e) for e in result.errors]
        parsed = stix2.parse(bundle, allow_custom=False)
        indicators = {o.pattern: o for o in parsed.objects if o.type == "indicator"}
        relationships = [o for o in parsed.objects if o.type == "relationship"]
        assert all(r.relationship_type == "indicates" for r in relationships)
        if removable:
            [dead] = indicators.values()
            assert dead.pattern == "[url:value = 'https://cdn.c2.example/x?id=1\\'2']"
            assert dead.valid_until == slot(0) + RULES.dead_after < NOW
        else:
            assert set(indicators) == {
                "[ipv6-addr:value = '2001:db8::7']",
                "[ipv4-addr:value = '198.51.100.7']",
                "[domain-name:value = 'never.c2.example']",
                "[domain-name:value = 'update.c2.example']",
                "[url:value = 'http://198.51.100.7:8080/gate.php']",
            }
            alive = indicators["[ipv4-addr:value = '198.51.100.7']"]
            assert alive.valid_until == slot(20) + RULES.dead_after and alive.valid_from == slot(20)
            assert alive.created_by_ref == producer().org_identity


def test_retired_destinations_are_not_advised(world: World) -> None:
    world.target("gone", threat="TID-C", ip="203.0.113.9", port=80)
    world.add(world.row("gone", "tokyo", slot(20), status=200))
    world.store.watchlist.apply([WatchlistEntry("TID-C", ip="203.0.113.10", port=80)], "world-gone", slot(0))
    world.store.verdicts.fold_summaries(NOW)
    verdicts = evaluate(world.store, RULES, NOW)
    assert [v.target.active for v in verdicts] == [False, True]
    advice = advise(verdicts, RULES, NOW)
    assert [e.value for e in advice.keep] == ["203.0.113.10"]


def test_patterns_escape_quotes_and_backslashes() -> None:
    assert pattern("url", "http://x/a'b\\c") == "[url:value = 'http://x/a\\'b\\\\c']"
    assert pattern("ip", "::1") == "[ipv6-addr:value = '::1']"
