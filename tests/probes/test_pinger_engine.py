"""The pinger engine on a fake ICMP socket: matching, timeouts, send errors, back-pressure, close, cancel.

The fake records what the engine sends and hands it datagrams the test queues (readiness through a
socketpair), so every path runs deterministically and nothing goes on any network.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import socket
import struct
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from c2watch.probes.pinger import ICMP_FIX, IcmpPinger, PingStats, UnavailablePinger
from c2watch.probes.pinger_channel import EchoChannel
from c2watch.probes.pinger_packet import build_echo, checksum

TARGET = "127.0.0.9"
ANC_TIMESTAMP = 35  # SCM_TIMESTAMPNS
Datagram = tuple[bytes, list[tuple[int, int, bytes]], str]


class FakeIcmpSocket:
    """Stands in for an ICMP socket of one family."""

    def __init__(self, family: int = socket.AF_INET, rcvbuf: int = 8 << 20) -> None:
        self.family = family
        self.rcvbuf = rcvbuf
        self._ready, self._wake = socket.socketpair()
        self._ready.setblocking(False)
        self._wake.setblocking(False)
        self.sent: list[tuple[bytes, tuple[str, int]]] = []
        self.inbox: deque[Datagram] = deque()
        self.send_errors: deque[OSError] = deque()
        self.on_send: Callable[[bytes, str], None] | None = None
        self.closed = False

    def fileno(self) -> int:
        return -1 if self.closed else self._ready.fileno()

    def getsockopt(self, level: int, option: int) -> int:
        assert (level, option) == (socket.SOL_SOCKET, socket.SO_RCVBUF)
        return self.rcvbuf

    def getsockname(self) -> tuple[str, int]:
        return ("0.0.0.0", 4321)

    def sendto(self, packet: bytes, address: tuple[str, int]) -> int:
        if self.send_errors:
            raise self.send_errors.popleft()
        self.sent.append((bytes(packet), address))
        if self.on_send is not None:
            self.on_send(bytes(packet), address[0])
        return len(packet)

    def deliver(self, data: bytes, source: str, ancdata: list[tuple[int, int, bytes]] | None = None) -> None:
        self.inbox.append((data, ancdata or [], source))
        self._wake.send(b"!")

    def recvmsg_into(self, buffers: list[bytearray], ancbufsize: int) -> tuple[int, list[Any], int, tuple[str, int]]:
        if not self.inbox:
            with contextlib.suppress(BlockingIOError):
                self._ready.recv(65536)
            raise BlockingIOError(errno.EAGAIN, "empty")
        data, ancdata, source = self.inbox.popleft()
        buffers[0][: len(data)] = data
        return len(data), ancdata, 0, (source, 0)

    def make_unwritable(self) -> None:
        """Fill the socketpair so that the fd polls as not writable."""
        try:
            while True:
                self._ready.send(b"x" * 65536)
        except BlockingIOError:
            pass

    def close(self) -> None:
        self.closed = True
        self._ready.close()
        self._wake.close()


@pytest.fixture(autouse=True)
def close_fakes(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Close every fake socket a test made, also when the test fails before aclose()."""
    made: list[FakeIcmpSocket] = []
    init = FakeIcmpSocket.__init__

    def recording_init(self: FakeIcmpSocket, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        made.append(self)

    monkeypatch.setattr(FakeIcmpSocket, "__init__", recording_init)
    yield
    for fake in made:
        if not fake.closed:
            fake.close()


def reply_for(request: bytes, ipv6: bool = False) -> bytes:
    body = bytes([129 if ipv6 else 0, 0, 0, 0]) + request[4:]
    return body if ipv6 else body[:2] + struct.pack("!H", checksum(body)) + body[4:]


def with_ipv4_header(icmp: bytes, source: str, ttl: int = 57) -> bytes:
    src = socket.inet_aton(source)
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(icmp), 0, 0, ttl, 1, 0, src, src) + icmp


