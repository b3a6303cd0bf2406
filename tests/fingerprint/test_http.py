"""HTTP answer fingerprints: Shodan's hashes, header order, titles from hostile bytes, a real answer via aiohttp."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import AsyncIterator

import aiohttp
import mmh3
import pytest

from c2watch.fingerprint.http import (
    MAX_TITLE_CHARS,
    TITLE_SCAN_BYTES,
    favicon_hash,
    header_order_sha256,
    html_hash,
    http_fingerprint,
    page_title,
)

ICON = bytes(range(256)) * 3  # 768 bytes: Base64 of more than one 76-character line


def test_murmur3_known_vector() -> None:
    assert mmh3.hash(b"foo") == -156908512  # the example in mmh3's documentation
    assert html_hash(b"foo") == -156908512
    assert html_hash(b"") == 0


def test_favicon_hash_is_shodans_formula_with_its_line_breaks() -> None:
    encoded = base64.encodebytes(ICON)
    assert encoded.count(b"\n") == len(encoded) // 77 + 1  # a newline every 76 characters and at the end
    assert favicon_hash(ICON) == mmh3.hash(encoded)
    assert favicon_hash(ICON) != mmh3.hash(base64.b64encode(ICON))
    assert favicon_hash(ICON) == 1836528006  # computed once with the formula above: pinned against a change


def test_header_order_hashes_lower_cased_names_in_wire_order() -> None:
    headers = [(b"Server", b"nginx"), (b"Content-Type", b"text/html"), (b"X-A", b"1")]
    expected = hashlib.sha256(b"server\ncontent-type\nx-a").hexdigest()
    assert header_order_sha256(name for name, _ in headers) == expected
    assert http_fingerprint(headers, b"").header_order_sha256 == expected
    same = [(b"SERVER", b"apache"), (b"content-type", b"x"), (b"x-a", b"2")]
    assert http_fingerprint(same, b"").header_order_sha256 == expected
    assert http_fingerprint(headers[::-1], b"").header_order_sha256 != expected


def test_fingerprint_of_an_answer() -> None:
    body = b"<html><head><title>It works!</title></head></html>"
    headers = [(b"Date", b"x"), (b"Server", b"Apache/2.4.1"), (b"server", b"second")]
    fingerprint = http_fingerprint(headers, body)
    assert fingerprint.server == "Apache/2.4.1"
    assert fingerprint.body_sha256 == hashlib.sha256(body).hexdigest()
    assert fingerprint.html_hash == mmh3.hash(body)
    assert fingerprint.title == "It works!"


def test_no_server_header_and_a_server_value_that_is_not_utf8() -> None:
    assert http_fingerprint([(b"Date", b"x")], b"").server is None
    assert http_fingerprint([(b"Server", b"caf\xe9")], b"").server == "caf\udce9"  # as aiohttp decodes it


@pytest.mark.parametrize(
    ("body", "title"),
    [
        (b"<title>Welcome to nginx!</title>", "Welcome to nginx!"),
        (b"<TITLE lang='en'>\n  A &amp; B &#233;\t &lt;x&gt;  </TITLE>", "A & B é <x>"),
        (b"<titles>no</titles><title>yes</title>", "yes"),
        (b"<title/>later</title>", "later"),
        (b"<title></title>", ""),
        (b"<html>no title</html>", None),
        (b"<title", None),
        (b"<title>never closed\n  to the end", "never closed to the end"),
        (b"<title>caf\xe9 \xff</title>", "caf\ufffd \ufffd"),
    ],
)
def test_titles(body: bytes, title: str | None) -> None:
    assert page_title(body) == title


def test_a_megabyte_title_is_cut() -> None:
    body = b"<html><title>" + b"A" * (1024 * 1024) + b"</title>"
    assert page_title(body) == "A" * MAX_TITLE_CHARS
    assert page_title(b"<title>" + b"B " * (512 * 1024)) == ("B " * 256).strip()


def test_a_title_after_the_scanned_bytes_is_not_found() -> None:
    assert page_title(b" " * TITLE_SCAN_BYTES + b"<title>late</title>") is None


@pytest.mark.parametrize(
    ("content_type", "title"),
    [
        ("text/html; charset=windows-1251", "Привет"),
        ('text/html; CHARSET="cp1251"', "Привет"),
        ("text/html; charset=no-such-charset", "\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd"),
        ("text/html; charset=hex", "\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd"),
        ("text/html; charset=punycode", "\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd"),
        ("text/html", "\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd"),
        (None, "\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd"),
    ],
)
def test_the_charset_of_content_type_when_it_is_one(content_type: str | None, title: str) -> None:
    body = b"<title>" + "Привет".encode("cp1251") + b"</title>"
    assert page_title(body, content_type) == title


def test_content_type_charset_is_read_from_the_headers() -> None:
    body = b"<title>" + "Привет".encode("koi8-r") + b"</title>"
    assert http_fingerprint([(b"content-type", b"text/html;charset=koi8-r")], body).title == "Привет"


@pytest.fixture
async def raw_http_server() -> AsyncIterator[int]:
    """A loopback server answering one fixed HTTP response, byte for byte."""
    response = (
        b"HTTP/1.1 200 OK\r\nServer: Major\r\nX-Order: 1\r\ncontent-type: text/html; charset=latin-1\r\n"
        b"Content-Length: 36\r\nConnection: close\r\n\r\n<title>caf\xe9\r\n  au lait</title>xx"
    )

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(response)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()


async def test_a_real_answer_as_aiohttp_gives_it(raw_http_server: int) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{raw_http_server}/") as response,
    ):
        body = await response.content.read(64 * 1024)
        fingerprint = http_fingerprint(response.raw_headers, body)
    order = b"server\nx-order\ncontent-type\ncontent-length\nconnection"
    assert fingerprint.header_order_sha256 == hashlib.sha256(order).hexdigest()
    assert (fingerprint.server, fingerprint.title) == ("Major", "café au lait")
    assert fingerprint.html_hash == mmh3.hash(b"<title>caf\xe9\r\n  au lait</title>xx")
