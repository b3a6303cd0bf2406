"""refang() and the normalise_* functions: examples and properties."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from c2watch.watchlist.refang import (
    normalize_date,
    normalize_domain,
    normalize_hash,
    normalize_ip,
    normalize_port,
    normalize_url,
    refang,
    url_explicit_port,
)

FAST = settings(max_examples=200, deadline=None)


@pytest.mark.parametrize(
    ("defanged", "expected"),
    [
        ("hxxp://evil[.]example/gate.php", "http://evil.example/gate.php"),
        ("hxxps://evil[.]example", "https://evil.example"),
        ("hXXp://evil(.)example", "http://evil.example"),
        ("HXXPS://evil{.}example", "https://evil.example"),
        ("fxp://files[.]example", "ftp://files.example"),
        ("evil[dot]example", "evil.example"),
        ("evil(dot)example", "evil.example"),
        ("evil [.] example", "evil.example"),
        ("http[://]evil.example[/]x", "http://evil.example/x"),
        ("hxxp[:]//evil.example", "http://evil.example"),
        ("user[@]evil.example", "user@evil.example"),
        ("198.51.100[.]7", "198.51.100.7"),
        ("2001:db8[:]:1", "2001:db8::1"),
        ("  192.0.2.1\t", "192.0.2.1"),
        ("evil.example", "evil.example"),
        ("hxxp.evil.example", "hxxp.evil.example"),
    ],
)
def test_refang(defanged: str, expected: str) -> None:
    assert refang(defanged) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("192.0.2.1", "192.0.2.1"),
        ("198.51.100[.]7", "198.51.100.7"),
        (" 203.0.113.255 ", "203.0.113.255"),
        ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
        ("[2001:db8::c2]", "2001:db8::c2"),
    ],
)
def test_normalize_ip(value: str, expected: str) -> None:
    assert normalize_ip(value) == expected


@pytest.mark.parametrize("value", ["1.2.3", "256.0.2.1", "192.0.2.01", "2001:db8::1::2", "fe80::1%eth0", "", "x"])
def test_normalize_ip_rejects(value: str) -> None:
    with pytest.raises(ValueError, match="address"):
        normalize_ip(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Evil.Example", "evil.example"),
        ("c2.evil.example.", "c2.evil.example"),
        ("evil[.]example", "evil.example"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("a-1.example", "a-1.example"),
        ("x." * 126 + "example"[:1], "x." * 126 + "e"),
    ],
)
def test_normalize_domain(value: str, expected: str) -> None:
    assert normalize_domain(value) == expected


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("example", "two labels"),
        ("192.0.2.1", "IP address is not a domain"),
        ("2001:db8::1", "IP address is not a domain"),
        ("1.2.3", "all digits"),
        ("-evil.example", "label"),
        ("evil-.example", "label"),
        ("ev_il.example", "label"),
        ("evil..example", "label"),
        ("a" * 64 + ".example", "label"),
        ("a." * 127 + "example", "limit 253"),
        ("evil.example:8080", "label"),
        ("", "empty"),
    ],
)
def test_normalize_domain_rejects(value: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        normalize_domain(value)


@pytest.mark.parametrize(
    ("value", "url", "port"),
    [
        ("hxxp://evil[.]example/gate.php", "http://evil.example/gate.php", 80),
        ("HTTPS://Evil.Example/a/B?q=X#frag", "https://evil.example/a/B?q=X", 443),
        ("https://evil.example:443/", "https://evil.example/", 443),
        ("http://evil.example:8080/x", "http://evil.example:8080/x", 8080),
        ("http://192.0.2.1", "http://192.0.2.1", 80),
        ("http://[2001:DB8::1]:8443/p", "http://[2001:db8::1]:8443/p", 8443),
        ("https://[2001:db8::1]/", "https://[2001:db8::1]/", 443),
        ("http://bücher.example/", "http://xn--bcher-kva.example/", 80),
        ("hxxps[://]evil[.]example[/]gate", "https://evil.example/gate", 443),
    ],
)
def test_normalize_url(value: str, url: str, port: int) -> None:
    assert normalize_url(value) == (url, port)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("ftp://evil.example/", "http:// or https://"),
        ("evil.example/gate.php", "http:// or https://"),
        ("http:evil.example", "http:// or https://"),
        ("http://", "no host"),
        ("http://:8080/", "no host"),
        ("http://evil.example:0/", "out of range"),
        ("http://evil.example:70000/", "out of range"),
        ("http://evil.example:abc/", "port must be a number"),
        ("http://2001:db8::1/", "brackets"),
        ("http://[192.0.2.1]/", "URL"),
        ("http://[2001:db8::1/", "URL"),
        ("http://evil example/", "whitespace"),
        ("http://evil_host.example/", "label"),
    ],
)
def test_normalize_url_rejects(value: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        normalize_url(value)


def test_url_explicit_port() -> None:
    assert url_explicit_port("http://evil.example:8080/") == 8080
    assert url_explicit_port("http://[2001:db8::1]:81/") == 81
    assert url_explicit_port("https://evil.example/") is None


@pytest.mark.parametrize(("value", "expected"), [("1", 1), ("80", 80), (" 443 ", 443), ("65535", 65535), (8080, 8080)])
def test_normalize_port(value: str | int, expected: int) -> None:
    assert normalize_port(value) == expected


@pytest.mark.parametrize("value", ["0", "65536", "70000", "abc", "-1", "+80", "80.0", "", "８０"])
def test_normalize_port_rejects(value: str) -> None:
    with pytest.raises(ValueError, match="port"):
        normalize_port(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("2024-05-01", dt.date(2024, 5, 1)), ("2024/05/01", dt.date(2024, 5, 1)), ("2024/5/1", dt.date(2024, 5, 1))],
)
def test_normalize_date(value: str, expected: dt.date) -> None:
    assert normalize_date(value) == expected


@pytest.mark.parametrize("value", ["2024-13-01", "2024-02-30", "01/05/2024", "2024-05", "2024-05/01", "yesterday"])
def test_normalize_date_rejects(value: str) -> None:
    with pytest.raises(ValueError, match="date"):
        normalize_date(value)


def test_normalize_hash() -> None:
    assert normalize_hash("D41D8CD98F00B204E9800998ECF8427E") == "d41d8cd98f00b204e9800998ecf8427e"
    assert normalize_hash("a" * 40) == "a" * 40
    assert normalize_hash("a" * 64, ["sha256"]) == "a" * 64
    for bad, algorithms in [("a" * 32, ["sha256"]), ("g" * 64, ["sha256"]), ("a" * 50, ["md5", "sha1", "sha256"])]:
        with pytest.raises(ValueError, match="digest"):
            normalize_hash(bad, algorithms)


NORMALIZERS: list[tuple[str, Callable[[str], Any], Callable[[Any], str]]] = [
    ("ip", normalize_ip, str),
    ("domain", normalize_domain, str),
    ("url", lambda value: normalize_url(value)[0], str),
    ("port", normalize_port, str),
    ("date", normalize_date, lambda value: value.isoformat()),
    ("hash", normalize_hash, str),
]

# Text that is likely to hit the interesting branches: host-ish characters, brackets, defanging.
hostish = st.text(alphabet="abcxXhtpsf019.:-/[]()@{}?#% _üß。é", max_size=40)
candidates = st.one_of(
    st.text(max_size=60),
    hostish,
    st.builds(lambda a, b: f"{a}://{b}", st.sampled_from(["http", "https", "hxxp", "ftp"]), hostish),
    st.ip_addresses().map(str),
    st.from_regex(r"\A[0-9a-fA-F]{32,64}\Z"),
    st.from_regex(r"\A\d{4}[-/]\d{1,2}[-/]\d{1,2}\Z"),
)


@FAST
@given(candidates)
def test_refang_is_idempotent_and_total(value: str) -> None:
    once = refang(value)
    assert isinstance(once, str)
    assert refang(once) == once


@pytest.mark.parametrize(("name", "normalize", "render"), NORMALIZERS, ids=[n[0] for n in NORMALIZERS])
@FAST
@given(value=candidates)
def test_normalizers_return_or_raise_value_error_and_are_idempotent(
    name: str, normalize: Callable[[str], Any], render: Callable[[Any], str], value: str
) -> None:
    try:
        result = normalize(value)
    except ValueError as exc:
        assert str(exc)
        return
    assert normalize(render(result)) == result


@FAST
@given(st.ip_addresses())
def test_every_ip_address_is_accepted(address: Any) -> None:
    assert normalize_ip(str(address)) == address.compressed
    host = f"[{address.compressed}]" if address.version == 6 else address.compressed
    assert normalize_url(f"http://{host}:8080/")[1] == 8080


@FAST
@given(st.integers(min_value=1, max_value=65535))
def test_every_port_in_range_is_accepted(port: int) -> None:
    assert normalize_port(str(port)) == port
