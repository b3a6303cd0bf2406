"""The pinger on real ICMP over loopback, raw mode (root here and in CI).

Only 127.0.0.0/8 and ::1 are ever pinged: every 127/8 address is answered by ``lo``.
"""

from __future__ import annotations

import asyncio
import os
import socket
import struct
import time
from collections.abc import AsyncIterator

import pytest

from c2watch.probes.pinger import IcmpPinger, Pinger, open_pinger
from c2watch.probes.pinger_channel import EchoChannel
from c2watch.probes.pinger_packet import build_echo, checksum


def require_root() -> None:
    if os.geteuid() != 0:
        if os.environ.get("CI"):
            pytest.fail("the ICMP tests need root (CAP_NET_RAW, CAP_SYS_ADMIN) in CI")
        pytest.skip("needs root for raw ICMP sockets")


def ipv6_loopback_configured() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.fixture
async def pinger() -> AsyncIterator[Pinger]:
    require_root()
    opened = await open_pinger("raw")
    yield opened
    await opened.aclose()


def channels(pinger: Pinger) -> dict[int, EchoChannel]:
    assert isinstance(pinger, IcmpPinger)
    return pinger._channels


@pytest.mark.parametrize("address", ["127.0.0.1", "127.0.0.2", "127.1.2.3", "127.255.255.254"])
async def test_raw_echoes_on_loopback(pinger: Pinger, address: str) -> None:
    stats = await pinger.ping(address, count=4, interval=0.02, timeout=1.0)
    assert pinger.mode == "raw"
    assert (stats.address, stats.sent, stats.received, stats.loss_pct) == (address, 4, 4, 0.0)
    assert (stats.outcome, stats.error, stats.ttl) == ("alive", None, 64)
    assert len(stats.rtts_ms) == 4 and all(0.0 < rtt < 50.0 for rtt in stats.rtts_ms), stats.rtts_ms
    assert stats.rtt_avg_ms == pytest.approx(sum(stats.rtts_ms) / 4)


async def test_ipv6_loopback(pinger: Pinger) -> None:
    if not ipv6_loopback_configured():
        pytest.skip("::1 is not configured on this host")
    stats = await pinger.ping("::1", count=4, interval=0.02, timeout=1.0)
    assert (stats.sent, stats.received, stats.outcome, stats.ttl) == (4, 4, "alive", 64)
    assert all(0.0 < rtt < 50.0 for rtt in stats.rtts_ms), stats.rtts_ms
    assert set(channels(pinger)) == {socket.AF_INET6}  # the IPv4 socket was never needed


async def test_open_pinger_auto_prefers_raw() -> None:
    require_root()
    opened = await open_pinger()
    assert opened.mode == "raw"
    await opened.aclose()


async def test_a_thousand_concurrent_pings_share_one_socket(pinger: Pinger) -> None:
    addresses = [f"127.3.{i // 250}.{i % 250 + 1}" for i in range(1000)]
    results = await asyncio.gather(*(pinger.ping(a, count=2, interval=0.05, timeout=1.0) for a in addresses))
    assert [(r.address, r.sent, r.received, r.ttl) for r in results] == [(a, 2, 2, 64) for a in addresses]
    assert all(0.0 < rtt < 100.0 for r in results for rtt in r.rtts_ms)
    assert list(channels(pinger)) == [socket.AF_INET]
    channel = channels(pinger)[socket.AF_INET]
    assert channel.outstanding == 0 and not channel._jobs


async def test_ten_thousand_concurrent_pings(pinger: Pinger) -> None:
    addresses = [f"127.4.{i >> 8}.{i & 255}" for i in range(10_000)]
    results = await asyncio.gather(*(pinger.ping(a, count=1, timeout=2.0) for a in addresses))
    assert sum(r.received for r in results) == 10_000
    assert {r.ttl for r in results} == {64}


async def test_rtt_comes_from_kernel_timestamps_when_the_loop_is_busy(
    pinger: Pinger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The event loop is kept busy for 300 ms right after sending: the RTT must not include that."""
    send_next = EchoChannel._send_next

    def send_then_hog_the_loop(channel: EchoChannel, job: object) -> bool:
        sent = send_next(channel, job)  # type: ignore[arg-type]
        end = time.monotonic() + 0.3
        while time.monotonic() < end:
            pass
        return sent

    monkeypatch.setattr(EchoChannel, "_send_next", send_then_hog_the_loop)
    started = time.monotonic()
    stats = await pinger.ping("127.0.0.1", count=1, timeout=2.0)
    assert time.monotonic() - started >= 0.3
    assert stats.received == 1 and 0.0 < stats.rtts_ms[0] < 20.0, stats.rtts_ms


async def test_a_ping_lasts_its_intervals_not_more(pinger: Pinger) -> None:
    loop = asyncio.get_running_loop()
    start = loop.time()
    stats = await pinger.ping("127.0.0.1", count=3, interval=0.1, timeout=1.0)
    elapsed = loop.time() - start
    assert stats.received == 3
    assert 0.2 - 0.005 <= elapsed < 0.2 + 0.5


async def test_foreign_icmp_traffic_does_not_disturb_pings(pinger: Pinger) -> None:
    """Other echo replies and garbage reaching the raw socket (here forged on lo) are ignored."""
    stop = asyncio.Event()

    async def forge() -> int:
        forged = 0
        with socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP) as raw:
            raw.setblocking(False)
            while not stop.is_set():
                for seq in range(64):
                    reply = bytearray(build_echo(False, seq * 977 & 0xFFFF, seq, time.time_ns(), os.urandom(8)))
                    reply[0], reply[2:4] = 0, b"\0\0"
                    reply[2:4] = struct.pack("!H", checksum(bytes(reply)))
                    raw.sendto(bytes(reply), ("127.0.0.1", 0))
                    raw.sendto(b"\0\0\xff\xff garbage", ("127.0.0.1", 0))
                    forged += 2
                await asyncio.sleep(0)  # yield to the pings
        return forged

    forger = asyncio.create_task(forge())
    results = await asyncio.gather(
        *(pinger.ping(f"127.0.5.{i}", count=3, interval=0.02, timeout=1.0) for i in range(1, 51))
    )
    stop.set()
    assert await forger > 0
    assert {(r.sent, r.received) for r in results} == {(3, 3)}


async def test_aclose_removes_the_reader_and_closes_the_sockets() -> None:
    require_root()
    opened = await open_pinger("raw")
    await opened.ping("127.0.0.1", count=1)
    sockets = [channel._sock for channel in channels(opened).values()]
    await opened.aclose()
    assert channels(opened) == {} and all(sock.fileno() == -1 for sock in sockets)
    assert (await opened.ping("127.0.0.1")).outcome == "error"
    await opened.aclose()  # idempotent


async def test_pings_leave_no_tasks_behind(pinger: Pinger) -> None:
    await asyncio.gather(*(pinger.ping(f"127.0.6.{i}", count=2, interval=0.01) for i in range(1, 21)))
    assert asyncio.all_tasks() == {asyncio.current_task()}
