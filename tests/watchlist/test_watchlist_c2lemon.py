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
        (7, "#uid"),
    ]
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
