"""decode.py: encodings, line ends, empty/binary files, too-long lines."""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

from c2watch.errors import LineError, WatchlistError
from c2watch.watchlist import parse_watchlist
from c2watch.watchlist.decode import MAX_LINE_CHARS, SourceLine, decode_bytes, read_text

WriteFile = Callable[..., Path]
HEADER = "threat_id,ip,domain,url,port,reported_on,malware_sha256,file_type,summary"


def file_error(excinfo: pytest.ExceptionInfo[WatchlistError]) -> LineError:
    assert len(excinfo.value.errors) == 1
    return excinfo.value.errors[0]


def test_line_ends_lf_crlf_cr_are_all_line_ends() -> None:
    decoded = decode_bytes(b"a\nb\r\nc\rd")
    assert decoded.lines == [SourceLine(1, "a"), SourceLine(2, "b"), SourceLine(3, "c"), SourceLine(4, "d")]
    assert decoded.encoding == "utf-8"
    assert decoded.errors == []


def test_other_unicode_line_breaks_do_not_split_lines() -> None:
    decoded = decode_bytes("a\u2028b\x0cc\nd".encode())
    assert [line.number for line in decoded.lines] == [1, 2]


@pytest.mark.parametrize("data", [b"", b" \n\t\r\n  ", b"\xef\xbb\xbf", b"\xef\xbb\xbf\n \n"])
def test_empty_file(write_file: WriteFile, data: bytes) -> None:
    path = write_file(data)
    with pytest.raises(WatchlistError, match="empty file") as excinfo:
        parse_watchlist(path)
    assert excinfo.value.path == path


def test_binary_file_names_line_of_first_nul(write_file: WriteFile) -> None:
    path = write_file(b"threat_id,ip\r\nT1,192.0.2.1\r\nT2,\x00\x01\x02\nT3\x00")
    with pytest.raises(WatchlistError, match="binary") as excinfo:
        parse_watchlist(path)
    assert file_error(excinfo).line == 3


def test_utf16_file_is_binary(write_file: WriteFile) -> None:
    path = write_file(f"{HEADER}\nT1,192.0.2.1,,,,,,,\n".encode("utf-16"))
    with pytest.raises(WatchlistError, match="binary"):
        parse_watchlist(path)


@pytest.mark.parametrize(
    "bad",
    [
        b"\x85\x40",  # invalid in UTF-8 and an unassigned double byte in cp932
        b"\xff\xfe",  # cp932 decodes these to private-use characters: not Shift_JIS text
        "café".encode("latin-1"),  # a lone cp932 lead byte at the end of the line
    ],
)
def test_undecodable_file_names_the_line(write_file: WriteFile, bad: bytes) -> None:
    path = write_file(f"{HEADER}\nT1,192.0.2.1,,,,,,,ok\n".encode() + b"T2,192.0.2.2,,,,,,," + bad + b"\n")
    with pytest.raises(WatchlistError, match=r"not utf-8 or cp932 text \(undecodable byte 0x") as excinfo:
        parse_watchlist(path)
    assert file_error(excinfo).line == 3


def test_missing_file_is_a_watchlist_error(tmp_path: Path) -> None:
    with pytest.raises(WatchlistError, match="cannot read file"):
        read_text(tmp_path / "absent.csv")


def test_utf8_bom_is_stripped_and_header_recognised(write_file: WriteFile) -> None:
    path = write_file(f"\ufeff{HEADER}\nT1,192.0.2.1,,,,,,,\n")
    result = parse_watchlist(path)
    assert result.format == "c2watch"
    assert result.encoding == "utf-8-sig"
    assert [entry.ip for entry in result.entries] == ["192.0.2.1"]
    assert result.errors == []


def test_shift_jis_file_with_japanese_summary(write_file: WriteFile) -> None:
    summary = "遠隔操作型マルウェアの指令サーバ（確認済み）"
    path = write_file([HEADER, f"T-日本,192.0.2.44,,,,2024/05/01,,exe,{summary}"], encoding="cp932", newline="\r\n")
    result = parse_watchlist(path)
    assert result.encoding == "cp932"
    assert result.errors == []
    [entry] = result.entries
    assert entry.threat_id == "T-日本"
    assert entry.summary == summary
    assert entry.line == 2


def test_utf8_japanese_is_not_mistaken_for_shift_jis(write_file: WriteFile) -> None:
    path = write_file([HEADER, "T1,192.0.2.44,,,,,,,指令サーバ"])
    result = parse_watchlist(path)
    assert result.encoding == "utf-8"
    assert result.entries[0].summary == "指令サーバ"


def test_crlf_and_cr_line_ends_are_accepted(write_file: WriteFile) -> None:
    for newline in ("\r\n", "\r"):
        path = write_file([HEADER, "T1,192.0.2.1,,,,,,,", "", "T2,192.0.2.2,,,,,,,"], newline=newline)
        result = parse_watchlist(path)
        assert result.errors == []
        assert [(entry.threat_id, entry.line) for entry in result.entries] == [("T1", 2), ("T2", 4)]


def test_line_at_the_limit_is_accepted() -> None:
    decoded = decode_bytes(b"x" * MAX_LINE_CHARS)
    assert decoded.errors == []


def test_limit_counts_characters_not_bytes() -> None:
    decoded = decode_bytes(("日" * MAX_LINE_CHARS).encode())
    assert decoded.errors == []
    decoded = decode_bytes(("日" * (MAX_LINE_CHARS + 1)).encode())
    assert decoded.errors == [LineError(1, f"line too long (65537 characters, limit {MAX_LINE_CHARS})")]


def test_ten_megabyte_line_is_a_line_error_and_other_lines_still_parse(write_file: WriteFile) -> None:
    huge = "T9,192.0.2.9,,,,,,," + "A" * 10_000_000
    path = write_file([HEADER, "T1,192.0.2.1,,,,,,,", huge, "T2,192.0.2.2,,,,,,,", "T3,192.0.2.300,,,,,,,"])
    tracemalloc.start()
    started = time.perf_counter()
    try:
        result = parse_watchlist(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - started < 5
    assert peak < 5 * path.stat().st_size
    assert [entry.threat_id for entry in result.entries] == ["T1", "T2"]
    assert [(error.line, error.field) for error in result.errors] == [(3, None), (5, "ip")]
    assert result.errors[0].message == f"line too long ({len(huge)} characters, limit 65536)"


def test_too_long_header_makes_the_file_unusable(write_file: WriteFile) -> None:
    path = write_file(["# comment", HEADER + ",x" * MAX_LINE_CHARS, "T1,192.0.2.1,,,,,,,"])
    with pytest.raises(WatchlistError, match="line too long") as excinfo:
        parse_watchlist(path)
    assert file_error(excinfo).line == 2
