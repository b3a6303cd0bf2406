"""Hostile answers: responses built to hurt a careless HTTP client.

Each handler gets the :class:`Exchange` of a connection whose request head was read, writes raw
bytes and returns; the caller closes the connection.
"""

from __future__ import annotations

import asyncio
import random
import struct
import threading
import zlib
from collections.abc import Awaitable, Callable
from datetime import datetime

from c2watch.lab.behaviours import Behaviour
from c2watch.lab.responses import Exchange, head_bytes, html_body, normal_headers, response_bytes, status_line

__all__ = [
    "BOMB_INFLATED_SIZE",
    "HOSTILE_HANDLERS",
    "HUGE_HEADER_SIZE",
    "LONG_VALUE_SIZE",
    "MANY_HEADERS_COUNT",
    "NON_ASCII_STATUS_LINE",
    "PRIVATE_LOCATION",
    "build_gzip_bomb",
    "field_head",
    "gzip_bomb",
    "gzip_bomb_bytes",
    "hostile_value",
]

Handler = Callable[[Exchange, Behaviour], Awaitable[None]]

BOMB_INFLATED_SIZE = 1 << 30
_BOMB_BLOCK = 16 << 20
MANY_HEADERS_COUNT = 10_000
HUGE_HEADER_SIZE = 1 << 20
NON_ASCII_STATUS_LINE = b"HTTP/1.1 200 \xe6\x97\xa5\xe6\x9c\xac OK"
#: A reason phrase and a Server header that are not UTF-8 (a decoder that keeps them as surrogates breaks storage).
INVALID_UTF8_HEAD = b"HTTP/1.1 200 \xff\xfe OK\r\nServer: x\xc3\x28y"
#: A private address that only ever appears as a header value: nothing connects to it.
PRIVATE_LOCATION = "http://10.0.0.1/"
_CHUNK = 64 * 1024

_bomb_lock = threading.Lock()
_bomb: bytes | None = None