def timestamp(ns: int) -> list[tuple[int, int, bytes]]:
    return [(socket.SOL_SOCKET, ANC_TIMESTAMP, struct.pack("@ll", ns // 10**9, ns % 10**9))]


def answer(
    fake: FakeIcmpSocket, delay_ms: float = 5.0, ttl: int = 57, ip_header: bool = True
) -> Callable[[bytes, str], None]:
    """A responder: every request is answered by its destination, 'received' ``delay_ms`` after sending.

    Raw IPv4 sockets get the IPv4 header (with the TTL), datagram sockets the TTL as ancillary data.
    """

    def respond(packet: bytes, destination: str) -> None:
        received = timestamp(time.time_ns() + int(delay_ms * 1_000_000))
        if ip_header:
            fake.deliver(with_ipv4_header(reply_for(packet), destination, ttl), destination, received)
        else:
            fake.deliver(reply_for(packet), destination, [*received, (socket.IPPROTO_IP, 2, struct.pack("@i", ttl))])

    return respond


def pinger_on(fake: FakeIcmpSocket, mode: str = "raw") -> IcmpPinger:
    return IcmpPinger(mode, open_socket=lambda family, kind: fake)  # type: ignore[arg-type,return-value]


def channel_of(pinger: IcmpPinger, family: int = socket.AF_INET) -> EchoChannel:
    return pinger._channels[family]


async def test_replies_are_matched_with_kernel_timestamp_and_ttl() -> None:
    fake = FakeIcmpSocket()
    fake.on_send = answer(fake, delay_ms=5.0, ttl=57)
    pinger = pinger_on(fake)
    stats = await pinger.ping(TARGET, count=3, interval=0.01, timeout=1.0)
    assert (stats.sent, stats.received, stats.loss_pct, stats.ttl, stats.outcome) == (3, 3, 0.0, 57, "alive")
    assert all(5.0 <= rtt < 5.5 for rtt in stats.rtts_ms), stats.rtts_ms
    assert stats.rtt_avg_ms == pytest.approx(sum(stats.rtts_ms) / 3)
    assert {address for _, address in fake.sent} == {(TARGET, 0)}
    assert len({packet[4:8] for packet, _ in fake.sent}) == 3  # a fresh (identifier, sequence) per echo
    await pinger.aclose()
    assert fake.closed


async def test_rtt_without_kernel_timestamp_uses_the_monotonic_clock() -> None:
    fake = FakeIcmpSocket()
    fake.on_send = lambda packet, dst: fake.deliver(with_ipv4_header(reply_for(packet), dst), dst)
    pinger = pinger_on(fake)
    stats = await pinger.ping(TARGET, count=1, timeout=1.0)
    assert stats.received == 1 and 0.0 <= stats.rtts_ms[0] < 1000.0 and stats.ttl == 57
    await pinger.aclose()


async def test_foreign_broken_and_duplicate_packets_are_ignored() -> None:
    fake = FakeIcmpSocket()
    other = build_echo(False, 1, 1, 1, b"othertok")

    def respond(packet: bytes, dst: str) -> None:
        reply = reply_for(packet)
        wrong_stamp = reply[:8] + struct.pack("!Q", 12345) + reply[16:]
        wrong_token = reply[:16] + b"othertok" + reply[24:]
        wrong_seq = reply[:6] + struct.pack("!H", (int.from_bytes(reply[6:8], "big") + 1) & 0xFFFF) + reply[8:]
        for junk, source in [
            (with_ipv4_header(packet, dst), dst),  # our own request, seen by the raw socket on lo
            (with_ipv4_header(reply, "127.0.0.77"), "127.0.0.77"),  # right echo, wrong source
            (with_ipv4_header(wrong_stamp, dst), dst),  # a stale reply after the sequence wrapped
            (with_ipv4_header(wrong_token, dst), dst),  # another pinger's echo
            (with_ipv4_header(wrong_seq, dst), dst),
            (with_ipv4_header(reply_for(other), dst), dst),
            (with_ipv4_header(reply, dst)[:30], dst),  # truncated
            (b"\x45garbage", dst),
            (b"", dst),
        ]:
            fake.deliver(junk, source, timestamp(time.time_ns()))
        real = with_ipv4_header(reply, dst)
        fake.deliver(real, dst, timestamp(time.time_ns() + 2_000_000))
        fake.deliver(real, dst, timestamp(time.time_ns() + 9_000_000))  # duplicate: counted once

    fake.on_send = respond
    pinger = pinger_on(fake)
    stats = await pinger.ping(TARGET, count=4, interval=0.01, timeout=1.0)
    assert (stats.sent, stats.received, stats.outcome) == (4, 4, "alive")
    assert all(2.0 <= rtt < 3.0 for rtt in stats.rtts_ms), stats.rtts_ms
    assert channel_of(pinger).outstanding == 0
    await pinger.aclose()


async def test_unanswered_echoes_time_out_within_the_ping_budget() -> None:
    fake = FakeIcmpSocket()
    pinger = pinger_on(fake)
    loop = asyncio.get_running_loop()
    start = loop.time()
    stats = await pinger.ping(TARGET, count=3, interval=0.05, timeout=0.3)
    elapsed = loop.time() - start
    assert stats == PingStats(TARGET, 3, 0, 100.0, None, (), None, "no-reply", None)
    assert 2 * 0.05 + 0.3 - 0.01 <= elapsed < 0.8  # waiting out each echo in turn would take 0.1 + 3 * 0.3
    assert channel_of(pinger).outstanding == 0
    await pinger.aclose()


async def test_send_errors_are_lost_echoes_with_the_reason() -> None:
    fake = FakeIcmpSocket()
    fake.send_errors.extend(OSError(errno.EHOSTUNREACH, "x") for _ in range(3))
    pinger = pinger_on(fake)
    stats = await pinger.ping(TARGET, count=3, interval=0.0, timeout=0.5)
    assert (stats.sent, stats.received, stats.loss_pct, stats.outcome) == (3, 0, 100.0, "no-reply")
    assert stats.error == f"send failed: {os.strerror(errno.EHOSTUNREACH)}"
    fake.on_send = answer(fake)
    fake.send_errors.append(PermissionError(errno.EPERM, "firewall"))
    stats = await pinger.ping(TARGET, count=4, interval=0.0, timeout=0.5)
    assert (stats.sent, stats.received, stats.loss_pct, stats.outcome, stats.error) == (4, 3, 25.0, "alive", None)
    await pinger.aclose()


async def test_full_send_buffer_waits_for_writability() -> None:
    fake = FakeIcmpSocket()
    fake.on_send = answer(fake)
    fake.send_errors.extend([BlockingIOError(errno.EAGAIN, "full"), BlockingIOError(errno.EAGAIN, "full")])
    pinger = pinger_on(fake)
    stats = await pinger.ping(TARGET, count=2, interval=0.0, timeout=1.0)
    assert (stats.sent, stats.received) == (2, 2)
    assert len(fake.sent) == 2
    await pinger.aclose()


async def test_send_buffer_full_for_a_whole_timeout_loses_the_echoes() -> None:
    fake = FakeIcmpSocket()
    fake.make_unwritable()
    fake.send_errors.extend(BlockingIOError(errno.EAGAIN, "full") for _ in range(100))
    pinger = pinger_on(fake)
    stats = await pinger.ping(TARGET, count=2, interval=0.05, timeout=0.1)
    assert (stats.sent, stats.received, stats.outcome) == (2, 0, "no-reply")
    assert stats.error == "send buffer full until the timeout"
    await pinger.aclose()


async def test_aclose_finishes_running_pings_and_closes_the_socket() -> None:
    fake = FakeIcmpSocket()
    sent = asyncio.Event()
    fake.on_send = lambda packet, dst: sent.set() if len(fake.sent) == 20 else None
    pinger = pinger_on(fake)
    tasks = [asyncio.create_task(pinger.ping(f"127.0.1.{i}", count=3, interval=60, timeout=60)) for i in range(20)]
    await sent.wait()
    await pinger.aclose()
    results = await asyncio.gather(*tasks)
    assert {(r.sent, r.received, r.outcome, r.error) for r in results} == {(1, 0, "error", "pinger closed")}
    assert fake.closed
    assert (await pinger.ping(TARGET)).error == "pinger closed"


async def test_a_cancelled_ping_is_withdrawn() -> None:
    fake = FakeIcmpSocket()
    sent = asyncio.Event()
    fake.on_send = lambda packet, dst: sent.set()
    pinger = pinger_on(fake)
    task = asyncio.create_task(pinger.ping(TARGET, count=3, interval=60, timeout=60))
    await sent.wait()
    channel = channel_of(pinger)
    assert channel.outstanding == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert channel.outstanding == 0 and not channel._jobs
    late, _ = fake.sent[0]
    fake.deliver(with_ipv4_header(reply_for(late), TARGET), TARGET)  # its late reply is ignored
    fake.on_send = answer(fake)
    stats = await pinger.ping(TARGET, count=1, timeout=1.0)
    assert stats.received == 1
    assert len(fake.sent) == 2  # nothing more was sent for the cancelled ping
    await pinger.aclose()


@pytest.mark.parametrize(("mode", "space"), [("raw", 1 << 32), ("dgram", 1 << 16)])
async def test_sequence_numbers_wrap(mode: str, space: int) -> None:
    fake = FakeIcmpSocket()
    fake.on_send = answer(fake, ip_header=mode == "raw")
    pinger = pinger_on(fake, mode)
    await pinger.ping(TARGET, count=1, timeout=1.0)
    channel_of(pinger)._counter = space - 2
    stats = await pinger.ping(TARGET, count=4, interval=0.0, timeout=1.0)
    assert (stats.received, stats.ttl) == (4, 57)
    seqs = [int.from_bytes(packet[6:8], "big") for packet, _ in fake.sent[1:]]
    assert seqs == [0xFFFE, 0xFFFF, 0, 1]
    idents = {int.from_bytes(packet[4:6], "big") for packet, _ in fake.sent}
    if mode == "dgram":
        assert idents == {4321}  # the port the kernel gives a ping socket is its identifier
    await pinger.aclose()


async def test_too_many_outstanding_echoes_are_refused_not_mixed_up() -> None:
    fake = FakeIcmpSocket()
    pinger = pinger_on(fake)
    await pinger.ping(TARGET, count=1, timeout=0.01)
    channel_of(pinger)._space = 3
    results = await asyncio.gather(*(pinger.ping(f"127.0.2.{i}", count=1, timeout=0.2) for i in range(5)))
    errors = sorted(str(r.error) for r in results)
    assert errors == ["None"] * 3 + ["too many outstanding echoes"] * 2
    await pinger.aclose()


async def test_small_receive_buffer_limits_the_send_burst(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeIcmpSocket(rcvbuf=200_000)  # rmem_max without CAP_NET_ADMIN: room for few replies at once
    fake.on_send = answer(fake)
    bursts: list[int] = []
    send_due = EchoChannel._send_due

    def counted(channel: EchoChannel, now: float) -> None:
        before = len(fake.sent)
        send_due(channel, now)
        bursts.append(len(fake.sent) - before)

    monkeypatch.setattr(EchoChannel, "_send_due", counted)
    pinger = pinger_on(fake)
    results = await asyncio.gather(*(pinger.ping(f"127.0.3.{i}", count=1, timeout=1.0) for i in range(200)))
    assert sum(r.received for r in results) == 200
    assert max(bursts) == 200_000 // 4096 == 48
    await pinger.aclose()


async def test_ipv6_hop_limit_comes_from_ancillary_data() -> None:
    fake = FakeIcmpSocket(socket.AF_INET6)

    def respond(packet: bytes, dst: str) -> None:
        hop_limit = (socket.IPPROTO_IPV6, 52, struct.pack("@i", 61))
        fake.deliver(reply_for(packet, ipv6=True), dst, [*timestamp(time.time_ns() + 1_000_000), hop_limit])

    fake.on_send = respond
    pinger = pinger_on(fake)
    stats = await pinger.ping("::1", count=2, interval=0.0, timeout=1.0)
    assert (stats.received, stats.ttl) == (2, 61)
    assert fake.sent[0][0][0] == 128
    await pinger.aclose()


async def test_addresses_are_literal_ips_only() -> None:
    fake = FakeIcmpSocket()
    fake.on_send = answer(fake)
    pinger = pinger_on(fake)
    for bad in ["example.com", "", "127.0.0", "01.2.3.4", "::g"]:
        assert await pinger.ping(bad, count=1) == PingStats(
            bad, 0, 0, 100.0, None, (), None, "error", "not an IP address"
        )
    stats = await pinger.ping("::ffff:127.0.0.9", count=1, timeout=1.0)  # IPv4-mapped goes out as IPv4
    assert stats.received == 1 and stats.address == "::ffff:127.0.0.9"
    assert fake.sent[-1][1] == (TARGET, 0)
    with pytest.raises(ValueError):
        await pinger.ping(TARGET, count=0)
    with pytest.raises(ValueError):
        await pinger.ping(TARGET, timeout=0)
    await pinger.aclose()


async def test_socket_open_failures_are_results_per_family() -> None:
    def refuse(family: int, mode: str) -> socket.socket:
        if family == socket.AF_INET:
            raise PermissionError(errno.EPERM, "Operation not permitted")
        raise OSError(errno.EAFNOSUPPORT, "Address family not supported by protocol")

    pinger = IcmpPinger("raw", open_socket=refuse)
    v4 = await pinger.ping(TARGET)
    v6 = await pinger.ping("::1")
    assert (v4.outcome, v4.sent) == ("icmp-unavailable", 0)
    assert v4.error is not None and ICMP_FIX in v4.error and "raw IPv4" in v4.error
    assert (v6.outcome, v6.error) == (
        "error",
        "cannot open raw IPv6 ICMP socket: Address family not supported by protocol",
    )
    await pinger.aclose()


async def test_unavailable_pinger_says_how_to_fix_it() -> None:
    pinger = UnavailablePinger("raw: EPERM")
    stats = await pinger.ping(TARGET)
    assert (pinger.mode, stats.outcome, stats.sent, stats.loss_pct) == ("unavailable", "icmp-unavailable", 0, 100.0)
    assert stats.error is not None and "CAP_NET_RAW" in stats.error and "ping_group_range" in stats.error
    await pinger.aclose()
