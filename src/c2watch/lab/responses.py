"""Raw HTTP/1.1 response bytes, written by hand so hostile variants keep byte-level control."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime

__all__ = [
    "Exchange",
    "Request",
    "head_bytes",
    "html_body",
    "normal_headers",
    "parse_request",
    "response_bytes",
]

SERVER = "nginx"
NO_BODY_CODES = frozenset({204, 304})


@dataclass(frozen=True)
class Request:
    """The request line of a read request head (the rest of the head is ignored)."""

    method: str
    target: str
    version: str

    @property
    def wants_body(self) -> bool:
        return self.method != "HEAD"


@dataclass(frozen=True)
class Exchange:
    """One accepted connection whose request head has been read: what a behaviour acts on."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    name: str
    now: datetime
    request: Request


def parse_request(head: bytes) -> Request:
    """The request line of ``head``; a malformed one yields method ``?``."""
    line = head.split(b"\r\n", 1)[0].decode("latin-1")
    parts = line.split(" ")
    if len(parts) != 3:
        return Request("?", "", "")
    return Request(parts[0], parts[1], parts[2])


def html_body(code: int, reason: str) -> bytes:
    """A small, deterministic nginx-like page."""
    title = f"{code} {reason}".strip()
    return (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n<hr><center>{SERVER}</center>\r\n"
        "</body>\r\n</html>\r\n"
    ).encode("latin-1", "replace")


def normal_headers(now: datetime, content_length: int | None) -> list[tuple[str, str]]:
    """Server, Date, Content-Type, Content-Length (if given) and Connection: close."""
    headers = [
        ("Server", SERVER),
        ("Date", format_datetime(now, usegmt=True)),
        ("Content-Type", "text/html"),
    ]
    if content_length is not None:
        headers.append(("Content-Length", str(content_length)))
    headers.append(("Connection", "close"))
    return headers


def head_bytes(status_line: bytes, headers: Iterable[tuple[str, str]]) -> bytes:
    """``status_line`` (without CRLF), the header lines and the blank line."""
    lines = [status_line] + [f"{name}: {value}".encode("latin-1") for name, value in headers]
    return b"\r\n".join(lines) + b"\r\n\r\n"


def status_line(code: int, reason: str) -> bytes:
    return f"HTTP/1.1 {code} {reason}".encode("latin-1")


def response_bytes(
    code: int,
    reason: str,
    now: datetime,
    *,
    with_body: bool = True,
    extra: Iterable[tuple[str, str]] = (),
) -> bytes:
    """A complete ordinary response: head plus the small HTML body (omitted for HEAD, 1xx, 204, 304)."""
    body = b"" if code < 200 or code in NO_BODY_CODES else html_body(code, reason)
    headers = normal_headers(now, len(body))
    headers[-1:-1] = list(extra)
    return head_bytes(status_line(code, reason), headers) + (body if with_body else b"")
