"""Format registry, detection, and robustness of parse_watchlist against arbitrary input."""

from __future__ import annotations

import string
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from c2watch.errors import WatchlistError
from c2watch.watchlist import FORMATS, ParseResult, parse_watchlist
from c2watch.watchlist.decode import decode_bytes
from c2watch.watchlist.formats import detect

WriteFile = Callable[..., Path]
NATIVE = "threat_id,ip,domain,url,port,reported_on,malware_sha256,file_type,summary"
LEMON = "1,,#uid,#ip,#domain,#url,#port,#date,#report-date,#note,#hash,#file type"
FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def test_registry() -> None:
    assert set(FORMATS) == {"c2watch", "c2lemon", "urlhaus", "threatfox", "feodo", "stix", "misp", "text"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"{NATIVE}\n", "c2watch"),
        ("# comment\n\nip, THREAT_ID \n", "c2watch"),
        (f"{LEMON}\n", "c2lemon"),
        ("5,,#UID,whatever\n", "c2lemon"),
    ],
)
def test_detect(text: str, expected: str) -> None:
    assert detect(decode_bytes(text.encode()).lines) == expected


@pytest.mark.parametrize("text", ["ip,domain\n", "T1,192.0.2.1\n", '"unterminated\n', "# only a comment\n"])
def test_detect_failure_names_both_headers(write_file: WriteFile, text: str) -> None:
    with pytest.raises(WatchlistError, match="cannot detect format; header must start with '1,,#uid'") as excinfo:
        parse_watchlist(write_file(text))
    assert "contain a 'threat_id' column" in str(excinfo.value)


def test_unknown_format_name(write_file: WriteFile) -> None:
    with pytest.raises(WatchlistError, match="unknown format 'openioc'; known formats: auto, c2lemon, c2watch"):
        parse_watchlist(write_file(f"{NATIVE}\n"), "openioc")


def test_path_may_be_a_string(write_file: WriteFile) -> None:
    result = parse_watchlist(str(write_file([NATIVE, "T1,192.0.2.1,,,,,,,"])))
    assert isinstance(result, ParseResult)
    assert len(result.entries) == 1


def check_parse(path: Path) -> None:
    """parse_watchlist either returns a consistent result or raises WatchlistError, nothing else."""
    try:
        result = parse_watchlist(path)
    except WatchlistError as exc:
        assert exc.errors
        return
    assert result.format in FORMATS
    assert [e.line for e in result.errors] == sorted(e.line for e in result.errors)
    for entry in result.entries:
        assert entry.threat_id
        assert entry.ip or entry.domain or entry.url
        assert entry.port is not None and 1 <= entry.port <= 65535


@FAST
@given(data=st.binary(max_size=400))
def test_arbitrary_bytes_never_crash(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "fuzz.csv"
    path.write_bytes(data)
    check_parse(path)


cell = st.one_of(
    st.text(max_size=20),
    st.text(alphabet=string.ascii_letters + string.digits + '.:/[]()"#,- ', max_size=30),
    st.sampled_from(["192.0.2.1", "2001:db8::1", "evil.example", "hxxp://evil[.]example/", "443", "2024/5/1"]),
)
row = st.lists(cell, min_size=0, max_size=13).map(",".join)


@FAST
@given(
    header=st.sampled_from([NATIVE, LEMON, "threat_id,url,port", "threat_id,ip,bogus", ""]),
    rows=st.lists(row, max_size=8),
    newline=st.sampled_from(["\n", "\r\n", "\r"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp932"]),
)
def test_arbitrary_rows_never_crash(tmp_path: Path, header: str, rows: list[str], newline: str, encoding: str) -> None:
    text = newline.join([header, *rows])
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        data = text.encode("utf-8")
    path = tmp_path / "fuzz.csv"
    path.write_bytes(data)
    check_parse(path)
