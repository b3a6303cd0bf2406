"""The fingerprint of an HTTP answer, from what the HTTP probe already has: raw headers and the first body bytes.

``html_hash`` and :func:`favicon_hash` are the hashes Shodan indexes (``http.html_hash``, ``http.favicon.hash``):
MurmurHash3 x86 32-bit, signed, of the body, and of the favicon encoded with ``base64.encodebytes``. Shodan hashes
the whole body; c2watch hashes the bytes read (the probe's cap, 64 KiB), equal for any smaller body.

Everything here is written for hostile input: a title of a megabyte, never closed, in bytes that are not the
charset announced (or a charset that does not exist). The title is found by a linear scan of the bytes, never by a
regular expression that could backtrack; at most :data:`TITLE_SCAN_BYTES` of the body are scanned and at most
:data:`TITLE_RAW_BYTES` decoded.
"""

from __future__ import annotations

import base64
import codecs
import hashlib
import html
from collections.abc import Iterable
from dataclasses import dataclass

import mmh3

__all__ = [
    "MAX_TITLE_CHARS",
    "TITLE_RAW_BYTES",
    "TITLE_SCAN_BYTES",
    "HttpFingerprint",
    "favicon_hash",
    "html_hash",
    "http_fingerprint",
    "page_title",
]

MAX_TITLE_CHARS = 512
"""A title is cut to this many characters (after entities are decoded and whitespace collapsed)."""

TITLE_SCAN_BYTES = 64 * 1024
"""The title is looked for in the first bytes of the body only (the HTTP probe reads no more)."""

TITLE_RAW_BYTES = 16 * 1024
"""At most this many bytes of a title element are decoded (room for entities and whitespace to shrink)."""

_TAG_ENDS = frozenset(b" \t\r\n\f/>")
_NOT_CHARSETS = frozenset({"punycode", "idna"})  # text codecs of names, not of pages; slow on hostile input


@dataclass(frozen=True)
class HttpFingerprint:
    """What identifies an HTTP answer; header names and body are hashed, ``server`` and ``title`` kept as text."""

    server: str | None
    header_order_sha256: str
    body_sha256: str
    html_hash: int
    title: str | None


def http_fingerprint(raw_headers: Iterable[tuple[bytes, bytes]], body: bytes) -> HttpFingerprint:
    """The fingerprint of an answer: ``raw_headers`` in wire order (aiohttp's ``raw_headers``), the body read."""
    headers = list(raw_headers)
    return HttpFingerprint(
        server=_header(headers, b"server"),
        header_order_sha256=header_order_sha256(name for name, _ in headers),
        body_sha256=hashlib.sha256(body).hexdigest(),
        html_hash=html_hash(body),
        title=page_title(body, _header(headers, b"content-type")),
    )


def header_order_sha256(names: Iterable[bytes]) -> str:
    """SHA-256 of the header names, lower-cased and joined by a newline, in the order the server sent them.

    The order of header names is a trait of the server software and its configuration, stable across pages.
    """
    return hashlib.sha256(b"\n".join(name.lower() for name in names)).hexdigest()


def html_hash(body: bytes) -> int:
    """Shodan's ``http.html_hash``: MurmurHash3 x86 32-bit, signed, seed 0, of the body bytes."""
    return int(mmh3.hash(body))


def favicon_hash(data: bytes) -> int:
    """Shodan's ``http.favicon.hash``: MurmurHash3 of the favicon as ``base64.encodebytes`` writes it.

    ``encodebytes`` breaks the Base64 text into lines of 76 characters, each ending in a newline; the hash
    depends on those newlines, so no other Base64 encoder gives Shodan's value.
    """
    return int(mmh3.hash(base64.encodebytes(data)))


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    """The first value of header ``name``, decoded as aiohttp decodes header values."""
    for key, value in headers:
        if key.lower() == name:
            return value.decode("utf-8", "surrogateescape")
    return None


def page_title(body: bytes, content_type: str | None = None) -> str | None:
    """The text of the first ``<title>`` element: entities decoded, whitespace collapsed, cut to 512 characters.

    An unclosed title runs to the end of the bytes scanned, as in a browser. The bytes are decoded with the charset
    of ``content_type`` when Python knows it as a text encoding, else as UTF-8; undecodable bytes become U+FFFD.
    """
    raw = _title_bytes(body[:TITLE_SCAN_BYTES])
    if raw is None:
        return None
    text = html.unescape(_decode(raw[:TITLE_RAW_BYTES], _charset(content_type)))
    return " ".join(text.split())[:MAX_TITLE_CHARS].rstrip()


def _title_bytes(body: bytes) -> bytes | None:
    lowered = body.lower()
    start = _open_tag_end(lowered, b"<title")
    if start is None:
        return None
    end = lowered.find(b"</title", start)
    return body[start : end if end >= 0 else len(body)]


def _open_tag_end(lowered: bytes, tag: bytes) -> int | None:
    """The index just after the first opening ``tag`` (not e.g. ``<titles``) and its ``>``; linear in the input."""
    at = lowered.find(tag)
    while at >= 0:
        after = at + len(tag)
        if after < len(lowered) and lowered[after] in _TAG_ENDS:
            close = lowered.find(b">", after)
            return close + 1 if close >= 0 else None
        at = lowered.find(tag, after)
    return None


def _charset(content_type: str | None) -> str:
    for parameter in (content_type or "").split(";")[1:]:
        key, _, value = parameter.partition("=")
        if key.strip().lower() == "charset":
            return value.strip().strip("\"'")[:40]
    return "utf-8"


def _decode(raw: bytes, charset: str) -> str:
    """``raw`` in ``charset`` if that is a text encoding Python knows, else in UTF-8; never raises."""
    try:
        name = codecs.lookup(charset).name
        if name not in _NOT_CHARSETS:
            return raw.decode(name, "replace")
    except (LookupError, ValueError, UnicodeError):  # unknown, not a text encoding ("hex"), or failing anyway
        pass
    return raw.decode("utf-8", "replace")
