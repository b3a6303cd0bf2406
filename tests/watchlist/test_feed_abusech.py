"""URLhaus, ThreatFox and Feodo Tracker exports: fixtures as abuse.ch writes them, and what breaks them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from c2watch.errors import WatchlistError
from c2watch.models import WatchlistEntry
from c2watch.watchlist import DUPLICATE, ParseResult, parse_watchlist, threatfox
from c2watch.watchlist.families import family_of
from c2watch.watchlist.feed import FeedError, Ignored
from c2watch.watchlist.threatfox import split_host_port

WriteFile = Callable[..., Path]
FEEDS = Path(__file__).parent / "feeds"
URLHAUS_HEADER = "# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter"
THREATFOX_HEADER = (
    '# "first_seen_utc","ioc_id","ioc_value","ioc_type","threat_type","fk_malware","malware_alias",'
    '"malware_printable","last_seen_utc","confidence_level","reference","tags","anonymous","reporter"'
)
FEODO_HEADER = '"first_seen_utc","dst_ip","dst_port","c2_status","last_online","malware"'


def targets(result: ParseResult) -> list[tuple[str, str | None, str | None, str | None, int | None]]:
    return [(e.threat_id, e.ip, e.domain, e.url, e.port) for e in result.entries]


def by_ref(entries: list[WatchlistEntry]) -> dict[str | None, WatchlistEntry]:
    return {entry.source_ref: entry for entry in entries}


# URLhaus -------------------------------------------------------------------------------------------------------


def test_urlhaus_fixture() -> None:
    result = parse_watchlist(FEEDS / "urlhaus.csv")
    assert (result.format, result.errors) == ("urlhaus", [])
    assert [(err.line, err.message) for err in result.ignored] == [(15, DUPLICATE)]  # 2766166 repeats 2766173
    assert result.threat_rule.startswith("urlhaus:<first tag that names a malware family>")
    refs = by_ref(result.entries)
    assert (refs["2766173"].threat_id, refs["2766173"].url, refs["2766173"].port) == (
        "urlhaus:mozi",
        "http://198.51.100.7:42715/i",
        42715,
    )
    assert refs["2766173"].reported_on is not None and refs["2766173"].reported_on.isoformat() == "2024-03-01"
    assert refs["2766170"].url == "https://panel.bad.example/gate/x.exe"  # host lower-cased, offline kept
    assert refs["2766170"].threat_id == "urlhaus:redlinestealer"
    assert refs["2766169"].url == "http://loader.bad.example/a.php?id=1,2"  # refanged, quoted comma kept
    assert refs["2766169"].threat_id == "urlhaus:emotet"  # 'doc' is a file type, not a family
    assert refs["2766168"].url == "http://[2001:db8::5]:8080/bins/x86"
    assert refs["2766167"].threat_id == "urlhaus:unattributed"  # tags 'None'
    assert refs["2766168"].threat_id == "urlhaus:mozi"
    assert refs["2766170"].summary == "URLhaus malware_download; tags: exe,RedLineStealer"


def test_urlhaus_generic_tags_are_not_families() -> None:
    """Real dumps sort tags alphabetically and carry scanner names, sites, numbers and addresses as tags."""
    result = parse_watchlist(FEEDS / "urlhaus_tags.csv")
    assert (result.errors, result.ignored) == ([], [])
    assert {e.source_ref: e.threat_id for e in result.entries} == {
        "3520601": "urlhaus:mozi",  # after 32-bit, censys, elf
        "3520602": "urlhaus:unattributed",  # github, opendir
        "3520603": "urlhaus:unattributed",  # 32, backdoor, elf
        "3520604": "urlhaus:mirai",  # 198-51-100-212, c2-monitor-auto, mirai
        "3520605": "urlhaus:emotet",  # heodo is an alias
        "3520606": "urlhaus:darkvisionrat",  # not listed, but named like a RAT
        "3520607": "urlhaus:xmrig",  # dotted: the last part
        "3520608": "urlhaus:cobaltstrike",  # CobaltStrike
        "3520609": "urlhaus:unattributed",  # multirat is a kind, dropped-by-amadey a delivery
        "3520610": "urlhaus:unattributed",  # 10pluspositivesinVT
    }


@pytest.mark.parametrize(
    ("tag", "family"),
    [
        ("Mozi", "mozi"),
        ("cobalt_strike", "cobaltstrike"),
        ("Cobalt Strike", "cobaltstrike"),
        ("RemcosRAT", "remcos"),
        ("PhemedroneStealer", "phemedronestealer"),
        ("CoinMiner.XMRig", "xmrig"),
        ("censys", None),
        ("github", None),
        ("198-51-100-212", None),
        ("c2-monitor-auto", None),
        ("32", None),
        ("backdoor", None),
        ("base64-loader", None),
        ("rat", None),
        ("", None),
    ],
)
def test_family_of(tag: str, family: str | None) -> None:
    assert family_of(tag) == family


def test_urlhaus_old_dump_without_last_online() -> None:
    result = parse_watchlist(FEEDS / "urlhaus_old.csv", "urlhaus")
    assert result.errors == []
    assert targets(result) == [
        ("urlhaus:unattributed", None, None, "http://198.51.100.20/bins/mips", 80),
        ("urlhaus:gafgyt", None, None, "http://c2.old.example/x", 80),
    ]


def test_urlhaus_bad_rows_are_reported_by_line(write_file: WriteFile) -> None:
    path = write_file(
        [
            "# banner",
            URLHAUS_HEADER,
            '"1","2024-03-01 10:00:00","ftp://198.51.100.7/x","online","","malware_download","Mozi","l","r"',
            '"2","2024-13-01 10:00:00","http://198.51.100.7/x","online","","malware_download","Mozi","l","r"',
            '"3","2024-03-01 10:00:00","http://198.51.100.7/x","online"',
            '"4","2024-03-01 10:00:00","http://198.51.100.7/x"x,"online","","t","Mozi","l","r"',
            '"5","2024-03-01 10:00:00","http://198.51.100.8/ok","online","","malware_download","Mozi","l","r"',
        ]
    )
    result = parse_watchlist(path)
    assert [str(err) for err in result.errors] == [
        "line 3: url: URL must start with http:// or https://: 'ftp://198.51.100.7/x'",
        "line 4: dateadded: not a valid time: '2024-13-01 10:00:00'",
        "line 5: expected 9 fields, found 4",
        "line 6: bad CSV: ',' expected after '\"'",
    ]
    assert [e.source_ref for e in result.entries] == ["5"]


def test_urlhaus_without_header_comment(write_file: WriteFile) -> None:
    path = write_file(['"1","2024-03-01 10:00:00","http://198.51.100.7/x"'])
    with pytest.raises(WatchlistError, match="line 1: missing URLhaus column comment"):
        parse_watchlist(path, "urlhaus")


# ThreatFox -----------------------------------------------------------------------------------------------------


def test_threatfox_csv_fixture() -> None:
    result = parse_watchlist(FEEDS / "threatfox.csv")
    assert (result.format, result.errors) == ("threatfox", [])
    assert targets(result) == [
        ("threatfox:win.qakbot", "198.51.100.10", None, None, 443),
        ("threatfox:win.cobalt_strike", "2001:db8::10", None, None, 8443),
        ("threatfox:win.cobalt_strike", None, "c2-panel.bad.example", None, 80),
        ("threatfox:win.lumma", None, None, "https://gate.bad.example/api/v2", 443),
    ]
    assert [e.source_ref for e in result.entries] == ["1301611", "1301610", "1301609", "1301608"]
    assert [(err.line, err.message) for err in result.ignored] == [
        (13, "sha256_hash IOC skipped: a file hash, not a network destination"),
        (14, "md5_hash IOC skipped: a file hash, not a network destination"),
    ]
    assert all(isinstance(err, Ignored) for err in result.ignored)


def test_threatfox_json_export_gives_the_same_entries_as_the_csv() -> None:
    csv_result = parse_watchlist(FEEDS / "threatfox.csv")
    json_result = parse_watchlist(FEEDS / "threatfox.json")
    assert json_result.format == "threatfox"
    strip = [(e.threat_id, e.key, e.reported_on, e.summary, e.source_ref) for e in csv_result.entries]
    assert [(e.threat_id, e.key, e.reported_on, e.summary, e.source_ref) for e in json_result.entries] == strip
    assert [str(err) for err in json_result.ignored] == [
        '$["1301607"][0]: sha256_hash IOC skipped: a file hash, not a network destination'
    ]


def test_threatfox_api_answer(write_file: WriteFile) -> None:
    path = write_file(
        '{"query_status": "ok", "data": [{"id": "41", "ioc": "198.51.100.41:8080", "ioc_type": "ip:port",'
        ' "threat_type": "botnet_cc", "malware": "win.remcos", "malware_printable": "Remcos",'
        ' "first_seen": "2024-02-01 10:00:00 UTC", "confidence_level": 50, "tags": ["RAT", "remcos"]}]}',
        name="api.json",
    )
    result = parse_watchlist(path)
    assert targets(result) == [("threatfox:win.remcos", "198.51.100.41", None, None, 8080)]
    assert result.entries[0].summary == "Remcos; botnet_cc; confidence 50%; tags: RAT,remcos"


def test_threatfox_bad_rows(write_file: WriteFile) -> None:
    row = (
        '"2024-03-01 11:55:04", "{id}", "{value}", "{kind}", "botnet_cc", "win.x", "None", "X", "", "75",'
        ' "None", "", "0", "r"'
    )
    path = write_file(
        [
            THREATFOX_HEADER,
            row.format(id=1, value="198.51.100.1", kind="ip:port"),
            row.format(id=2, value="198.51.100.1:99999", kind="ip:port"),
            row.format(id=3, value="not a domain", kind="domain"),
            row.format(id=4, value="c2@bad.example", kind="email"),
            row.format(id=5, value="198.51.100.5:443", kind="ip:port"),
        ]
    )
    result = parse_watchlist(path)
    assert [str(err) for err in result.errors] == [
        "line 2: ioc_value: an ip:port IOC needs a port",
        "line 3: ioc_value: port 99999 is out of range 1..65535",
        "line 4: ioc_value: domain name needs at least two labels: 'not a domain'",
    ]
    assert [str(err) for err in result.ignored] == [
        "line 5: email IOC skipped: c2watch watches ip:port, domain and url IOCs"
    ]
    assert targets(result) == [("threatfox:win.x", "198.51.100.5", None, None, 443)]


def test_threatfox_json_errors_name_their_path(write_file: WriteFile) -> None:
    path = write_file(
        '{"7": [{"ioc_value": "198.51.100.7", "ioc_type": "ip:port", "malware": "win.x"}],'
        ' "8": "not a list", "9": [42, {"ioc_value": "c2.bad.example", "ioc_type": "domain"}]}',
        name="tf.json",
    )
    result = parse_watchlist(path, "threatfox")
    assert [str(err) for err in result.errors] == [
        '$["7"][0]: ioc_value: an ip:port IOC needs a port',
        '$["8"]: expected a list of IOC records',
        '$["9"][0]: expected an IOC record (a JSON object)',
        '$["9"][1]: fk_malware: threat id is empty',
    ]
    assert all(isinstance(err, FeedError) for err in result.errors)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("198.51.100.7:443", ("198.51.100.7", "443")),
        ("[2001:db8::7]:443", ("2001:db8::7", "443")),
        ("2001:db8::7:443", ("2001:db8::7", "443")),
        ("2001:db8::7", ("2001:db8::7", "")),
        ("198.51.100.7", ("198.51.100.7", "")),
        (":443", ("", "443")),
    ],
)
def test_split_host_port(value: str, expected: tuple[str, str]) -> None:
    assert split_host_port(value) == expected


# Feodo Tracker -------------------------------------------------------------------------------------------------


def test_feodo_csv_and_json_fixtures_agree() -> None:
    from_csv = parse_watchlist(FEEDS / "feodo.csv")
    from_json = parse_watchlist(FEEDS / "feodo.json")
    assert (from_csv.format, from_json.format, from_csv.errors, from_json.errors) == ("feodo", "feodo", [], [])
    expected = [
        ("feodo:qakbot", "198.51.100.10", None, None, 443),
        ("feodo:emotet", "203.0.113.44", None, None, 8080),
        ("feodo:pikabot", "2001:db8::44", None, None, 443),
    ]
    assert targets(from_csv) == targets(from_json) == expected  # the repeated CSV row is dropped
    assert [e.source_ref for e in from_csv.entries] == ["198.51.100.10:443", "203.0.113.44:8080", "[2001:db8::44]:443"]
    assert from_csv.entries == [e.__class__(**{**e.__dict__, "line": 9 + i}) for i, e in enumerate(from_json.entries)]


def test_feodo_truncated_download_is_an_error(write_file: WriteFile) -> None:
    path = write_file(
        ["# banner", FEODO_HEADER, '"2024-01-01 00:00:00","198.51.100.1","443","online","","QakBot"', "# END 2 entries"]
    )
    result = parse_watchlist(path)
    assert [str(err) for err in result.errors] == [
        "line 4: footer says 2 entries but the file has 1 rows (truncated download?)"
    ]


def test_feodo_bad_rows(write_file: WriteFile) -> None:
    path = write_file(
        [
            FEODO_HEADER.replace('"', ""),
            "2024-01-01 00:00:00,198.51.100.300,443,online,2024-01-02,QakBot",
            "2024-01-01 00:00:00,198.51.100.3,0,online,2024-01-02,QakBot",
            "2024-01-01,198.51.100.4,443,online,2024-01-02,",
            "yesterday,198.51.100.5,443,online,2024-01-02,Dridex",
        ]
    )
    result = parse_watchlist(path)
    assert [str(err) for err in result.errors] == [
        "line 2: dst_ip: not a valid IPv4 or IPv6 address: '198.51.100.300'",
        "line 3: dst_port: port 0 is out of range 1..65535",
        "line 4: malware: threat id is empty",
        "line 5: first_seen_utc: time must be YYYY-MM-DD[ HH:MM:SS], not 'yesterday'",
    ]


def test_feodo_json_errors(write_file: WriteFile) -> None:
    path = write_file('[{"ip_address": "198.51.100.1", "port": "x", "malware": "QakBot"}, 5]', name="f.json")
    result = parse_watchlist(path)
    assert [str(err) for err in result.errors] == [
        "$[0]: dst_port: port must be a number in 1..65535, not 'x'",
        "$[1]: expected a blocklist record (a JSON object)",
    ]


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ({"fk_malware": "win.cobalt_strike", "malware_printable": "Cobalt Strike"}, "threatfox:win.cobalt_strike"),
        ({"fk_malware": "unknown", "malware_printable": "Unknown malware"}, "threatfox:unattributed"),
        ({"fk_malware": "None", "malware_printable": "Unknown malware"}, "threatfox:unattributed"),
        ({"fk_malware": "", "malware_printable": "QakBot"}, "threatfox:qakbot"),
    ],
)
def test_threatfox_threat_id(row: dict[str, str], expected: str) -> None:
    assert threatfox.threat_id(row) == expected
