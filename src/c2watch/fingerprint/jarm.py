"""JARM, the active TLS fingerprint (Salesforce's published algorithm, BSD-3-Clause), sent on request only.

JARM (github.com/salesforce/jarm; Copyright (c) 2020 salesforce.com, inc.; BSD 3-Clause licence) opens ten TCP
connections to a server, sends one crafted ClientHello on each (:mod:`.jarm_hello`), reads the first bytes of
the answer and hashes the server's choices (:mod:`.jarm_hash`). An implant would never send these ClientHellos,
so a C2 operator watching the wire can tell a JARM scan from its implants: it is off by default (an opsec
trade-off the user makes knowingly, see ``docs/fingerprints.md``).

This implementation, written for asyncio and for hostile servers, connects only to the address it is given (an IP
address the caller has passed through c2watch's safety guard; a name is refused, never resolved), one connection
at a time, each bounded by ``timeout`` and a read of at most :data:`MAX_ANSWER_BYTES`, all ten by ``total``.
A reset, a stall, a closed connection or garbage is a per-probe outcome, never an exception. As in the reference,
a probe that times out ends the scan and makes the fingerprint all zeros; so does no ServerHello at all.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from c2watch.fingerprint.jarm_hash import NO_ANSWER, ZERO_FINGERPRINT, jarm_fingerprint, read_server_hello
from c2watch.fingerprint.jarm_hello import PROBES, ProbeSpec, client_hello

__all__ = ["MAX_ANSWER_BYTES", "MAX_SERVER_NAME_BYTES", "JarmProbe", "JarmResult", "Opener", "Outcome", "jarm"]

MAX_ANSWER_BYTES = 1484
"""At most this many bytes of an answer are read, as the reference's single ``recv(1484)``."""

MAX_SERVER_NAME_BYTES = 255
"""The longest server name SNI carries (a DNS name's limit)."""

Opener = Callable[[str, int], Awaitable[tuple[asyncio.StreamReader, asyncio.StreamWriter]]]
"""Opens one connection to (address, port): ``asyncio.open_connection`` unless the caller routes it."""

Outcome = Literal["server_hello", "alert", "garbage", "closed", "refused", "reset", "timeout", "error", "not_sent"]


@dataclass(frozen=True)
class JarmProbe:
    """What one of the ten probes got: its outcome, the bytes read, and the reference's reading of them."""

    name: str
    outcome: Outcome
    answer: str = NO_ANSWER
    received: int = 0
    error: str | None = None


@dataclass(frozen=True)
class JarmResult:
    """The 62-character JARM fingerprint (all zeros: no TLS answer), each probe's outcome, the time it took."""

    fingerprint: str
    probes: tuple[JarmProbe, ...]
    seconds: float

    @property
    def answered(self) -> bool:
        """True when the server gave at least one ServerHello (and no probe timed out)."""
        return self.fingerprint != ZERO_FINGERPRINT


async def jarm(
    address: str,
    port: int,
    server_name: str | None = None,
    timeout: float = 5.0,
    total: float | None = None,
    opener: Opener | None = None,
) -> JarmResult:
    """The JARM fingerprint of the TLS server at ``address`` (an IP address, never a name) and ``port``.

    ``server_name`` goes into SNI (the reference sends the address itself when there is none). Each connection
    is bounded by ``timeout`` seconds, the whole scan by ``total`` (by default three times ``timeout``).
    ``opener`` opens each connection instead of a direct one (through a proxy, which may be given a name to
    resolve); whatever it raises that is not an ``OSError`` ends the scan and reaches the caller.
    """
    if opener is None:
        address = str(ipaddress.ip_address(address))  # a name raises ValueError here: JARM never resolves one
    sni = server_name or address
    if not 0 < len(sni.encode()) <= MAX_SERVER_NAME_BYTES:
        raise ValueError(f"a server name of 1 to {MAX_SERVER_NAME_BYTES} bytes, not {len(sni.encode())}")
    loop = asyncio.get_running_loop()
    start, budget = loop.time(), total if total is not None else 3 * timeout
    probes: list[JarmProbe] = []
    for spec in PROBES:
        left = budget - (loop.time() - start)
        if left <= 0 or any(probe.outcome == "timeout" for probe in probes):  # as the reference: stop at a timeout
            probes.append(JarmProbe(spec.name, "not_sent"))
            continue
        probes.append(await _probe(address, port, spec, sni, min(timeout, left), opener or asyncio.open_connection))
    return JarmResult(_fingerprint(probes), tuple(probes), loop.time() - start)


def _fingerprint(probes: list[JarmProbe]) -> str:
    if any(probe.outcome in ("timeout", "not_sent") for probe in probes):
        return ZERO_FINGERPRINT
    return jarm_fingerprint([probe.answer for probe in probes])


async def _probe(
    address: str, port: int, spec: ProbeSpec, server_name: str, timeout: float, opener: Opener
) -> JarmProbe:
    """One connection: send the probe's ClientHello, read the answer; every failure is an outcome."""
    writer: asyncio.StreamWriter | None = None
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await opener(address, port)
            writer.write(client_hello(spec, server_name))
            await writer.drain()
            data = await _read_answer(reader)
    except TimeoutError:
        return JarmProbe(spec.name, "timeout")
    except ConnectionRefusedError as exc:
        return JarmProbe(spec.name, "refused", error=str(exc))
    except ConnectionResetError as exc:
        return JarmProbe(spec.name, "reset", error=str(exc))
    except OSError as exc:  # unreachable, broken pipe, ...: the probe failed, the scan goes on as the reference's
        return JarmProbe(spec.name, "error", error=f"{type(exc).__name__}: {exc}")
    finally:
        if writer is not None:
            writer.transport.abort()  # no goodbye to wait for: a hostile server may never read it
    return _answer(spec.name, data)


async def _read_answer(reader: asyncio.StreamReader) -> bytes:
    """What the reference's single ``recv(1484)`` would get, read on until the first TLS record is whole.

    A ServerHello split across TCP segments is read to its end (bounded by :data:`MAX_ANSWER_BYTES` and the
    timeout); anything that does not start like a handshake record is taken as it came.
    """
    data = await reader.read(MAX_ANSWER_BYTES)
    while data[:1] == b"\x16" and len(data) < min(MAX_ANSWER_BYTES, _record_end(data)):
        chunk = await reader.read(MAX_ANSWER_BYTES - len(data))
        if not chunk:
            break
        data += chunk
    return data


def _record_end(data: bytes) -> int:
    return 5 + int.from_bytes(data[3:5], "big") if len(data) >= 5 else 5


def _answer(name: str, data: bytes) -> JarmProbe:
    answer = read_server_hello(data)
    if answer != NO_ANSWER:
        return JarmProbe(name, "server_hello", answer, len(data))
    outcome: Outcome = "closed" if not data else "alert" if data[0] == 21 else "garbage"
    return JarmProbe(name, outcome, NO_ANSWER, len(data))
