"""One destination's TCP server: accepts connections and answers with raw HTTP/1.1 bytes.

The behaviour is decided per connection, at accept time, from the lab clock. ``closed`` is
realised by not listening at all (the lab reconciles that); a connection that races in anyway
is reset.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime

from c2watch.lab.behaviours import Behaviour
from c2watch.lab.clock import Clock
from c2watch.lab.hostile import HOSTILE_HANDLERS
from c2watch.lab.personas import PERSONAS, persona_context
from c2watch.lab.responses import Exchange, parse_request, response_bytes
from c2watch.lab.scenario import Destination, Scenario

__all__ = ["HEAD_LIMIT", "Access", "DestinationServer", "Hit"]

log = logging.getLogger(__name__)

#: Largest request head read; a longer one closes the connection.
HEAD_LIMIT = 64 * 1024
_CLOSE_TIMEOUT = 5.0
_BENIGN = (OSError, EOFError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ssl.SSLError)

Handler = Callable[[Exchange, Behaviour], Awaitable[None]]


@dataclass(frozen=True)
class Hit:
    """One accepted connection: which destination, at what lab time, the behaviour it got (``blocked``: its source
    was blocked then and the connection reset), and the peer's address (what a C2 server's access log would show:
    the observer's source address, or its proxy's)."""

    name: str
    at: datetime
    behaviour: str
    peer: str = ""


@dataclass(frozen=True)
class Access:
    """One request head read on a connection, byte for byte as it arrived, with the peer that sent it."""

    name: str
    at: datetime
    peer: str
    head: bytes


async def _status(ex: Exchange, behaviour: Behaviour) -> None:
    data = response_bytes(behaviour.code, behaviour.reason_phrase, ex.now, with_body=ex.request.wants_body)
    ex.writer.write(data)
    await ex.writer.drain()


async def _slow(ex: Exchange, behaviour: Behaviour) -> None:
    await asyncio.sleep(behaviour.seconds)
    await _status(ex, behaviour)


async def _silent(ex: Exchange, behaviour: Behaviour) -> None:
    return None


async def _persona(ex: Exchange, behaviour: Behaviour) -> None:
    persona = PERSONAS[behaviour.args[0]]
    ex.writer.write(
        persona.head(format_datetime(ex.now, usegmt=True)) + (persona.body if ex.request.wants_body else b"")
    )
    await ex.writer.drain()


HANDLERS: dict[str, Handler] = {
    "status": _status,
    "slow": _slow,
    "silent": _silent,
    "as": _persona,
    **HOSTILE_HANDLERS,
}


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP RST: SO_LINGER on with a zero timeout, then close."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def _hold(reader: asyncio.StreamReader) -> None:
    """Keep the connection open, discarding whatever arrives, until the peer closes it."""
    while await reader.read(4096):
        pass


async def _close(writer: asyncio.StreamWriter) -> None:
    """Flush and close; abort if the peer does not let the close finish in time."""
    writer.close()
    try:
        async with asyncio.timeout(_CLOSE_TIMEOUT):
            await writer.wait_closed()
    except (TimeoutError, *_BENIGN):
        writer.transport.abort()


def free_port(host: str) -> int:
    """A port that is free on ``host`` right now."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


class DestinationServer:
    """The listener and the connections of one destination."""

    def __init__(
        self,
        destination: Destination,
        scenario: Scenario,
        clock: Clock,
        *,
        tls: ssl.SSLContext | None,
        on_hit: Callable[[Hit], None],
        head_timeout: float,
        on_access: Callable[[Access], None] | None = None,
    ) -> None:
        self.destination = destination
        self.port = destination.port
        self._scenario = scenario
        self._clock = clock
        self._tls = tls
        self._on_hit = on_hit
        self._on_access = on_access
        self._head_timeout = head_timeout
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._closing = False

    @property
    def listening(self) -> bool:
        return self._server is not None

    def wants_listening(self, now: datetime) -> bool:
        return self.destination.behaviour_at(now).kind != "closed"

    async def listen(self) -> None:
        """Start listening on the destination's address and port (the same port every time)."""
        if self._server is not None:
            return
        self._closing = False
        self._server = await asyncio.start_server(
            self._handle, self.destination.address, self.port, limit=HEAD_LIMIT, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]

    def reserve_port(self) -> None:
        """Fix the port of a ``port = 0`` destination that does not listen yet."""
        if self.port == 0:
            self.port = free_port(self.destination.address)

    def stop_listening(self) -> None:
        """Stop accepting (connection refused from now on); open connections go on."""
        if self._server is not None:
            self._server.close()
            self._server = None

    async def close(self) -> None:
        """Stop listening and end every open connection."""
        self._closing = True
        self.stop_listening()
        while self._tasks:  # cancel again if a cancellation got lost (asyncio.wait_for in 3.11)
            for task in self._tasks:
                task.cancel()
            await asyncio.wait(set(self._tasks), timeout=0.1)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if self._closing or task is None:
            writer.transport.abort()
            return
        self._tasks.add(task)
        try:
            await self._run(reader, writer)
        except asyncio.CancelledError:
            # The lab is stopping. End quietly: Python 3.11's stream callback raises when it
            # inspects a cancelled client_connected_cb task.
            pass
        finally:
            self._tasks.discard(task)
            writer.transport.abort()  # no-op once closed; ends it on cancellation and errors

    async def _run(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        now = self._clock()
        peername = writer.get_extra_info("peername")
        peer = str(peername[0]) if peername else ""
        if peer in self.destination.blocked_at(now):  # the operator blocked this observer's address
            self._on_hit(Hit(self.destination.name, now, "blocked", peer))
            _reset(writer)
            return
        behaviour = self._scenario.resolve(self.destination, now)
        self._on_hit(Hit(self.destination.name, now, behaviour.text, peer))
        try:
            if await self._serve(reader, writer, now, behaviour):
                await _close(writer)
        except _BENIGN as exc:
            log.debug("%s: connection ended: %r", self.destination.name, exc)
        except TimeoutError:
            log.debug("%s: request head not received in time", self.destination.name)

    async def _serve(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        now: datetime,
        behaviour: Behaviour,
    ) -> bool:
        """Act out ``behaviour``; True when the connection should then be closed gracefully."""
        if behaviour.kind in ("reset", "closed"):
            _reset(writer)
            return False
        if behaviour.kind == "tls-stall":
            await _hold(reader)
            return False
        if self._tls is not None:
            context = persona_context(behaviour.args[0]) if behaviour.kind == "as" else self._tls
            await writer.start_tls(context, ssl_handshake_timeout=self._head_timeout)
        if behaviour.kind == "tarpit":
            await _hold(reader)
            return False
        async with asyncio.timeout(self._head_timeout):  # not wait_for: it can lose a cancel in 3.11
            head = await reader.readuntil(b"\r\n\r\n")
        if self._on_access is not None:
            peer = writer.get_extra_info("peername")
            self._on_access(Access(self.destination.name, now, str(peer[0]) if peer else "", head))
        exchange = Exchange(reader, writer, self.destination.name, now, parse_request(head))
        await HANDLERS[behaviour.kind](exchange, behaviour)
        return True
