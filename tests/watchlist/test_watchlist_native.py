"""The native c2watch CSV format."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from c2watch.errors import LineError, WatchlistError
from c2watch.models import WatchlistEntry
from c2watch.watchlist import ParseResult, parse_watchlist

WriteFile = Callable[..., Path]
FIXTURES = Path(__file__).parent / "fixtures"
HEADER = "threat_id,ip,domain,url,port,reported_on,malware_sha256,file_type,summary"
SHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


def parse_lines(write_file: WriteFile, *lines: str) -> ParseResult:
    return parse_watchlist(write_file(list(lines)), "c2watch")


def where(result: ParseResult) -> list[tuple[int, str | None]]:
    return [(error.line, error.field) for error in result.errors]


def test_good_file_with_all_fields(tmp_path: Path) -> None:
    path = tmp_path / "native.csv"
    shutil.copy(FIXTURES / "native.csv", path)
    result = parse_watchlist(path)
    assert result.format == "c2watch"
    assert result.encoding == "utf-8"
    assert result.errors == []
    assert result.entries == [
        WatchlistEntry(
            threat_id="T-0001",
            ip="192.0.2.10",
            domain="c2.evil.example",
            url="https://c2.evil.example/gate.php",
            port=443,
            reported_on=dt.date(2024, 5, 1),
            malware_hash=SHA256,
            file_type="exe",
            summary="loader beacon",
            line=3,
        ),
        WatchlistEntry(threat_id="T-0001", ip="198.51.100.7", port=8080, line=4),
        WatchlistEntry(
            threat_id="T-0002",
            url="http://evil.example/gate.php",
            port=80,
            reported_on=dt.date(2024, 5, 2),
            summary="defanged URL",
            line=5,
        ),
        WatchlistEntry(threat_id="T-0003", ip="2001:db8::c2", port=80, summary="IPv6 destination", line=6),
    ]


def test_columns_in_other_order_and_header_case_and_spaces(write_file: WriteFile) -> None:
    result = parse_lines(
        write_file,
        " Summary , URL,Threat_ID ,port",
        'beacon "v2",hxxp://evil[.]example/gate.php,T-9,',
        "with port,https://evil.example/,T-10,8443",
    )
    assert result.errors == []
    assert result.entries == [
        WatchlistEntry(threat_id="T-9", url="http://evil.example/gate.php", port=80, summary='beacon "v2"', line=2),
        WatchlistEntry(threat_id="T-10", url="https://evil.example/", port=8443, summary="with port", line=3),
    ]


def test_only_threat_id_and_one_target_column_are_required(write_file: WriteFile) -> None:
    result = parse_lines(write_file, "domain,threat_id", "c2.evil.example,T1")
    assert result.entries == [WatchlistEntry(threat_id="T1", domain="c2.evil.example", port=80, line=2)]


def test_defanged_values(write_file: WriteFile) -> None:
    result = parse_lines(
        write_file,
        "threat_id,ip,domain,url",
        "T1,198.51.100[.]7,c2[.]evil(dot)example,hxxp://evil[.]example/gate.php",
        "T2,203.0.113(.)9,,hXXps[://]evil{.}example[/]x",
    )
    assert result.errors == []
    assert [(e.ip, e.domain, e.url, e.port) for e in result.entries] == [
        ("198.51.100.7", "c2.evil.example", "http://evil.example/gate.php", 80),
        ("203.0.113.9", None, "https://evil.example/x", 443),
    ]


def test_ipv6(write_file: WriteFile) -> None:
    result = parse_lines(
        write_file,
        "threat_id,ip,url",
        "T1,2001:DB8:0:0::1,",
        "T2,,http://[2001:db8::2]:8080/gate",
        "T3,[2001:db8::3],https://[2001:0db8::3]/",
    )
    assert result.errors == []
    assert [(e.ip, e.url, e.port) for e in result.entries] == [
        ("2001:db8::1", None, 80),
        (None, "http://[2001:db8::2]:8080/gate", 8080),
        ("2001:db8::3", "https://[2001:db8::3]/", 443),
    ]


@pytest.mark.parametrize(
    ("url", "port", "expected_url", "expected_port"),
    [
        ("http://evil.example/", "", "http://evil.example/", 80),
        ("https://evil.example/", "", "https://evil.example/", 443),
        ("http://evil.example:8080/", "", "http://evil.example:8080/", 8080),
        ("https://evil.example:443/", "", "https://evil.example/", 443),
        ("https://evil.example/", "8443", "https://evil.example/", 8443),
        ("http://evil.example:8080/", "8080", "http://evil.example:8080/", 8080),
        ("", "", None, 80),
        ("", "53", None, 53),
    ],
)
def test_port_inference(
    write_file: WriteFile, url: str, port: str, expected_url: str | None, expected_port: int
) -> None:
    result = parse_lines(write_file, "threat_id,domain,url,port", f"T1,evil.example,{url},{port}")
    assert result.errors == []
    assert [(e.url, e.port) for e in result.entries] == [(expected_url, expected_port)]


def test_port_contradicting_the_url_is_a_line_error(write_file: WriteFile) -> None:
    result = parse_lines(write_file, "threat_id,url,port", "T1,http://evil.example:8080/,9090")
    assert result.entries == []
    assert result.errors == [LineError(2, "port 9090 contradicts port 8080 in the URL", "port")]


def test_blank_lines_comments_and_empty_rows_are_ignored(write_file: WriteFile) -> None:
    result = parse_lines(
        write_file, "# exported 2024-05-01", "", HEADER, "  ", "# T0,192.0.2.99", ",,,,,,,,", "T1,192.0.2.1,,,,,,,"
    )
    assert result.errors == []
    assert [(e.threat_id, e.line) for e in result.entries] == [("T1", 7)]


def test_header_only_file_has_no_entries_and_no_errors(write_file: WriteFile) -> None:
    result = parse_lines(write_file, HEADER)
    assert (result.entries, result.errors) == ([], [])


def test_exact_duplicate_rows_are_merged_keeping_the_first(write_file: WriteFile) -> None:
    result = parse_lines(
        write_file,
        "threat_id,ip,domain",
        "T1,192.0.2.1,",
        "T1,192.0.2[.]1,",
        "T1,,evil.example",
        "T2,192.0.2.1,",
    )
    assert [(e.threat_id, e.line) for e in result.entries] == [("T1", 2), ("T1", 4), ("T2", 5)]


def test_excel_trailing_empty_cells_are_tolerated(write_file: WriteFile) -> None:
    result = parse_lines(write_file, "threat_id,ip,,", "T1,192.0.2.1,,,", "T2,192.0.2.2")
    assert result.errors == []
    assert len(result.entries) == 2


# --- whole-file errors -------------------------------------------------------------------------


def whole_file_error(path: Path, fmt: str = "auto") -> WatchlistError:
    with pytest.raises(WatchlistError) as excinfo:
        parse_watchlist(path, fmt)
    return excinfo.value


def test_missing_header(write_file: WriteFile) -> None:
    path = write_file(["T1,192.0.2.1,,,,,,,", "T2,192.0.2.2,,,,,,,"])
    error = whole_file_error(path, "c2watch")
    assert error.errors == [LineError(1, error.errors[0].message)]
    assert error.errors[0].message.startswith("missing header")
    assert "cannot detect format" in str(whole_file_error(path))


def test_file_of_only_comments_has_no_header(write_file: WriteFile) -> None:
    error = whole_file_error(write_file(["# nothing here", ""]), "c2watch")
    assert "missing header" in str(error)


def test_unknown_columns_are_all_named(write_file: WriteFile) -> None:
    path = write_file(["threat_id,ip,hostname,asn", "T1,192.0.2.1,x,64496"])
    error = whole_file_error(path)
    assert [(e.line, e.field) for e in error.errors] == [(1, "hostname"), (1, "asn")]
    assert "unknown column 'hostname'" in str(error)
    assert "line 1: hostname: unknown column" in str(error)


@pytest.mark.parametrize(
    ("header", "message", "field"),
    [
        ("threat_id,port,summary", "at least one of the columns ip, domain, url", None),
        ("ip,domain,url", "required column 'threat_id'", "threat_id"),
        ("threat_id,ip,ip", "column 'ip' appears 2 times", "ip"),
        ("threat_id,,ip", "empty column name (column 2)", None),
    ],
)
def test_wrong_header(write_file: WriteFile, header: str, message: str, field: str | None) -> None:
    error = whole_file_error(write_file([header, "T1,192.0.2.1,x"]), "c2watch")
    assert len(error.errors) == 1
    assert (error.errors[0].line, error.errors[0].field) == (1, field)
    assert message in error.errors[0].message


def test_bad_csv_in_header(write_file: WriteFile) -> None:
    error = whole_file_error(write_file(['threat_id,"ip', "T1,192.0.2.1"]), "c2watch")
    assert error.errors[0].line == 1
    assert "bad CSV" in error.errors[0].message


# --- line errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cells", "field", "message"),
    [
        ("T1,192.0.2,,,,,,,", "ip", "not a valid IPv4 or IPv6 address: '192.0.2'"),
        ("T1,203.0.113.256,,,,,,,", "ip", "not a valid IPv4 or IPv6 address"),
        ("T1,evil.example,,,,,,,", "ip", "not a valid IPv4 or IPv6 address"),
        ("T1,,192.0.2.1,,,,,,", "domain", "an IP address is not a domain name"),
        ("T1,,evil,,,,,,", "domain", "at least two labels"),
        ("T1,,,ftp://evil.example/,,,,,", "url", "http:// or https://"),
        ("T1,,,http://evil.example:99999/,,,,,", "url", "out of range"),
        ("T1,192.0.2.1,,,0,,,,", "port", "port 0 is out of range 1..65535"),
        ("T1,192.0.2.1,,,70000,,,,", "port", "port 70000 is out of range 1..65535"),
        ("T1,192.0.2.1,,,abc,,,,", "port", "port must be a number in 1..65535, not 'abc'"),
        ("T1,192.0.2.1,,,,2024-02-30,,,", "reported_on", "not a valid date"),
        ("T1,192.0.2.1,,,,01.05.2024,,,", "reported_on", "date must be YYYY-MM-DD"),
        ("T1,192.0.2.1,,,,,d41d8cd98f00b204e9800998ecf8427e,,", "malware_sha256", "sha256 digest"),
        ("T1,192.0.2.1,,,,,zz,,", "malware_sha256", "sha256 digest"),
        (",192.0.2.1,,,,,,,", "threat_id", "threat id is empty"),
        ("T1,,,,443,2024-05-01,,,", None, "row has none of ip, domain, url"),
    ],
)
def test_bad_field_names_line_and_field(write_file: WriteFile, cells: str, field: str | None, message: str) -> None:
    result = parse_lines(write_file, HEADER, "T0,192.0.2.1,,,,,,,", cells)
    assert [e.threat_id for e in result.entries] == ["T0"]
    assert [(e.line, e.field) for e in result.errors] == [(3, field)]
    assert message in result.errors[0].message
    assert str(result.errors[0]).startswith(f"line 3: {field + ': ' if field else ''}")


def test_every_bad_field_of_a_row_is_reported(write_file: WriteFile) -> None:
    result = parse_lines(write_file, HEADER, " ,192.0.2,evil,ftp://x.example,0,2024-13-01,abc,,")
    assert result.entries == []
    assert where(result) == [
        (2, "threat_id"),
        (2, "ip"),
        (2, "domain"),
        (2, "url"),
        (2, "port"),
        (2, "reported_on"),
        (2, "malware_sha256"),
    ]


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        ("T1,192.0.2.1,,,", "expected 9 fields, found 5"),
        ("T1,192.0.2.1,,,,,,,,extra", "expected 9 fields, found 10"),
        ('T1,"192.0.2.1,,,,,,,', "bad CSV"),
        ('T1,"192.0.2.1"x,,,,,,,', "bad CSV"),
    ],
)
def test_malformed_rows(write_file: WriteFile, cells: str, message: str) -> None:
    result = parse_lines(write_file, HEADER, cells, "T2,192.0.2.2,,,,,,,")
    assert [e.threat_id for e in result.entries] == ["T2"]
    assert where(result) == [(2, None)]
    assert message in result.errors[0].message


def test_all_bad_lines_are_listed_and_good_entries_kept(write_file: WriteFile) -> None:
    result = parse_lines(
        write_file,
        HEADER,
        "T1,192.0.2.1,,,,,,,",
        "T2,192.0.2.999,,,,,,,",
        "T3,,c2.evil.example,,,,,,",
        "T4,192.0.2.4,,,70000,,,,",
        "",
        "T5,,,hxxps://evil[.]example/,,,,,",
        "T6,,,,,,,,only a summary",
        "T7,2001:db8::7,,,,,,,",
    )
    assert [e.threat_id for e in result.entries] == ["T1", "T3", "T5", "T7"]
    assert where(result) == [(3, "ip"), (5, "port"), (8, None)]