def build_gzip_bomb(size: int = BOMB_INFLATED_SIZE, block_size: int = _BOMB_BLOCK) -> bytes:
    """A gzip member of ``size`` zero bytes (a multiple of ``block_size``); 1 GiB takes ~0.5 s.

    One 16 MiB block of zeros is deflated and ended with a full flush, which makes it
    self-contained, so the block can be repeated; the CRC is computed over the real zeros.
    """
    zeros = bytes(block_size)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    repeats = size // block_size
    crc = 0
    for _ in range(repeats):
        crc = zlib.crc32(zeros, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    final_empty_block = b"\x03\x00"
    trailer = struct.pack("<II", crc, (repeats * block_size) & 0xFFFFFFFF)
    return header + block * repeats + final_empty_block + trailer


def gzip_bomb_bytes() -> bytes:
    """The gzip bomb, built on first use and then cached for the process (thread-safe)."""
    global _bomb
    with _bomb_lock:
        if _bomb is None:
            _bomb = build_gzip_bomb()
        return _bomb


async def gzip_bomb() -> bytes:
    """:func:`gzip_bomb_bytes` without blocking the event loop."""
    return _bomb if _bomb is not None else await asyncio.to_thread(gzip_bomb_bytes)


async def _send(ex: Exchange, data: bytes) -> None:
    ex.writer.write(data)
    await ex.writer.drain()


def _ok_head(ex: Exchange, length: int | None, extra: list[tuple[str, str]]) -> bytes:
    headers = normal_headers(ex.now, length)
    headers[-1:-1] = extra
    return head_bytes(status_line(200, "OK"), headers)


async def endless_body(ex: Exchange, _: Behaviour) -> None:
    await _send(ex, _ok_head(ex, None, []))
    chunk = (b"<p>" + b"c2watch lab " * 64 + b"</p>\n") * (_CHUNK // 776 + 1)
    while True:
        await _send(ex, chunk)


async def send_gzip_bomb(ex: Exchange, _: Behaviour) -> None:
    body = await gzip_bomb()
    await _send(ex, _ok_head(ex, len(body), [("Content-Encoding", "gzip")]))
    if ex.request.wants_body:
        for start in range(0, len(body), _CHUNK):
            await _send(ex, body[start : start + _CHUNK])


async def many_headers(ex: Exchange, _: Behaviour) -> None:
    extra = [(f"X-Lab-{index}", str(index)) for index in range(MANY_HEADERS_COUNT)]
    await _send(ex, response_bytes(200, "OK", ex.now, with_body=ex.request.wants_body, extra=extra))


async def huge_header(ex: Exchange, _: Behaviour) -> None:
    extra = [("X-Lab-Huge", "a" * HUGE_HEADER_SIZE)]
    await _send(ex, response_bytes(200, "OK", ex.now, with_body=ex.request.wants_body, extra=extra))


async def drip(ex: Exchange, behaviour: Behaviour) -> None:
    whole = response_bytes(200, "OK", ex.now, with_body=ex.request.wants_body)
    line_end = whole.index(b"\r\n") + 2
    for index in range(line_end):
        if index:
            await asyncio.sleep(behaviour.seconds)
        await _send(ex, whole[index : index + 1])
    await _send(ex, whole[line_end:])


async def garbage(ex: Exchange, _: Behaviour) -> None:
    data = bytearray(random.Random(ex.name).randbytes(1024))
    data[0] = 0x8F if data[0] == ord("H") else data[0]
    await _send(ex, bytes(data))


async def redirect_private(ex: Exchange, _: Behaviour) -> None:
    extra = [("Location", PRIVATE_LOCATION)]
    await _send(ex, response_bytes(302, "Found", ex.now, with_body=ex.request.wants_body, extra=extra))


async def non_ascii_reason(ex: Exchange, _: Behaviour) -> None:
    whole = response_bytes(200, "OK", ex.now, with_body=ex.request.wants_body)
    await _send(ex, NON_ASCII_STATUS_LINE + whole[whole.index(b"\r\n") :])


async def invalid_utf8(ex: Exchange, _: Behaviour) -> None:
    whole = response_bytes(200, "OK", ex.now, with_body=ex.request.wants_body)
    await _send(ex, INVALID_UTF8_HEAD + whole[whole.index(b"\r\n") :])


#: A value longer than any column it could land in (the longest, ``http_location``, holds 2,048 characters).
LONG_VALUE_SIZE = 5000
_SHAPES: dict[str, bytes] = {
    "long": b"c2watch-lab-" * (LONG_VALUE_SIZE // 12) + b"end!" * ((LONG_VALUE_SIZE % 12) // 4),
    "control": b"lab\x01\x1b[31mred\x1b[0m\x7f\xc2\x9b end",  # C0, an ANSI escape, DEL and a C1 character
    "invalid-utf8": b"lab \xff\xfe\xc3\x28 end",
    "mixed": (b"lab\x1b[31m \xff\xfe " * 300)[:2996] + b" end",  # no trailing space: clients strip it
}
_NUL = b"\x00"  # aiohttp takes NUL in a reason phrase (which PostgreSQL cannot store), not in a header


def hostile_value(field: str, shape: str) -> bytes:
    """The bytes ``field:FIELD:SHAPE`` sends as FIELD (a reason phrase with control characters carries a NUL)."""
    value = _SHAPES[shape]
    if field == "reason" and shape in ("control", "mixed"):
        value = value[:3] + _NUL + value[3:]
    return b"http://lab.example/" + value if field == "location" else value


def field_head(field: str, shape: str, now: datetime, length: int) -> bytes:
    """A response head with one hostile field, the others as usual."""
    value = hostile_value(field, shape)
    code, reason = (302, b"Found") if field == "location" else (200, b"OK")
    names = {"server": "Server", "content-type": "Content-Type", "location": "Location"}
    lines = [b"HTTP/1.1 %d %s" % (code, value if field == "reason" else reason)]
    headers = normal_headers(now, length) + ([("Location", "")] if field == "location" else [])
    for name, text in headers:
        raw = value if names.get(field) == name else text.encode("latin-1")
        lines.append(name.encode("latin-1") + b": " + raw)
    return b"\r\n".join(lines) + b"\r\n\r\n"


async def hostile_field(ex: Exchange, behaviour: Behaviour) -> None:
    body = html_body(200, "OK")
    head = field_head(behaviour.args[0], behaviour.args[1], ex.now, len(body))
    await _send(ex, head + (body if ex.request.wants_body else b""))


async def raw_answer(ex: Exchange, behaviour: Behaviour) -> None:
    await _send(ex, bytes.fromhex(behaviour.args[0]))


HOSTILE_HANDLERS: dict[str, Handler] = {
    "endless-body": endless_body,
    "gzip-bomb": send_gzip_bomb,
    "many-headers": many_headers,
    "huge-header": huge_header,
    "drip": drip,
    "garbage": garbage,
    "redirect-private": redirect_private,
    "non-ascii-reason": non_ascii_reason,
    "invalid-utf8": invalid_utf8,
    "field": hostile_field,
    "raw": raw_answer,
}
