"""The c2lemon prototype CSV format."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from c2watch.errors import WatchlistError
from c2watch.models import WatchlistEntry
from c2watch.watchlist import parse_watchlist

WriteFile = Callable[..., Path]
FIXTURES = Path(__file__).parent / "fixtures"
HEADER = "1,,#uid,#ip,#domain,#url,#port,#date,#report-date,#note,#hash,#file type"


def test_good_file(tmp_path: Path) -> None:
    path = tmp_path / "lemon.csv"
    shutil.copy(FIXTURES / "c2lemon.csv", path)
    result = parse_watchlist(path)
    assert (result.format, result.encoding, result.errors) == ("c2lemon", "utf-8", [])
    assert result.entries == [
        WatchlistEntry(
            threat_id="L-100",
            ip="203.0.113.5",
            port=8443,
            reported_on=dt.date(2024, 4, 3),
            malware_hash="d41d8cd98f00b204e9800998ecf8427e",
            file_type="dll",
            summary="RAT panel",
            source_ref="2",
            line=2,
        ),
        WatchlistEntry(
            threat_id="L-101",
            domain="c2.lemon.example",
            port=80,
            reported_on=dt.date(2024, 4, 2),
            summary="first seen only",
            source_ref="3",
            line=3,
        ),
        WatchlistEntry(
            threat_id="L-102",
            url="https://lemon.example:8443/api",
            port=8443,
            malware_hash="da39a3ee5e6b4b0d3255bfef95601890afd80709",
            source_ref="4",
            line=4,
        ),
    ]


def test_explicit_format_and_sha256_hash(write_file: WriteFile) -> None:
    sha256 = "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"
    path = write_file([HEADER, f"2,,L1,192.0.2.1,,,,,,,{sha256},"])
    result = parse_watchlist(path, "c2lemon")
    assert result.errors == []
    assert result.entries[0].malware_hash == sha256.lower()


def test_shift_jis_note(write_file: WriteFile) -> None:
    path = write_file([HEADER, "2,,L1,192.0.2.1,,,,2024/4/1,,日本語のメモ,,exe"], encoding="cp932", newline="\r\n")
    result = parse_watchlist(path)
    assert (result.format, result.encoding) == ("c2lemon", "cp932")
    assert result.entries[0].summary == "日本語のメモ"
    assert result.entries[0].reported_on == dt.date(2024, 4, 1)


def test_bad_rows_name_line_and_column(write_file: WriteFile) -> None:
    path = write_file(
        [
            HEADER,
            "2,,L1,192.0.2.1,,,,,,,,",
            "3,,L2,192.0.2.300,,,,,,,,",
            "4,,L3,,,,8080,2024/02/30,,,,",
            "5,,L4,192.0.2.4,,,0,,,,abcd,",
            "6,,L5,192.0.2.5,,,",
            "7,,,192.0.2.7,,,,,,,,",
        ]
    )
    result = parse_watchlist(path)
    assert [e.threat_id for e in result.entries] == ["L1"]
    assert [(e.line, e.field) for e in result.errors] == [
        (3, "#ip"),
        (4, None),
        (4, "#date"),
        (5, "#port"),
        (5, "#hash"),
        (6, None),
    ]
    assert [(e.line, e.field) for e in result.ignored] == [(7, "#uid")]
    assert result.errors[1].message == "row has none of #ip, #domain, #url"
    assert "md5/sha1/sha256" in result.errors[4].message
    assert "expected 12 fields, found 7" in result.errors[5].message


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        ("1,,#uid,#ip,#domain,#url,#port,#date,#report-date,#note,#hash", "11 columns instead of 12"),
        ("1,x,#uid,#ip,#domain,#url,#port,#date,#report-date,#note,#hash,#file type", "column 2 must be empty"),
        ("1,,#uid,#addr,#domain,#url,#port,#date,#report-date,#note,#hash,#file type", "column 4 is '#addr'"),
    ],
)
def test_wrong_header(write_file: WriteFile, header: str, problem: str) -> None:
    path = write_file([header, "2,,L1,192.0.2.1,,,,,,,,"])
    with pytest.raises(WatchlistError) as excinfo:
        parse_watchlist(path)
    [error] = excinfo.value.errors
    assert error.line == 1
    assert error.message.startswith(f"wrong header: {problem}")


def test_native_file_read_as_c2lemon_is_a_wrong_header(write_file: WriteFile) -> None:
    path = write_file(["threat_id,ip", "T1,192.0.2.1"])
    with pytest.raises(WatchlistError, match="wrong header"):
        parse_watchlist(path, "c2lemon")


def test_prototype_conventions(tmp_path: Path) -> None:
    """A list in the prototype's own layout (like the seed authors' real c2.isl.tdu.csv) imports as it did."""
    path = tmp_path / "c2.csv"
    shutil.copy(FIXTURES / "c2lemon_prototype.csv", path)
    result = parse_watchlist(path)
    assert (result.errors, result.ignored) == ([], [])
    found = [(e.line, e.threat_id, e.ip, e.domain, e.url, e.port) for e in result.entries]
    assert found == [
        (2, "tdu-20240901-01-00", "198.51.100.92", None, "http://lemon-a.example/cgi-bin/x1/", 80),
        (3, "EW-APT-202410-A", "203.0.113.9", None, None, 80),
        (3, "EW-APT-202410-A", "203.0.113.9", None, None, 443),
        (4, "EW-APT-202410-A", "203.0.113.10", "update-lemon.example", None, 80),
        (4, "EW-APT-202410-A", "203.0.113.10", "update-lemon.example", None, 443),
        (5, "EW-APT-202410-B", "203.0.113.11", None, None, 443),
        (6, "EW-APT-202410-C", None, None, "https://lemon-c.example/polo", 443),
        (7, "LEMON-NOSCHEME", "198.51.100.46", "lemon-d.example", "http://lemon-d.example", 80),
        (8, "LEMON-NOSCHEME", "198.51.100.47", None, "https://lemon-e.example/login", 443),
    ]
    assert [e.source_ref for e in result.entries[1:3]] == ["3", "3"]
    assert result.entries[5].malware_hash == "19606a29a7ac0b7d34011a4775720432028007da1cb67c02b7d63f5cfb06bdf9"
    assert result.entries[8].malware_hash == "ad4b4128b5f901a089e5c1f7ab866e73"
    assert result.entries[6].summary is not None and result.entries[6].summary.startswith("正規のWebサイト")


def test_port_list_errors_once_per_row(write_file: WriteFile) -> None:
    path = write_file([HEADER, '2,,L1,192.0.2.300,,,"80,0",,,,,', '3,,L2,192.0.2.3,,,"8080; 8443",,,,,'])
    result = parse_watchlist(path)
    assert [(e.line, e.field) for e in result.errors] == [(2, "#ip"), (2, "#port")]
    assert [(e.threat_id, e.port) for e in result.entries] == [("L2", 8080), ("L2", 8443)]


def test_hash_json_that_is_not_hashes_is_a_row_error(write_file: WriteFile) -> None:
    path = write_file([HEADER, '2,,L1,192.0.2.1,,,,,,,"[{""md5"": ""xyz""}]",', '3,,L2,192.0.2.2,,,,,,,"[1,",'])
    result = parse_watchlist(path)
    assert [(e.line, e.field) for e in result.errors] == [(2, "#hash"), (3, "#hash")]


def test_row_without_uid_but_with_values_is_reported_as_ignored(write_file: WriteFile) -> None:
    path = write_file([HEADER, "2,,L1,192.0.2.1,,,,,,,,", "3,,,192.0.2.7,,,,,,,,", "4,,,,,,,,,,,"])
    result = parse_watchlist(path)
    assert [e.threat_id for e in result.entries] == ["L1"]
    assert [(e.line, e.field, e.message) for e in result.ignored] == [
        (3, "#uid", "row without #uid skipped (the prototype skips such rows)")
    ]
