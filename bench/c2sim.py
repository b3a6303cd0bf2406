"""HTTP side of the test bed: one listener on 0.0.0.0:PORT inside the benchmark's namespace; each connection is
answered by the class of the address it was made to (127.<class + 16 * block>.x.y), see testbed.CLASSES.

Never initiates traffic. Stops on SIGTERM, when its parent dies, or after --max-seconds; then writes its counters
as JSON to --stats.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import json
import signal
import socket
import struct
import sys
from collections import Counter
from pathlib import Path

from testbed import CLASS_MASK, SLOW_S, STATUS_CODES

BODY = b"<html><body>c2sim</body></html>"
TARPIT_HOLD_S = 60.0
stats: Counter[str] = Counter()
per_destination: Counter[str] = Counter()  # connections per destination address: one GET each is the design


def _response(code: int, reason: str) -> bytes:
    location = "Location: http://127.0.0.1/next\r\n" if 300 <= code < 400 else ""
    head = (
        f"HTTP/1.1 {code} {reason}\r\nServer: c2sim\r\nContent-Type: text/html\r\n{location}"
        f"Content-Length: {len(BODY)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + BODY


OK = _response(200, "OK")
OTHER = [_response(code, reason) for code, reason in STATUS_CODES]


class Peer(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.answered = False
        self.klass = 0
        self.variant = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        address = transport.get_extra_info("sockname")[0]
        octets = address.split(".")
        self.klass, self.variant = int(octets[1]) & CLASS_MASK, int(octets[3])
        stats["connections"] += 1
        per_destination[address] += 1

    def data_received(self, data: bytes) -> None:
        if self.answered:
            return
        self.buffer += data
        if b"\r\n\r\n" not in self.buffer:
            return
        self.answered = True
        assert self.transport is not None
        loop = asyncio.get_running_loop()
        if self.klass == 4:  # tarpit: never answer
            stats["tarpit"] += 1
            loop.call_later(TARPIT_HOLD_S, self.transport.close)
        elif self.klass == 5:  # reset after the request: SO_LINGER 0 makes close() send RST
            sock = self.transport.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.transport.abort()
            stats["reset"] += 1
        elif self.klass == 3:
            loop.call_later(SLOW_S, self._send, OK)
        elif self.klass == 2:
            self._send(OTHER[self.variant % len(OTHER)])
        else:
            self._send(OK)

    def _send(self, response: bytes) -> None:
        assert self.transport is not None
        if self.transport.is_closing():
            stats["client-gone"] += 1
            return
        self.transport.write(response)
        self.transport.close()
        stats["answered"] += 1


def die_with_parent() -> None:
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


async def main(args: argparse.Namespace) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    server = await loop.create_server(Peer, "0.0.0.0", args.port, backlog=65535, reuse_address=True)
    print("ready", flush=True)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), args.max_seconds)
    server.close()
    stats["destinations"] = len(per_destination)
    stats["destinations_connected_twice_or_more"] = sum(1 for n in per_destination.values() if n > 1)
    Path(args.stats).write_text(json.dumps(dict(stats)), encoding="utf-8")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--stats", required=True)
    parser.add_argument("--max-seconds", type=float, default=900)
    die_with_parent()
    asyncio.run(main(parser.parse_args()))
    sys.exit(0)
