from __future__ import annotations

import logging
import os
import select
import shutil
import socket
import struct
import subprocess
import time

import pytest

from c2watch.lab import FakeClock, Lab, Scenario
from c2watch.lab.icmp_filter import IcmpFilter, list_tables, remove_stale_tables, rule_for
from c2watch.lab.scenario import PingMode

from .helpers import dest, fetch, status_of


def require_nft() -> None:
    """Skip without root or nft, except in CI, where both must be there."""
    missing = shutil.which("nft") is None or os.geteuid() != 0
    if missing and os.environ.get("CI"):
        pytest.fail("CI must run as root with nftables installed (Debian package nftables)")
    if missing:
        pytest.skip("needs root and the nft command")


def _checksum(data: bytes) -> int:
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    return int(~(total + (total >> 16)) & 0xFFFF)


def ping(address: str, seq: int, timeout: float = 0.15) -> bool:
    """One ICMP echo over a raw socket (root): True when the matching reply came in time."""
    ident = os.getpid() & 0xFFFF
    payload = b"c2watch-lab-test"
    header = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
    packet = struct.pack("!BBHHH", 8, 0, _checksum(header + payload), ident, seq) + payload
    with socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP) as sock:
        sock.sendto(packet, (address, 0))
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            if not select.select([sock], [], [], left)[0]:
                return False
            data, (source, _) = sock.recvfrom(2048)
            icmp = data[(data[0] & 0x0F) * 4 :]
            if source == address and icmp[0] == 0 and struct.unpack("!HH", icmp[4:8]) == (ident, seq):
                return True
    return False


def test_rules_for_ping_modes() -> None:
    assert rule_for("127.77.0.1", PingMode(0)) is None
    assert rule_for("127.77.0.1", PingMode(100)) == "ip daddr 127.77.0.1 icmp type echo-request counter drop"
    assert rule_for("127.77.0.1", PingMode(50)) == (
        "ip daddr 127.77.0.1 icmp type echo-request numgen inc mod 2 < 1 counter drop"
    )
    assert "numgen inc mod 10 < 3" in (rule_for("127.77.0.1", PingMode(30)) or "")
    assert rule_for("::1", PingMode(100)) == "ip6 daddr ::1 icmpv6 type echo-request counter drop"


def test_ruleset_is_a_table_of_its_own() -> None:
    icmp = IcmpFilter([("127.77.0.1", PingMode(100)), ("127.77.0.2", PingMode(0))])
    assert icmp.table.startswith(f"c2watch_lab_{os.getpid()}_")
    text = icmp.ruleset()
    assert text.startswith(f"table inet {icmp.table} {{") and "hook input" in text
    assert "127.77.0.2" not in text


async def test_drop_and_loss_are_applied_and_removed(clock: FakeClock) -> None:
    require_nft()
    scenario = Scenario(
        [
            dest("dead", 21, (None, "closed"), ping="drop"),
            dest("lossy", 22, (None, "status:200"), ping="loss:50"),
            dest("alive", 23, (None, "status:200")),
        ]
    )
    lab = Lab(scenario, clock)
    await lab.start()
    try:
        assert lab.icmp_controlled and lab.icmp.active
        assert lab.icmp.table in list_tables()
        assert [ping("127.77.1.21", seq) for seq in range(4)] == [False] * 4
        lossy = [ping("127.77.1.22", seq) for seq in range(6)]
        assert lossy in ([False, True] * 3, [True, False] * 3)  # exactly every second one
        assert [ping("127.77.1.23", seq) for seq in range(3)] == [True] * 3
        assert lab.icmp.counters() == {"127.77.1.21": 4, "127.77.1.22": 3}
        assert status_of(await fetch(lab.url_for("lossy")))[0] == 200
    finally:
        await lab.stop()
    assert not lab.icmp_controlled and not lab.icmp.active
    assert lab.icmp.table not in list_tables()
    assert ping("127.77.1.21", 9)


async def test_without_nft_the_lab_runs_and_says_so(
    clock: FakeClock, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(shutil, "which", lambda *args, **kwargs: None)
    scenario = Scenario([dest("dead", 24, (None, "status:200"), ping="drop")])
    with caplog.at_level(logging.WARNING, logger="c2watch.lab.icmp_filter"):
        async with Lab(scenario, clock) as lab:
            assert lab.icmp_controlled is False
            assert status_of(await fetch(lab.url_for("dead")))[0] == 200
    assert "nftables" in caplog.text


async def test_nothing_to_control_needs_no_table(clock: FakeClock) -> None:
    async with Lab(Scenario([dest("alive", 25, (None, "status:200"))]), clock) as lab:
        assert lab.icmp_controlled and not lab.icmp.active
        assert lab.icmp.table not in list_tables()


def test_stale_tables_of_dead_processes_are_removed() -> None:
    require_nft()
    dead_pid = 4_194_304 + 17  # above the largest pid Linux hands out
    stale = f"c2watch_lab_{dead_pid}_0badcafe"
    subprocess.run(["nft", "add", "table", "inet", stale], check=True)
    mine = IcmpFilter([("127.77.1.26", PingMode(100))])
    try:
        assert stale in list_tables()
        assert mine.apply()  # which removes tables of dead processes first
        assert stale not in list_tables()
        subprocess.run(["nft", "add", "table", "inet", stale], check=True)
        assert stale in remove_stale_tables()
        assert mine.table in list_tables()  # a live process's table stays
    finally:
        mine.remove()
        mine.remove()  # twice is harmless
        subprocess.run(["nft", "delete", "table", "inet", stale], check=False, capture_output=True)
    assert mine.table not in list_tables()
