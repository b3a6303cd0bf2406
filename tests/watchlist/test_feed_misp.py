"""MISP feeds: a directory with manifest.json and event files, single events, lists, search answers."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from c2watch.errors import WatchlistError
from c2watch.watchlist import parse_watchlist

WriteFile = Callable[..., Path]
FEEDS = Path(__file__).parent / "feeds"
E1 = "misp:5f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a01"
E2 = "misp:5f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a02"
EVENT_UUID = "0b1c2d3e-4f50-4a61-8b72-c3d4e5f60718"


def event(*attributes: dict[str, Any], objects: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "Event": {
            "uuid": EVENT_UUID,
            "info": "test event",
            "date": "2024-01-02",
            "Attribute": list(attributes),
            "Object": objects or [],
        }
    }


def attribute(kind: str, value: str, **extra: Any) -> dict[str, Any]:
    return {"uuid": "1b1c2d3e-4f50-4a61-8b72-c3d4e5f60718", "type": kind, "value": value, "to_ids": True, **extra}


def test_feed_directory() -> None:
    result = parse_watchlist(FEEDS / "misp")
    assert (result.format, result.errors) == ("misp", [])
    found = [(e.threat_id, e.ip, e.domain, e.url, e.port) for e in result.entries]
    assert found == [
        (E1, "198.51.100.10", None, None, 80),
        (E1, "203.0.113.44", None, None, 8080),
        (E1, None, "c2-panel.bad.example", None, 80),  # refanged
        (E1, None, "cdn.bad.example", None, 80),
        (E1, None, None, "http://gate.bad.example/api/v2", 80),  # a URL without a scheme is http
        (E1, "2001:db8::10", None, None, 8443),  # ip-port object: dst-port, not src-port
        (E1, "198.51.100.12", "panel.bad.example", None, 443),  # domain-ip object: one destination
        (E1, None, None, "https://dl.bad.example:8443/stage2.bin", 8443),  # url object: its URL only
        (E2, None, None, "https://gate.bad.example/api/v2", 443),
        (E2, "198.51.100.10", None, None, 80),
    ]
    assert {e.summary for e in result.entries if e.threat_id == E2} == {"Lumma Stealer gates"}
    assert result.entries[0].source_ref == "6a2b3c4d-5e6f-4a70-8b81-000000000001"
    assert result.entries[0].reported_on is not None and result.entries[0].reported_on.isoformat() == "2024-03-01"
    assert [str(err) for err in result.ignored] == [
        f"{E1[5:]}.json: $.Event.Attribute[5]: attribute type 'md5' skipped: not a network destination",
        f"{E1[5:]}.json: $.Event.Attribute[6]: attribute with to_ids false skipped (context, not an indicator)",
        f"{E1[5:]}.json: $.Event.Attribute[7]: deleted attribute skipped",
        f"{E1[5:]}.json: $.Event.Object[3]: 'file' object skipped: no network destination in it",
    ]


def test_manifest_file_reads_the_events_beside_it() -> None:
    by_directory = parse_watchlist(FEEDS / "misp")
    by_manifest = parse_watchlist(FEEDS / "misp" / "manifest.json", "misp")
    assert by_manifest.entries == by_directory.entries


def test_single_event_file() -> None:
    result = parse_watchlist(FEEDS / "misp_event.json")
    assert result.format == "misp"
    assert [(e.ip, e.domain, e.port) for e in result.entries] == [
        (None, "c2.single.example", 8080),
        ("2001:db8::53", "mx.single.example", 80),
    ]


def test_bare_events_as_pymisp_writes_them(write_file: WriteFile, tmp_path: Path) -> None:
    """No ``{"Event": ...}`` wrapper: alone, in a list, and as a feed directory's event file."""
    wrapped = parse_watchlist(FEEDS / "misp_event.json")
    bare = json.loads((FEEDS / "misp_event.json").read_text())["Event"]
    alone = parse_watchlist(write_file(json.dumps(bare, indent=2), name="bare.json"))
    assert (alone.format, alone.entries, alone.errors) == ("misp", wrapped.entries, [])
    listed = parse_watchlist(write_file(json.dumps([bare]), name="list.json"))
    assert [(e.ip, e.domain) for e in listed.entries] == [(e.ip, e.domain) for e in wrapped.entries]
    feed = tmp_path / "feed"
    feed.mkdir()
    (feed / "manifest.json").write_text(json.dumps({bare["uuid"]: {"info": bare["info"]}}))
    (feed / f"{bare['uuid']}.json").write_text(json.dumps(bare))
    assert [e.domain for e in parse_watchlist(feed).entries] == [e.domain for e in wrapped.entries]


