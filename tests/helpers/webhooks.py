"""A webhook receiver on 127.0.0.1 (signed deliveries checked), and a free port for one that is not up yet."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

SECRET = "s3cret"


@dataclass
class Receiver:
    """A webhook receiver; ``fail`` answers that many requests with 500 first."""

    port: int = 0
    fail: int = 0
    received: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        if self.fail:
            self.fail -= 1
            return web.Response(status=500)
        self.received.append(json.loads(body))
        self.headers.append(dict(request.headers))
        expected = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert request.headers["X-C2watch-Signature"] == f"sha256={expected}"
        self.arrived.set()
        return web.Response(status=204)

    @asynccontextmanager
    async def serving(self) -> AsyncIterator[Receiver]:
        app = web.Application()
        app.router.add_post("/hook", self.handle)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        try:
            yield self
        finally:
            await runner.cleanup()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
