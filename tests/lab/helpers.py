"""A bounded raw HTTP client for lab tests: it never reads more than it is told to."""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from c2watch.lab import Destination, Scenario

T0 = datetime(2025, 3, 1, tzinfo=UTC)


def dest(name: str, index: int, *steps: tuple[datetime | None, str], **extra: object) -> Destination:
    """A destination on 127.77.1.``index``, port 0 (any free port)."""
    fields: dict[str, object] = {"port": 0, "path": "/gate.php", "address": f"127.77.1.{index}", **extra}
    return Destination(name=name, threat_id="TEST-1", timeline=list(steps), **fields)  # type: ignore[arg-type]


def one(name: str, behaviour: str, **extra: object) -> Scenario:
    """A scenario with a single destination that always has ``behaviour``."""
    return Scenario([dest(name, 10, (None, behaviour), **extra)])


def insecure_context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


@dataclass
class Conn:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def read(self, limit: int, timeout: float) -> bytes:
        """Up to ``limit`` bytes: stop at EOF, at the limit, or when ``timeout`` passes."""
        got = bytearray()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(got) < limit:
            left = deadline - loop.time()
            if left <= 0:
                break
            try:
                chunk = await asyncio.wait_for(self.reader.read(limit - len(got)), left)
            except TimeoutError:
                break
            if not chunk:
                break
            got += chunk
        return bytes(got)

    async def at_eof(self, timeout: float = 1.0) -> bool:
        try:
            return await asyncio.wait_for(self.reader.read(1), timeout) == b""
        except TimeoutError:
            return False

    def close(self) -> None:
        self.writer.transport.abort()


async def connect(url: str, *, tls: bool | None = None, timeout: float = 2.0) -> Conn:
    parts = urlsplit(url)
    use_tls = parts.scheme == "https" if tls is None else tls
    context = insecure_context() if use_tls else None
    assert parts.hostname is not None and parts.port is not None
    opening = asyncio.open_connection(parts.hostname, parts.port, ssl=context, limit=4 << 20)
    reader, writer = await asyncio.wait_for(opening, timeout)
    return Conn(reader, writer)


def request_bytes(url: str, method: str = "GET") -> bytes:
    parts = urlsplit(url)
    return f"{method} {parts.path or '/'} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n\r\n".encode()


async def fetch(url: str, *, limit: int = 65536, timeout: float = 2.0, method: str = "GET") -> bytes:
    """Send one request and read at most ``limit`` bytes of the answer within ``timeout``."""
    conn = await connect(url)
    try:
        await conn.send(request_bytes(url, method))
        return await conn.read(limit, timeout)
    finally:
        conn.close()


def status_of(raw: bytes) -> tuple[int, bytes]:
    """(code, reason) of a raw response."""
    line = raw.split(b"\r\n", 1)[0]
    _, code, reason = line.split(b" ", 2)
    return int(code), reason
