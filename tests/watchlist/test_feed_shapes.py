"""The other shapes abuse.ch feeds come in, as users have them: URLhaus CSV whose header lost its ``# ``, URLhaus
JSON dumps, ThreatFox API records as newline-delimited JSON, and the ThreatFox full-dump footer."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from c2watch.errors import WatchlistError
from c2watch.watchlist import parse_watchlist

WriteFile = Callable[..., Path]

URLHAUS_ROW = (
    '"3520667","2025-04-21 12:35:06","http://198.51.100.7:60905/bin.sh","online","2025-04-21 12:35:06",'
    '"malware_download","32-bit,elf,mips,Mozi","https://urlhaus.example/url/3520667/","reporter_a"'
)
TF_RECORD = {
    "id": "841508",
    "ioc": "2001:db8:1::5:40669",
    "threat_type": "botnet_cc",
    "ioc_type": "ip:port",
    "malware": "win.redline_stealer",
    "malware_printable": "RedLine Stealer",
    "malware_alias": None,
    "confidence_level": 100,
    "first_seen": "2022-08-05 11:40:15 UTC",
    "last_seen": None,
    "tags": ["RedLineStealer"],
}


def test_urlhaus_csv_whose_header_lost_its_comment_mark(write_file: WriteFile) -> None:
    path = write_file(["id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter", URLHAUS_ROW])
    result = parse_watchlist(path)
    assert (result.format, result.errors) == ("urlhaus", [])
    [entry] = result.entries
    assert (entry.threat_id, entry.url, entry.port, entry.source_ref) == (
        "urlhaus:mozi",
        "http://198.51.100.7:60905/bin.sh",
        60905,
        "3520667",
    )


def test_urlhaus_json_dump(write_file: WriteFile) -> None:
    dump = {
        "2782355": [
            {
                "dateadded": "2024-03-13 18:49:10 UTC",
                "url": "http://198.51.100.23:57421/Mozi.m",
                "url_status": "offline",
                "last_online": "2024-03-16 05:04:10 UTC",
                "threat": "malware_download",
                "tags": ["elf", "Mozi"],
                "urlhaus_link": "https://urlhaus.example/url/2782355/",
                "reporter": "reporter_a",
            }
        ],
        "2771298": [{"dateadded": "2024-02-27 09:33:09 UTC", "url": "ftp://198.51.100.24/x", "tags": None}],
    }
    result = parse_watchlist(write_file(json.dumps(dump), name="json_recent.json"))
    assert result.format == "urlhaus"
    [entry] = result.entries
    assert (entry.threat_id, entry.url, entry.source_ref, str(entry.reported_on)) == (
        "urlhaus:mozi",
        "http://198.51.100.23:57421/Mozi.m",
        "2782355",
        "2024-03-13",
    )
    assert [(str(e), e.field) for e in result.errors] == [
        ("$[\"2771298\"][0]: url: URL must start with http:// or https://: 'ftp://198.51.100.24/x'", "url")
    ]


def test_threatfox_api_records_one_per_line(write_file: WriteFile) -> None:
    other = dict(TF_RECORD, id="841507", ioc="http://c2.bad.example/gate", ioc_type="url", malware="apk.hydra")
    hashed = dict(TF_RECORD, id="841506", ioc="0f" * 32, ioc_type="sha256_hash")
    lines = [json.dumps(record) for record in (TF_RECORD, other, hashed)]
    result = parse_watchlist(write_file("\n".join(lines) + "\n", name="threatfox.ndjson"))
    assert (result.format, result.errors) == ("threatfox", [])
    assert [(e.threat_id, e.ip, e.url, e.port, e.source_ref) for e in result.entries] == [
        ("threatfox:win.redline_stealer", "2001:db8:1::5", None, 40669, "841508"),
        ("threatfox:apk.hydra", None, "http://c2.bad.example/gate", 80, "841507"),
    ]
    assert [err.at for err in result.ignored] == ["$[2]"]


def test_ndjson_with_a_broken_line_names_the_line(write_file: WriteFile) -> None:
    path = write_file(json.dumps(TF_RECORD) + "\n" + json.dumps(TF_RECORD)[:40] + "\n", name="cut.ndjson")
    with pytest.raises(WatchlistError) as excinfo:
        parse_watchlist(path)
    assert [(err.line, err.message.split(":")[0]) for err in excinfo.value.errors] == [(2, "not valid JSON")]


TF_BANNER = [
    "################################################################",
    "# ThreatFox IOCs: additions - CSV format (full dump)           #",
    "################################################################",
    "#",
    '# "first_seen_utc","ioc_id","ioc_value","ioc_type","threat_type","fk_malware","malware_alias",'
    '"malware_printable","last_seen_utc","confidence_level","reference","tags","anonymous","reporter"',
]
TF_ROW = (
    '"2024-07-16 05:25:36", "1301610", "198.51.100.90:7777", "ip:port", "botnet_cc", "win.cobalt_strike", '
    '"Agentemis,BEACON,CobaltStrike,cobeacon", "Cobalt Strike", "", "100", "None", "CobaltStrike", "0", "abuse_ch"'
)


def test_threatfox_csv_whose_header_lost_its_comment_mark(write_file: WriteFile) -> None:
    result = parse_watchlist(write_file([TF_BANNER[-1].removeprefix("# "), TF_ROW], name="tf.csv"))
    assert (result.format, result.errors) == ("threatfox", [])
    assert [(e.threat_id, e.ip, e.port, e.line) for e in result.entries] == [
        ("threatfox:win.cobalt_strike", "198.51.100.90", 7777, 2)
    ]


def test_threatfox_full_dump_footer_is_checked(write_file: WriteFile) -> None:
    whole = parse_watchlist(write_file([*TF_BANNER, TF_ROW, "# Number of entries: 1"], name="full.csv"))
    assert (len(whole.entries), whole.errors) == (1, [])
    cut = parse_watchlist(write_file([*TF_BANNER, TF_ROW, "# Number of entries: 1217668"], name="cut.csv"))
    assert [(e.line, e.message) for e in cut.errors] == [
        (7, "footer says 1217668 entries but the file has 1 rows (truncated download?)")
    ]


# Plain lists ---------------------------------------------------------------------------------------------------

URLHAUS_TEXT_BANNER = [
    "################################################################",
    "# abuse.ch URLhaus Database Dump (TXT - online URLs)           #",
    "# Last updated: 2025-04-21 12:40:00 (UTC)                      #",
    "################################################################",
    "#",
]


def test_urlhaus_text_online(write_file: WriteFile) -> None:
    path = write_file(
        [*URLHAUS_TEXT_BANNER, "http://198.51.100.61:53417/Mozi.a", "hxxp://c2.bad[.]example/x.sh"], name="u.txt"
    )
    result = parse_watchlist(path)
    assert (result.format, result.errors, result.threat_rule) == (
        "text",
        [],
        "urlhaus:, feodo: or threatfox:unattributed by the banner, else list:<file name>",
    )
    assert [(e.threat_id, e.url, e.port, e.line) for e in result.entries] == [
        ("urlhaus:unattributed", "http://198.51.100.61:53417/Mozi.a", 53417, 6),
        ("urlhaus:unattributed", "http://c2.bad.example/x.sh", 80, 7),
    ]


def test_urlhaus_hostfile(write_file: WriteFile) -> None:
    lines = ["# abuse.ch URLhaus Host file", "127.0.0.1\tlocalhost", "127.0.0.1\tc2.bad.example"]
    lines.append("127.0.0.1 Gate.Bad.EXAMPLE")
    result = parse_watchlist(write_file(lines, name="hostfile"))
    assert [(e.threat_id, e.domain, e.port) for e in result.entries] == [
        ("urlhaus:unattributed", "c2.bad.example", 80),
        ("urlhaus:unattributed", "gate.bad.example", 80),
    ]
    assert [(e.line, e.message) for e in result.ignored] == [(2, "hostfile entry for the local host skipped")]


def test_feodo_plain_blocklist_and_its_footer(write_file: WriteFile) -> None:
    banner = ["#" * 64, "# abuse.ch Feodo Tracker Botnet C2 IP Blocklist (recommended) #", "#" * 64]
    whole = parse_watchlist(write_file([*banner, "198.51.100.10", "203.0.113.7", "# END 2 entries"], name="f.txt"))
    assert [(e.threat_id, e.ip, e.port) for e in whole.entries] == [
        ("feodo:unattributed", "198.51.100.10", 80),
        ("feodo:unattributed", "203.0.113.7", 80),
    ]
    cut = parse_watchlist(write_file([*banner, "198.51.100.10", "# END 2 entries"], name="cut.txt"))
    assert [(e.line, e.message) for e in cut.errors] == [
        (5, "footer says 2 entries but the file has 1 lines (truncated download?)")
    ]


def test_a_pasted_list_is_under_its_file_name(write_file: WriteFile) -> None:
    lines = ["198.51.100.5:8443", "[2001:db8::7]:443", "c2.bad.example:8080", "c2.bad.example", "no_such host"]
    result = parse_watchlist(write_file(lines, name="from-colleague.txt"), "text")
    assert [(e.threat_id, e.ip, e.domain, e.port) for e in result.entries] == [
        ("list:from-colleague.txt", "198.51.100.5", None, 8443),
        ("list:from-colleague.txt", "2001:db8::7", None, 443),
        ("list:from-colleague.txt", None, "c2.bad.example", 8080),
        ("list:from-colleague.txt", None, "c2.bad.example", 80),
    ]
    assert [(e.line, e.field) for e in result.errors] == [(5, "value")]


# TAXII documents saved to files --------------------------------------------------------------------------------


def test_a_saved_taxii_envelope_reads_like_a_bundle(write_file: WriteFile) -> None:
    bundle = json.loads((Path(__file__).parent / "feeds" / "stix_bundle.json").read_text())
    envelope = {"more": True, "next": "3c1be2ad-81ba-47e1-8698-0383697313b7", "objects": bundle["objects"]}
    from_bundle = parse_watchlist(Path(__file__).parent / "feeds" / "stix_bundle.json")
    from_envelope = parse_watchlist(write_file(json.dumps(envelope), name="page1.json"))
    assert from_envelope.format == "stix"
    assert from_envelope.entries == from_bundle.entries


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ({"title": "T", "default": "/api1/", "api_roots": ["/api1/"]}, "a TAXII 2.1 discovery resource"),
        ({"title": "T", "versions": ["application/taxii+json;version=2.1"], "max_content_length": 1}, "API root"),
        ({"collections": [{"id": "x", "title": "t"}]}, "a TAXII 2.1 collections resource"),
        ({"/discovery": {}, "api1": {}}, "a medallion (TAXII server) data file"),
        ({"backend": {"module_class": "MemoryBackend"}, "users": {}}, "a medallion (TAXII server) configuration"),
    ],
)
def test_taxii_resources_are_refused_with_what_they_are(
    write_file: WriteFile, document: dict[str, object], reason: str
) -> None:
    with pytest.raises(WatchlistError) as excinfo:
        parse_watchlist(write_file(json.dumps(document), name="taxii.json"))
    assert reason in str(excinfo.value) and "not a watchlist" in str(excinfo.value)
