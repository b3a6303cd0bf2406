"""JARM's parts against the reference: the ClientHellos byte for byte, ServerHello reading, the hash, any bytes."""

from __future__ import annotations

import os
import random
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jarm.formats import V1
from jarm.hashing.hashing import Hasher

from c2watch.fingerprint import jarm_hello
from c2watch.fingerprint.jarm_hash import NO_ANSWER, ZERO_FINGERPRINT, jarm_fingerprint, read_server_hello
from c2watch.fingerprint.jarm_hello import PROBES, client_hello, reorder


def server_hello(
    cipher: bytes, extensions: bytes, version: bytes = b"\x03\x03", session_id: bytes = b"s" * 32
) -> bytes:
    body = version + b"r" * 32 + bytes([len(session_id)]) + session_id + cipher + b"\x00"
    body += struct.pack(">H", len(extensions)) + extensions
    handshake = b"\x02\x00" + struct.pack(">H", len(body)) + body
    return b"\x16\x03\x03" + struct.pack(">H", len(handshake)) + handshake


EXTENSIONS = (
    "ff01 0001 00  0010 0005 0003 02 6832  000b 0004 03 000102"  # renegotiation_info, ALPN h2, ec_point_formats
)
HELLO = server_hello(b"\xc0\x2f", bytes.fromhex(EXTENSIONS))


def test_reorder_as_the_reference() -> None:
    items = [bytes([c]) for c in b"abcdefg"]
    assert b"".join(reorder(items, "REVERSE")) == b"gfedcba"
    assert b"".join(reorder(items, "BOTTOM_HALF")) == b"efg"
    assert b"".join(reorder(items, "TOP_HALF")) == b"dcba"
    assert b"".join(reorder(items, "MIDDLE_OUT")) == b"decfbga"
    assert b"".join(reorder(items[:6], "MIDDLE_OUT")) == b"dcebfa"
    assert b"".join(reorder(items[:6], "TOP_HALF")) == b"cba"


def test_client_hellos_are_byte_for_byte_those_of_an_independent_implementation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """pyjarm builds the same ten probes: with randomness fixed, every byte must agree."""
    monkeypatch.setattr(os, "urandom", lambda n: b"\x00" * n)
    monkeypatch.setattr(random, "choice", lambda values: values[0])
    monkeypatch.setattr(jarm_hello, "_grease", lambda: b"\x0a\x0a")
    assert len(V1) == len(PROBES) == 10
    for spec, theirs in zip(PROBES, V1, strict=True):
        assert client_hello(spec, "127.0.0.1") == theirs().build_packet("127.0.0.1", 443).build(), spec.name


def test_client_hello_lengths_and_server_name() -> None:
    for spec in PROBES:
        hello = client_hello(spec, "c2.example")
        assert hello[:1] == b"\x16" and int.from_bytes(hello[3:5], "big") == len(hello) - 5
        assert int.from_bytes(hello[6:9], "big") == len(hello) - 9
        assert b"\x00\x00\x00\x0f\x00\x0d\x00\x00\x0ac2.example" in hello


def test_a_server_hello_is_read_as_the_reference() -> None:
    assert read_server_hello(HELLO) == "c02f|0303|h2|ff01-0010-000b"
    assert read_server_hello(HELLO + b"\x16\x03\x03\x00\x02\x0b\x00") == "c02f|0303|h2|ff01-0010-000b"
    no_extensions = server_hello(b"\x13\x01", b"", version=b"\x03\x04", session_id=b"")
    assert read_server_hello(no_extensions) == "1301|0304||"


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x15\x03\x03\x00\x02\x02\x28",  # a handshake_failure alert
        b"HTTP/1.1 400 Bad Request\r\n\r\n",
        HELLO[:40],
        server_hello(b"\xc0\x2f", b"\x00\x10\x00\x00"),  # an empty ALPN: the reference fails the answer
        server_hello(b"\xc0\x2f", b"\x00\x10\x00\x05\x00\x03\x02\xff\xfe"),  # an ALPN that is not UTF-8
        server_hello(b"\xc0\x2f", b"", version=b"\x03\x09"),  # a version the reference cannot map
    ],
)
def test_what_is_not_a_server_hello(data: bytes) -> None:
    assert read_server_hello(data) == NO_ANSWER


def test_extensions_cut_short_leave_the_cipher_and_version() -> None:
    assert read_server_hello(HELLO[:80]) == "c02f|0303||"  # one byte of the extensions' length, read as the length
    assert read_server_hello(HELLO[:85]) == NO_ANSWER  # an extension cut short: the reference fails the answer
    no_length = HELLO[: 44 + 32 + 3]  # up to the compression method: the reference gives up on extensions only
    assert read_server_hello(no_length) == "c02f|0303||||"


def test_the_hash_agrees_with_an_independent_implementation() -> None:
    answers = [
        "c02f|0303|h2|ff01-0010-000b",
        NO_ANSWER,
        "1301|0304||002b-0033",
        "c02f|0303||||",
        "cafe|0301|http/1.1|0000",
        *[NO_ANSWER] * 5,
    ]
    assert jarm_fingerprint(answers) == Hasher.jarm(",".join(answers))
    # c02f is cipher 41 (0x29) of the reference's list, 1301 is 65 (0x41), an unknown one 70 (0x46); 0303 is "d"
    assert jarm_fingerprint(answers)[:15] == "29d00041e29d46b"
    assert jarm_fingerprint([NO_ANSWER] * 10) == ZERO_FINGERPRINT == "0" * 62


@given(st.lists(st.binary(max_size=200) | st.binary(max_size=60).map(lambda tail: HELLO[:-30] + tail), max_size=10))
def test_any_bytes_give_a_fingerprint(answers: list[bytes]) -> None:
    read = [read_server_hello(data) for data in answers] + [NO_ANSWER] * (10 - len(answers))
    fingerprint = jarm_fingerprint(read)
    assert len(fingerprint) == 62 and all(c in "0123456789abcdef" for c in fingerprint)
