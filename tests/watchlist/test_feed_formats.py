"""Detection of the feed formats, JSON documents of any line length, and fuzzing: only WatchlistError escapes."""

from __future__ import annotations

import json
import string
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from c2watch.errors import WatchlistError
from c2watch.watchlist import FORMATS, parse_watchlist
from c2watch.watchlist.decode import MAX_LINE_CHARS

WriteFile = Callable[..., Path]
FEEDS = Path(__file__).parent / "feeds"
FEED_FORMATS = ("urlhaus", "threatfox", "feodo", "stix", "misp")
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("urlhaus.csv", "urlhaus"),
        ("urlhaus_old.csv", "urlhaus"),
        ("threatfox.csv", "threatfox"),
        ("threatfox.json", "threatfox"),
        ("feodo.csv", "feodo"),
        ("feodo.json", "feodo"),
        ("stix_bundle.json", "stix"),
        ("misp_event.json", "misp"),
        ("misp", "misp"),
        ("misp/manifest.json", "misp"),
    ],
)
def test_auto_detects_every_feed(name: str, expected: str) -> None:
    assert parse_watchlist(FEEDS / name).format == expected


def test_a_one_line_json_document_may_be_longer_than_a_csv_line(write_file: WriteFile) -> None:
    records = [
        {"ip_address": f"198.51.100.{n % 250 + 1}", "port": 1000 + n, "malware": "QakBot", "first_seen": "2024-01-01"}
        for n in range(3000)
    ]
    path = write_file(json.dumps(records), name="feodo.json")
    assert path.stat().st_size > MAX_LINE_CHARS
    assert len(parse_watchlist(path).entries) == 3000


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"a": 1,\n  "b": }', "line 2: not valid JSON: Expecting value (column 8)"),
        ('{"a": 1}', "cannot detect format of this JSON document; it must be a STIX 2.1 bundle"),
        ("[1, 2]", "or be a Feodo Tracker JSON blocklist"),
        ("[" * 100_000 + "]" * 100_000, "not usable JSON: nested too deeply"),
    ],
)
def test_json_that_is_no_feed(write_file: WriteFile, text: str, message: str) -> None:
    with pytest.raises(WatchlistError) as excinfo:
        parse_watchlist(write_file(text, name="doc.json"))
    assert message in str(excinfo.value)


@pytest.mark.parametrize("fmt", ["stix", "misp", "threatfox", "feodo"])
def test_csv_given_to_a_json_format(write_file: WriteFile, fmt: str) -> None:
    with pytest.raises(WatchlistError):
        parse_watchlist(write_file("a,b\n1,2\n"), fmt)


def test_threat_override(write_file: WriteFile) -> None:
    result = parse_watchlist(FEEDS / "feodo.csv", threat="CERT-42")
    assert {e.threat_id for e in result.entries} == {"CERT-42"}
    assert result.threat_rule == "every destination under 'CERT-42' (--threat)"
    with pytest.raises(WatchlistError, match="--threat: threat id is 201 characters long"):
        parse_watchlist(FEEDS / "feodo.csv", threat="x" * 201)


# Fuzzing -------------------------------------------------------------------------------------------------------


def check(path: Path, fmt: str = "auto") -> None:
    """parse_watchlist returns a consistent result or raises WatchlistError; nothing else."""
    try:
        result = parse_watchlist(path, fmt)
    except WatchlistError as exc:
        assert exc.errors
        return
    assert result.format in FORMATS
    for entry in result.entries:
        assert entry.threat_id
        assert entry.ip or entry.domain or entry.url
        assert entry.port is not None and 1 <= entry.port <= 65535


JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
JSON = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
WORDS = st.sampled_from(
    [
        "198.51.100.7",
        "2001:db8::1",
        "c2.bad.example",
        "hxxp://c2[.]bad.example/a",
        "198.51.100.7:443",
        "[ipv4-addr:value = '198.51.100.7']",
        "[network-traffic:dst_ref.value = 'c2.bad.example' AND network-traffic:dst_port = 8443]",
        "[url:value = 'http://x']",
        "2024-01-01T00:00:00Z",
        "2024-01-01 00:00:00",
        "ip:port",
        "ip-dst",
        "ip-dst|port",
        "url",
        "domain",
        "indicator",
        "campaign",
        "relationship",
        "indicates",
        "cert-threat-id",
        "stix",
        "",
    ]
)
VALUES = WORDS | JSON_SCALARS | st.lists(WORDS, max_size=3)
KEYS = st.sampled_from(
    [
        "type",
        "id",
        "pattern",
        "pattern_type",
        "valid_until",
        "valid_from",
        "revoked",
        "modified",
        "created",
        "name",
        "source_ref",
        "target_ref",
        "relationship_type",
        "object_refs",
        "external_references",
        "source_name",
        "external_id",
        "uuid",
        "value",
        "to_ids",
        "deleted",
        "object_relation",
        "Attribute",
        "Object",
        "date",
        "info",
        "ioc_value",
        "ioc_type",
        "malware",
        "ip_address",
        "port",
        "first_seen",
    ]
)
RECORDS = st.recursive(
    st.dictionaries(KEYS, VALUES, max_size=8),
    lambda inner: st.dictionaries(KEYS, inner | st.lists(inner, max_size=3) | VALUES, max_size=6),
    max_leaves=12,
)
DOCUMENTS = st.one_of(
    JSON,
    st.builds(lambda objects: {"type": "bundle", "id": "bundle--x", "objects": objects}, st.lists(RECORDS, max_size=6)),
    st.builds(lambda event: {"Event": event}, RECORDS),
    st.builds(lambda records: {"1": records, "2": records}, st.lists(RECORDS, max_size=4)),
    st.lists(RECORDS, max_size=5),
)


@FAST
@given(document=DOCUMENTS, fmt=st.sampled_from(["auto", *FEED_FORMATS]))
def test_arbitrary_json_never_crashes(tmp_path: Path, document: Any, fmt: str) -> None:
    path = tmp_path / "fuzz.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    check(path, fmt)


CELLS = st.lists(WORDS | st.text(string.printable.replace("\n", "").replace("\r", ""), max_size=12), max_size=10)
HEADERS = st.sampled_from(
    [
        "# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter",
        '# "first_seen_utc","ioc_id","ioc_value","ioc_type","threat_type","fk_malware","malware_printable"',
        '"first_seen_utc","dst_ip","dst_port","c2_status","last_online","malware"',
        "# END 3 entries",
    ]
)


@FAST
@given(header=HEADERS, rows=st.lists(CELLS, max_size=6), fmt=st.sampled_from(["auto", *FEED_FORMATS]))
def test_arbitrary_csv_never_crashes(tmp_path: Path, header: str, rows: list[list[str]], fmt: str) -> None:
    path = tmp_path / "fuzz.csv"
    lines = [header, *(", ".join(json.dumps(cell) for cell in row) for row in rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    check(path, fmt)


@FAST
@given(data=st.binary(max_size=300), fmt=st.sampled_from(FEED_FORMATS))
def test_arbitrary_bytes_never_crash(tmp_path: Path, data: bytes, fmt: str) -> None:
    path = tmp_path / "fuzz.bin"
    path.write_bytes(data)
    check(path, fmt)


@FAST
@given(
    pattern=st.text(max_size=80)
    | st.builds("[{}:{} = '{}']".format, st.text(max_size=12), st.text(max_size=12), st.text(max_size=12))
)
def test_arbitrary_patterns_never_crash(tmp_path: Path, pattern: str) -> None:
    indicator = {"type": "indicator", "id": "indicator--00000000-0000-4000-8000-000000000000", "pattern": pattern}
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"type": "bundle", "objects": [indicator]}), encoding="utf-8")
    check(path, "stix")
