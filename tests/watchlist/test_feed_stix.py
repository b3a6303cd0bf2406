"""STIX 2.1 bundles: patterns read with stix2-patterns, threat IDs from campaigns and reports, skips by design."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from stix2validator import ValidationOptions, validate_file

from c2watch.errors import WatchlistError
from c2watch.watchlist import parse_watchlist
from c2watch.watchlist.stix_feed import entries_from_objects
from c2watch.watchlist.stix_pattern import MAX_ALTERNATIVES, Destination, PatternError, destinations

WriteFile = Callable[..., Path]
FEEDS = Path(__file__).parent / "feeds"
BUNDLE = FEEDS / "stix_bundle.json"
NOW = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)
ID = "indicator--{:08d}-0000-4000-8000-000000000000"


def indicator(number: int, pattern: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": ID.format(number),
        "created": "2024-03-01T00:00:00.000Z",
        "modified": "2024-03-01T00:00:00.000Z",
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": "2024-03-01T00:00:00Z",
        **extra,
    }


def bundle(*objects: dict[str, Any]) -> str:
    return json.dumps({"type": "bundle", "id": "bundle--00000000-0000-4000-8000-000000000000", "objects": objects})


def test_fixture_is_valid_stix() -> None:
    result = validate_file(str(BUNDLE), ValidationOptions(version="2.1", disabled=["303"]))
    assert result.is_valid


def test_fixture_entries_and_threat_ids() -> None:
    result = parse_watchlist(BUNDLE, now=NOW)
    assert (result.format, result.errors) == ("stix", [])
    found = {(e.threat_id, e.ip or e.domain or e.url, e.port) for e in result.entries}
    assert found == {
        ("JPCERT-2024-0001", "198.51.100.10", 443),  # network-traffic with port, campaign's cert-threat-id
        ("JPCERT-2024-0001", "2001:db8::10", 80),
        ("JPCERT-2024-0001", "198.51.100.111", 80),  # the later version of a twice-listed indicator
        ("stix:Operation Dusk", "c2-panel.bad.example", 80),  # campaign without cert-threat-id: its name
        ("CISA-AA24-001", "https://gate.bad.example/api/v2", 443),  # a report's object_refs
        ("stix:QakBot", "203.0.113.44", 80),  # indicates malware
        ("stix:QakBot", "203.0.113.45", 80),
        ("stix:unattributed", "lonely.bad.example", 80),
    }
    assert all(e.source_ref and e.source_ref.startswith("indicator--") for e in result.entries)
    assert {e.summary for e in result.entries if e.threat_id == "CISA-AA24-001"} == {"Lumma gate"}
    assert sorted(err.message for err in result.ignored) == [
        "expired indicator skipped (valid_until is not after the import time)",
        "pattern names no single network destination (ipv4-addr, ipv6-addr, domain-name, url, network-traffic)",
        "pattern_type 'snort' skipped: only STIX patterns are read",
        "revoked indicator skipped",
    ]


def test_expiry_is_judged_at_the_import_time() -> None:
    before_expiry = dt.datetime(2019, 6, 1, tzinfo=dt.UTC)
    result = parse_watchlist(BUNDLE, now=before_expiry)
    assert "198.51.100.77" in {e.ip for e in result.entries}
    assert "not valid yet" in " ".join(err.message for err in result.ignored)


def test_own_reference_wins_and_several_campaigns_give_several_threats() -> None:
    campaigns = [
        {"type": "campaign", "id": f"campaign--{n}0000000-0000-4000-8000-000000000000", "name": f"C{n}"} for n in (1, 2)
    ]
    relations = [
        {
            "type": "relationship",
            "id": f"relationship--{n}0000000-0000-4000-8000-000000000000",
            "relationship_type": "indicates",
            "source_ref": ID.format(1),
            "target_ref": campaign["id"],
        }
        for n, campaign in enumerate(campaigns, 1)
    ]
    own = indicator(
        2,
        "[ipv4-addr:value = '198.51.100.2']",
        external_references=[{"source_name": "cert-threat-id", "external_id": "OWN-1"}],
    )
    objects = [indicator(1, "[ipv4-addr:value = '198.51.100.1']"), own, *campaigns, *relations]
    entries, errors = entries_from_objects([(f"$[{i}]", obj) for i, obj in enumerate(objects)], NOW)
    assert errors == []
    assert sorted((e.threat_id, e.ip) for e in entries) == [
        ("OWN-1", "198.51.100.2"),
        ("stix:C1", "198.51.100.1"),
        ("stix:C2", "198.51.100.1"),
    ]


def test_bad_objects_are_errors_with_their_json_path(write_file: WriteFile) -> None:
    text = bundle(
        indicator(1, "[ipv4-addr:value = '198.51.100.1'"),
        indicator(2, "[ipv4-addr:value = '198.51.100.999']"),
        indicator(3, "[ipv4-addr:value = '198.51.100.3']", valid_until="soon"),
        {"type": "indicator", "id": "not-an-id"},
        "a string",
        indicator(4, "[domain-name:value = 'ok.bad.example']"),
    )
    result = parse_watchlist(write_file(text, name="b.json"), now=NOW)
    messages = [str(err) for err in result.errors]
    assert messages[0].startswith(f"$.objects[0] ({ID.format(1)}): pattern: not a valid STIX pattern:")
    assert messages[1:] == [
        f"$.objects[1] ({ID.format(2)}): pattern: not a valid IPv4 or IPv6 address: '198.51.100.999'",
        f"$.objects[2] ({ID.format(3)}): valid_until: time must be YYYY-MM-DD[ HH:MM:SS], not 'soon'",
        "$.objects[3]: indicator object without a valid id ('indicator--<uuid>')",
        "$.objects[4]: not a STIX object (a JSON object with type and id)",
    ]
    assert [e.domain for e in result.entries] == ["ok.bad.example"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"type": "bundle", "objects": {}}', "$.objects: must be a list of STIX objects"),
        ('{"type": "report"}', 'not a STIX 2.1 bundle: expected {"type": "bundle", "objects": [...]}'),
        ('{"type": "bundle",\n "objects": [}', "line 2: not valid JSON: Expecting value (column 14)"),
    ],
)
def test_unusable_bundles(write_file: WriteFile, text: str, message: str) -> None:
    with pytest.raises(WatchlistError) as excinfo:
        parse_watchlist(write_file(text, name="b.json"), "stix")
    assert message in str(excinfo.value)


# Patterns ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("[ipv4-addr:value = '198.51.100.1']", [Destination(ip="198.51.100.1")]),
        ("[ipv6-addr:value = '2001:db8::1']", [Destination(ip="2001:db8::1")]),
        ("[ipv4-addr:value = '198.51.100.9/32']", [Destination(ip="198.51.100.9")]),
        ("[ipv4-addr:value = '198.51.100.0/24']", []),
        ("[ipv4-addr:value ISSUBSET '198.51.100.0/24']", []),
        ("[ipv4-addr:value NOT = '198.51.100.1']", []),
        ("[domain-name:value = 'c2.bad.example']", [Destination(domain="c2.bad.example")]),
        ("[url:value = 'http://a.bad.example/x?q=\\'1\\'']", [Destination(url="http://a.bad.example/x?q='1'")]),
        (
            "[ipv4-addr:value IN ('198.51.100.1', '198.51.100.2')]",
            [Destination(ip="198.51.100.1"), Destination(ip="198.51.100.2")],
        ),
        (
            "[network-traffic:dst_ref.type = 'domain-name' AND network-traffic:dst_ref.value = 'c2.bad.example'"
            " AND network-traffic:dst_port IN (80, 443)]",
            [Destination(domain="c2.bad.example", port="80"), Destination(domain="c2.bad.example", port="443")],
        ),
        (
            "([ipv4-addr:value = '198.51.100.1'] OR [domain-name:value = 'a.bad.example'])"
            " FOLLOWEDBY [url:value = 'https://b.bad.example/'] WITHIN 60 SECONDS",
            [
                Destination(ip="198.51.100.1"),
                Destination(domain="a.bad.example"),
                Destination(url="https://b.bad.example/"),
            ],
        ),
        (
            "[ipv4-addr:value = '198.51.100.1' AND (ipv4-addr:value = '198.51.100.2'"
            " OR ipv4-addr:value = '198.51.100.1')]",
            [Destination(ip="198.51.100.1")],
        ),
        ("[file:hashes.'SHA-256' = 'aa']", []),
    ],
)
def test_pattern_destinations(pattern: str, expected: list[Destination]) -> None:
    assert destinations(pattern) == expected


@pytest.mark.parametrize(
    "pattern",
    ["[ipv4-addr:value = '198.51.100.1'", "", "ipv4-addr:value = 'x'", "[" * 5000, "[a:b = '" + "x" * 30_000 + "']"],
)
def test_invalid_patterns(pattern: str) -> None:
    with pytest.raises(PatternError):
        destinations(pattern)


def test_pattern_explosion_is_refused() -> None:
    values = ", ".join(f"'198.51.100.{n}'" for n in range(1, 41))
    ports = ", ".join(str(port) for port in range(1, 41))
    pattern = f"[network-traffic:dst_ref.value IN ({values}) AND network-traffic:dst_port IN ({ports})]"
    with pytest.raises(PatternError, match=f"more than {MAX_ALTERNATIVES} destinations"):
        destinations(pattern)
