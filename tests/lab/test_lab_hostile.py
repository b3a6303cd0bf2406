from __future__ import annotations

import asyncio
import gzip
import ssl
import struct
import time
import zlib

import aiohttp
import pytest

from c2watch.lab.hostile import (
    BOMB_INFLATED_SIZE,
    HUGE_HEADER_SIZE,
    MANY_HEADERS_COUNT,
    PRIVATE_LOCATION,
    build_gzip_bomb,
    gzip_bomb_bytes,
)

from .conftest import StartLab
from .helpers import connect, fetch, insecure_context, one, request_bytes, status_of

MB = 1 << 20


def split_head(raw: bytes) -> tuple[list[bytes], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    return head.split(b"\r\n"), body


async def test_endless_body_keeps_streaming(start_lab: StartLab) -> None:
    lab = await start_lab(one("endless", "endless-body"))
    conn = await connect(lab.url_for("endless"))
    try:
        await conn.send(request_bytes(lab.url_for("endless")))
        raw = await conn.read(2 * MB, 5.0)
        lines, body = split_head(raw)
        assert lines[0] == b"HTTP/1.1 200 OK"
        assert not any(line.lower().startswith(b"content-length") for line in lines)
        assert len(raw) == 2 * MB  # the limit was reached, not the end
        assert not conn.reader.at_eof()
        assert body.startswith(b"<p>c2watch lab")
    finally:
        conn.close()


def test_gzip_bomb_is_small_and_inflates_to_a_gibibyte_of_zeros() -> None:
    bomb = gzip_bomb_bytes()
    assert len(bomb) < 2 * MB
    assert gzip_bomb_bytes() is bomb  # cached
    assert bomb[:2] == b"\x1f\x8b"
    crc, size = struct.unpack("<II", bomb[-8:])
    assert size == BOMB_INFLATED_SIZE % 2**32 and BOMB_INFLATED_SIZE >= 1 << 30
    zeros, expected = bytes(64 * MB), 0
    for _ in range(BOMB_INFLATED_SIZE // len(zeros)):
        expected = zlib.crc32(zeros, expected)
    assert crc == expected


def test_the_bomb_construction_is_valid_gzip() -> None:
    small = build_gzip_bomb(size=8 * MB, block_size=MB)
    assert gzip.decompress(small) == bytes(8 * MB)  # checks the CRC and the size too


async def test_gzip_bomb_served_with_content_encoding(start_lab: StartLab) -> None:
    lab = await start_lab(one("bomb", "gzip-bomb"))
    raw = await fetch(lab.url_for("bomb"), limit=4 * MB, timeout=10.0)
    lines, body = split_head(raw)
    assert lines[0] == b"HTTP/1.1 200 OK"
    assert b"Content-Encoding: gzip" in lines
    assert f"Content-Length: {len(body)}".encode() in lines and len(body) < 2 * MB
    inflater = zlib.decompressobj(wbits=31)
    first = inflater.decompress(body, MB)  # bounded: only the first MiB is inflated
    assert len(first) == MB and first == bytes(MB)
    assert inflater.unconsumed_tail  # plenty more to come


async def test_gzip_bomb_through_aiohttp_without_decompression(start_lab: StartLab) -> None:
    lab = await start_lab(one("bomb", "gzip-bomb"))
    async with (
        aiohttp.ClientSession(auto_decompress=False) as session,
        session.get(lab.url_for("bomb")) as response,
    ):
        assert response.headers["Content-Encoding"] == "gzip"
        chunk = await response.content.read(64 * 1024)
        assert chunk.startswith(b"\x1f\x8b")


async def test_many_headers(start_lab: StartLab) -> None:
    lab = await start_lab(one("many", "many-headers"))
    raw = await fetch(lab.url_for("many"), limit=MB)
    lines, body = split_head(raw)
    assert lines[0] == b"HTTP/1.1 200 OK"
    assert sum(line.startswith(b"X-Lab-") for line in lines) == MANY_HEADERS_COUNT
    assert b"Server: nginx" in lines and b"200 OK" in body


async def test_huge_header(start_lab: StartLab) -> None:
    lab = await start_lab(one("huge", "huge-header"))
    raw = await fetch(lab.url_for("huge"), limit=2 * MB)
    lines, _ = split_head(raw)
    huge = [line for line in lines if line.startswith(b"X-Lab-Huge: ")]
    assert len(huge) == 1 and len(huge[0]) == len(b"X-Lab-Huge: ") + HUGE_HEADER_SIZE


async def test_drip_sends_the_status_line_byte_by_byte(start_lab: StartLab) -> None:
    lab = await start_lab(one("drip", "drip"))
    conn = await connect(lab.url_for("drip"))
    try:
        await conn.send(request_bytes(lab.url_for("drip")))
        started = time.monotonic()
        first = await conn.read(100, 0.5)
        assert first in (b"H", b"HT")  # one byte per second: at most two in half a second
        assert time.monotonic() - started < 1.0
    finally:
        conn.close()


async def test_fast_drip_eventually_sends_the_whole_answer(start_lab: StartLab) -> None:
    lab = await start_lab(one("drip", "drip:0.01"))
    raw = await fetch(lab.url_for("drip"), timeout=3.0)
    assert status_of(raw) == (200, b"OK") and raw.endswith(b"</html>\r\n")


async def test_garbage_is_not_http(start_lab: StartLab) -> None:
    lab = await start_lab(one("junk", "garbage"))
    raw = await fetch(lab.url_for("junk"), limit=4096)
    assert len(raw) == 1024 and not raw.startswith(b"H")
    assert raw == await fetch(lab.url_for("junk"), limit=4096)  # deterministic per destination


async def test_tls_stall_never_answers_the_client_hello(start_lab: StartLab) -> None:
    lab = await start_lab(one("stall", "tls-stall", scheme="https"))
    url = lab.url_for("stall")
    conn = await connect(url, tls=False)  # plain TCP: send something, get nothing
    try:
        await conn.send(b"\x16\x03\x01\x00\x05hello")
        assert await conn.read(100, 0.3) == b""
        assert not conn.reader.at_eof()
    finally:
        conn.close()
    host, port = url.split("//")[1].split("/")[0].split(":")
    opening = asyncio.open_connection(host, int(port), ssl=insecure_context(), ssl_handshake_timeout=0.3)
    with pytest.raises((TimeoutError, ssl.SSLError, ConnectionError)):
        _, writer = await asyncio.wait_for(opening, 2.0)
        writer.transport.abort()


async def test_tarpit_over_https_completes_the_handshake_then_stays_silent(start_lab: StartLab) -> None:
    lab = await start_lab(one("pit", "tarpit", scheme="https"))
    conn = await connect(lab.url_for("pit"))  # the TLS handshake succeeds
    try:
        await conn.send(request_bytes(lab.url_for("pit")))
        assert await conn.read(100, 0.3) == b""
    finally:
        conn.close()


async def test_redirect_to_a_private_address_is_only_a_value(start_lab: StartLab) -> None:
    lab = await start_lab(one("redir", "redirect-private"))
    raw = await fetch(lab.url_for("redir"))
    lines, _ = split_head(raw)
    assert lines[0] == b"HTTP/1.1 302 Found"
    assert f"Location: {PRIVATE_LOCATION}".encode() in lines
    async with (
        aiohttp.ClientSession() as session,
        session.get(lab.url_for("redir"), allow_redirects=False) as response,
    ):
        assert response.status == 302 and response.headers["Location"] == "http://10.0.0.1/"


async def test_non_ascii_reason_is_sent_raw(start_lab: StartLab) -> None:
    lab = await start_lab(one("utf8", "non-ascii-reason"))
    raw = await fetch(lab.url_for("utf8"))
    assert raw.startswith(b"HTTP/1.1 200 \xe6\x97\xa5\xe6\x9c\xac OK\r\nServer: nginx\r\n")


async def test_rate_is_reproducible_through_the_server(start_lab: StartLab) -> None:
    from datetime import timedelta

    from c2watch.lab import FakeClock

    lab = await start_lab(one("rate", "rate:0.5:status:200"))
    clock = lab.clock
    assert isinstance(clock, FakeClock)
    seen = []
    for _ in range(12):
        expected = lab.scenario.resolve("rate", clock()).kind
        raw = await fetch(lab.url_for("rate"))
        seen.append(raw.startswith(b"HTTP/1.1 200 OK"))
        assert seen[-1] == (expected == "status")
        assert (await fetch(lab.url_for("rate"))).startswith(b"HTTP/1.1 200 OK") == seen[-1]
        clock.advance(timedelta(hours=4))
    assert any(seen) and not all(seen)
