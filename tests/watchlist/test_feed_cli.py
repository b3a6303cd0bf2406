"""``c2watch watchlist import`` with every feed format, on SQLite and PostgreSQL: good feeds, bad feeds, no change."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from tests.helpers.cli import Invoke, as_json

FEEDS = Path(__file__).parent / "feeds"
TF_HEADER = '# "first_seen_utc","ioc_id","ioc_value","ioc_type","fk_malware","malware_printable"'
MISP_E2 = "5f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a02"


def listing(invoke: Invoke) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = as_json(invoke("watchlist", "list", "--all", "--json"))
    return rows


def write(tmp_path: Path, text: str, name: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("name", "fmt", "added", "ignored"),
    [
        ("urlhaus.csv", "urlhaus", 5, 1),  # a repeated URL is reported
        ("threatfox.csv", "threatfox", 4, 2),
        ("threatfox.json", "threatfox", 4, 1),
        ("feodo.csv", "feodo", 3, 1),  # a repeated row is reported
        ("feodo.json", "feodo", 3, 0),
        ("stix_bundle.json", "stix", 8, 4),
        ("misp", "misp", 10, 4),
        ("misp_event.json", "misp", 2, 0),
    ],
)
def test_import_every_feed(invoke: Invoke, name: str, fmt: str, added: int, ignored: int) -> None:
    report = as_json(invoke("watchlist", "import", str(FEEDS / name), "--json"))
    assert (report["format"], report["added"], len(report["ignored"]), report["skipped"]) == (fmt, added, ignored, [])
    assert report["threat_rule"]
    again = as_json(invoke("watchlist", "import", str(FEEDS / name), "--format", fmt, "--json"))
    assert (again["added"], again["updated"], again["unchanged"]) == (0, 0, added)


def test_text_output_says_the_rule_and_the_skips(invoke: Invoke) -> None:
    result = invoke("watchlist", "import", str(FEEDS / "threatfox.csv"))
    assert "imported" in result.stdout and "4 added" in result.stdout and "2 ignored" in result.stdout
    assert "threat IDs: threatfox:<fk_malware>, else threatfox:<malware_printable>" in result.stdout
    assert (
        "ignored 1 in" in result.stderr and "sha256_hash IOC skipped" in result.stderr and "(line 13)" in result.stderr
    )
    rows = listing(invoke)
    assert {row["threat_id"] for row in rows} == {
        "threatfox:win.qakbot",
        "threatfox:win.cobalt_strike",
        "threatfox:win.lumma",
    }
    assert {row["extra"]["source_ref"] for row in rows} == {"1301611", "1301610", "1301609", "1301608"}  # type: ignore[index]


def test_the_same_destination_from_several_feeds(invoke: Invoke) -> None:
    invoke("watchlist", "import", str(FEEDS / "feodo.csv"))
    from_json = as_json(invoke("watchlist", "import", str(FEEDS / "feodo.json"), "--json"))
    assert (from_json["added"], from_json["unchanged"]) == (0, 3)  # the JSON blocklist lists the same C2s
    invoke("watchlist", "import", str(FEEDS / "feodo.csv"), "--threat", "QAKBOT-WAVE")
    shared = as_json(invoke("watchlist", "import", str(FEEDS / "threatfox.csv"), "--threat", "QAKBOT-WAVE", "--json"))
    assert (shared["added"], shared["updated"], shared["threat_rule"]) == (
        3,
        1,  # 198.51.100.10:443 is listed by both: the ThreatFox record's summary and id now describe it
        "every destination under 'QAKBOT-WAVE' (--threat)",
    )
    qakbot = [row for row in listing(invoke) if row["ip"] == "198.51.100.10" and row["port"] == 443]
    assert sorted(str(row["threat_id"]) for row in qakbot) == ["QAKBOT-WAVE", "feodo:qakbot"]


def test_dry_run_and_skip_invalid(invoke: Invoke, tmp_path: Path) -> None:
    bad = write(
        tmp_path,
        "\n".join(
            [
                TF_HEADER,
                '"2024-03-01 00:00:00", "1", "198.51.100.1:443", "ip:port", "win.x", "X"',
                '"2024-03-01 00:00:00", "2", "198.51.100.2", "ip:port", "win.x", "X"',
            ]
        ),
        "tf.csv",
    )
    dry = as_json(invoke("watchlist", "import", str(FEEDS / "feodo.csv"), "--dry-run", "--json"))
    assert (dry["dry_run"], dry["added"], listing(invoke)) == (True, 3, [])
    kept = as_json(invoke("watchlist", "import", str(bad), "--skip-invalid", "--json"))
    assert kept["added"] == 1
    assert kept["skipped"] == [{"line": 3, "field": "ioc_value", "message": "an ip:port IOC needs a port"}]


def _misp_with_broken_event(tmp_path: Path) -> Path:
    feed = tmp_path / "feed"
    shutil.copytree(FEEDS / "misp", feed)
    (feed / f"{MISP_E2}.json").write_text('{"Event": {"uuid": "x",\n "Attribute": [}}')
    return feed


BAD_FEEDS = {
    "urlhaus bad url": (
        lambda tmp: write(
            tmp,
            (FEEDS / "urlhaus.csv").read_text().replace("http://203.0.113.9/sh", "tcp://203.0.113.9/sh"),
            "u.csv",
        ),
        ["line 14", "url: URL must start with http:// or https://"],
    ),
    "urlhaus without column comment": (
        lambda tmp: write(tmp, '"1","2024-01-01 00:00:00","http://198.51.100.1/"\n', "u.csv"),
        ["--format urlhaus", "missing URLhaus column comment"],
    ),
    "threatfox bad address": (
        lambda tmp: write(
            tmp, f'{TF_HEADER}\n"2024-03-01", "1", "198.51.100.300:80", "ip:port", "win.x", "X"\n', "t.csv"
        ),
        ["line 2", "ioc_value: not a valid IPv4 or IPv6 address"],
    ),
    "threatfox json record": (
        lambda tmp: write(
            tmp, '{"1": [{"ioc_value": "bad..example", "ioc_type": "domain", "malware": "x"}]}', "t.json"
        ),
        ['$["1"][0]: ioc_value:'],
    ),
    "threatfox only hashes": (
        lambda tmp: write(tmp, f'{TF_HEADER}\n"2024-03-01", "1", "{"a" * 32}", "md5_hash", "win.x", "X"\n', "t.csv"),
        ["no destination to watch: all 1 rows were skipped by design (1 x md5_hash IOC skipped"],
    ),
    "feodo truncated": (
        lambda tmp: write(tmp, (FEEDS / "feodo.csv").read_text().replace("END 4", "END 40"), "f.csv"),
        ["line 13: footer says 40 entries but the file has 4 rows"],
    ),
    "feodo json port": (
        lambda tmp: write(tmp, '[{"ip_address": "198.51.100.1", "port": 0, "malware": "QakBot"}]', "f.json"),
        ["$[0]: dst_port: port 0 is out of range"],
    ),
    "stix pattern": (
        lambda tmp: write(
            tmp,
            (FEEDS / "stix_bundle.json")
            .read_text()
            .replace("[ipv6-addr:value = '2001:db8::10']", "[ipv6-addr:value ="),
            "s.json",
        ),
        ["$.objects[5] (indicator--", "pattern: not a valid STIX pattern"],
    ),
    "stix not json": (
        lambda tmp: write(tmp, '{"type": "bundle",\n "objects": [,]}', "s.json"),
        ["--format stix", "line 2: not valid JSON"],
    ),
    "misp broken event file": (_misp_with_broken_event, [f"{MISP_E2}.json: line 2: not valid JSON"]),
    "misp attribute": (
        lambda tmp: write(
            tmp,
            '{"Event": {"uuid": "e1", "Attribute": [{"type": "ip-dst|port", "value": "198.51.100.1|x"}]}}',
            "m.json",
        ),
        ["$.Event.Attribute[0]: port: port must be a number"],
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_FEEDS))
def test_bad_feed_is_refused_and_store_unchanged(invoke: Invoke, tmp_path: Path, case: str) -> None:
    invoke("watchlist", "import", str(FEEDS / "feodo.csv"))
    before = listing(invoke)
    make, expected = BAD_FEEDS[case]
    path = make(tmp_path)
    args = ["watchlist", "import", str(path)]
    for fragment in expected:
        if fragment.startswith("--format "):
            args += fragment.split()
    result = invoke(*args, ok=False)
    assert result.exit_code == 2, result.output
    assert str(path) in result.stderr
    for fragment in expected:
        if not fragment.startswith("--format "):
            assert fragment in result.stderr
    assert listing(invoke) == before


def test_json_errors_carry_their_path(invoke: Invoke, tmp_path: Path) -> None:
    path = write(tmp_path, json.dumps([{"ip_address": "198.51.100.1", "port": 80, "malware": "x"}, 3]), "f.json")
    report = as_json(invoke("watchlist", "import", str(path), "--skip-invalid", "--json"))
    assert report["skipped"] == [
        {"line": 0, "field": None, "message": "expected a blocklist record (a JSON object)", "at": "$[1]"}
    ]


# Smaller findings on real feeds --------------------------------------------------------------------------------


def test_skipped_counts_rows_not_messages(invoke: Invoke, tmp_path: Path) -> None:
    header = "1,,#uid,#ip,#domain,#url,#port,#date,#report-date,#note,#hash,#file type"
    rows = ["2,,L1,192.0.2.300,,,0,,,,,", "3,,L2,192.0.2.3,,,80,,,,,"]  # row 2: bad address and bad port
    path = write(tmp_path, "\n".join([header, *rows]) + "\n", "lemon.csv")
    result = invoke("watchlist", "import", str(path), "--skip-invalid")
    assert "1 added" in result.stdout and "1 skipped" in result.stdout
    assert result.stderr.count("skipped ") == 2  # both problems of the row are listed
    report = as_json(invoke("watchlist", "import", str(path), "--skip-invalid", "--json"))
    assert (report["skipped_rows"], len(report["skipped"])) == (1, 2)


def test_feodo_record_id_is_the_refanged_address(invoke: Invoke, tmp_path: Path) -> None:
    text = (FEEDS / "feodo.csv").read_text().replace('"203.0.113.44"', '"203.0.113[.]44"')
    invoke("watchlist", "import", str(write(tmp_path, text, "feodo-defanged.csv")))
    refs = {row["ip"]: row["extra"]["source_ref"] for row in listing(invoke)}  # type: ignore[index]
    assert refs["203.0.113.44"] == "203.0.113.44:8080"


def test_misp_url_attribute_that_is_a_file_name(invoke: Invoke, tmp_path: Path) -> None:
    event = json.loads((FEEDS / "misp_event.json").read_text())
    values = ["igfxtray.exe", "Data/dtl.dat", "198.51.100", "www.lure.example/doc/a.txt"]
    event["Event"]["Attribute"] += [
        {"uuid": f"5f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3b0{i}", "type": "url", "value": value, "to_ids": True}
        for i, value in enumerate(values)
    ]
    report = as_json(invoke("watchlist", "import", str(write(tmp_path, json.dumps(event), "e.json")), "--json"))
    assert (report["added"], report["skipped"]) == (3, [])
    file_names = [err for err in report["ignored"] if "names no host" in err["message"]]
    assert len(file_names) == 3
    assert "http://www.lure.example/doc/a.txt" in {row["url"] for row in listing(invoke)}


def test_stix_or_keeps_the_good_address_beside_a_bad_name(invoke: Invoke, tmp_path: Path) -> None:
    indicator = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": "indicator--6b1f4e2a-7d0c-4c39-9a57-0f4b1d7e2c12",
        "created": "2024-05-01T00:00:00.000Z",
        "modified": "2024-05-01T00:00:00.000Z",
        "pattern": "[ipv4-addr:value = '198.51.100.12'] OR [domain-name:value = 'bad label']",
        "pattern_type": "stix",
        "valid_from": "2024-05-01T00:00:00Z",
    }
    bundle = {"type": "bundle", "id": "bundle--6b1f4e2a-7d0c-4c39-9a57-0f4b1d7e2c13", "objects": [indicator]}
    path = write(tmp_path, json.dumps(bundle), "b.json")
    refused = invoke("watchlist", "import", str(path), ok=False)
    assert refused.exit_code != 0 and "'bad label'" in refused.stderr
    report = as_json(invoke("watchlist", "import", str(path), "--skip-invalid", "--json"))
    assert (report["added"], report["skipped_rows"]) == (1, 1)
    assert [row["ip"] for row in listing(invoke)] == ["198.51.100.12"]


def test_repeated_rows_are_reported(invoke: Invoke) -> None:
    result = invoke("watchlist", "import", str(FEEDS / "feodo.csv"))
    assert "3 added" in result.stdout and "1 ignored" in result.stdout
    assert "repeats a destination listed earlier under the same threat ID" in result.stderr
    assert "(line 12)" in result.stderr


def test_overlapping_feeds_keep_a_shared_destination(invoke: Invoke, tmp_path: Path) -> None:
    """Two lists share 198.51.100.10:443 under one threat ID; dropping it from one keeps it active."""
    one = write(tmp_path, "198.51.100.10:443\n198.51.100.11:443\n", "one.txt")
    two = write(tmp_path, "198.51.100.10:443\n", "two.txt")
    invoke("watchlist", "import", str(one), "--threat", "WAVE")
    invoke("watchlist", "import", str(two), "--threat", "WAVE")
    write(tmp_path, "198.51.100.11:443\n", "one.txt")
    again = invoke("watchlist", "import", str(one), "--threat", "WAVE")
    assert "0 retired, 1 kept (listed by another source)" in again.stdout
    active = {row["ip"]: row["extra"]["sources"] for row in listing(invoke) if row["active"]}  # type: ignore[index]
    assert active == {"198.51.100.10": "two.txt", "198.51.100.11": "one.txt"}
    write(tmp_path, "198.51.100.99:443\n", "two.txt")
    last = as_json(invoke("watchlist", "import", str(two), "--threat", "WAVE", "--json"))
    assert (last["retired"], last["released"]) == (1, 0)