def test_list_of_events_and_search_answer(write_file: WriteFile) -> None:
    one = event(attribute("ip-dst", "198.51.100.1"))
    for text in (json.dumps([one, one]), json.dumps({"response": [one]})):
        result = parse_watchlist(write_file(text, name="events.json"))
        assert [(e.threat_id, e.ip) for e in result.entries] == [(f"misp:{EVENT_UUID}", "198.51.100.1")]


def test_bad_attributes_and_objects_are_errors_with_their_path(write_file: WriteFile) -> None:
    text = json.dumps(
        event(
            attribute("ip-dst", "198.51.100.999"),
            attribute("ip-dst|port", "198.51.100.1|http"),
            "not an attribute",
            objects=[
                {"name": "ip-port", "Attribute": "x"},
                {"name": "url", "Attribute": [attribute("url", "ftp://x")]},
            ],
        )
    )
    result = parse_watchlist(write_file(text, name="e.json"))
    assert [str(err) for err in result.errors] == [
        "$.Event.Attribute[0]: ip: not a valid IPv4 or IPv6 address: '198.51.100.999'",
        "$.Event.Attribute[1]: port: port must be a number in 1..65535, not 'http'",
        "$.Event.Attribute[2]: not a MISP attribute (a JSON object)",
        "$.Event.Object[0].Attribute: must be a list",
        "$.Event.Object[1]: url: URL must start with http:// or https://: 'ftp://x'",
    ]


def test_manifest_problems(tmp_path: Path) -> None:
    feed = tmp_path / "feed"
    shutil.copytree(FEEDS / "misp", feed)
    manifest = json.loads((feed / "manifest.json").read_text())
    manifest["0b1c2d3e-4f50-4a61-8b72-c3d4e5f60799"] = {"info": "missing file"}
    manifest["../../etc/passwd"] = {"info": "escape attempt"}
    (feed / "manifest.json").write_text(json.dumps(manifest))
    (feed / f"{E2[5:]}.json").write_text('{"Event": ')
    result = parse_watchlist(feed)
    assert [str(err) for err in result.errors] == [
        f"{E2[5:]}.json: line 1: not valid JSON: Expecting value (column 11)",
        "0b1c2d3e-4f50-4a61-8b72-c3d4e5f60799.json: event listed in manifest.json cannot be read: cannot read file:"
        " No such file or directory",
        '$["../../etc/passwd"]: manifest key is not an event uuid',
    ]
    assert {e.threat_id for e in result.entries} == {E1}


def test_directory_without_manifest(tmp_path: Path) -> None:
    with pytest.raises(WatchlistError, match=r"no manifest\.json: a MISP feed directory holds"):
        parse_watchlist(tmp_path)
    with pytest.raises(WatchlistError, match="a directory can only be read as a MISP feed"):
        parse_watchlist(FEEDS / "misp", "stix")


def test_event_without_uuid(write_file: WriteFile) -> None:
    result = parse_watchlist(write_file('{"Event": {"info": "x", "Attribute": []}}', name="e.json"))
    assert [str(err) for err in result.errors] == ["$.Event.uuid: event without a uuid"]
