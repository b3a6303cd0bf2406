"""The pinger in network namespaces the tests create (``unshare --net``, gone with the subprocess).

Each scenario runs a small Python script in a fresh network namespace, where the sysctls are private:
``icmp_echo_ignore_all`` makes a silent host, ``ping_group_range`` allows or forbids ping sockets, and
``setpriv`` drops CAP_NET_RAW. Only that namespace's ``lo`` is ever pinged.
Needs the Debian package util-linux (unshare, setpriv), which every Debian system has.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from typing import Any

import pytest

from c2watch.probes.pinger import ICMP_FIX

DROP_NET_RAW = ["setpriv", "--inh-caps=-net_raw", "--bounding-set=-net_raw", "--"]

PRELUDE = textwrap.dedent(
    """
    import asyncio, fcntl, json, socket, struct, time
    from c2watch.errors import ProbeSetupError
    from c2watch.probes.pinger import open_pinger

    def lo_up():
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            ifreq = struct.Struct("16sH22x")
            flags = ifreq.unpack(fcntl.ioctl(s, 0x8913, ifreq.pack(b"lo", 0)))[1]  # SIOCGIFFLAGS
            fcntl.ioctl(s, 0x8914, ifreq.pack(b"lo", flags | 1))  # SIOCSIFFLAGS, IFF_UP

    def sysctl(name, value):
        with open("/proc/sys/" + name.replace(".", "/"), "w") as f:
            f.write(value)

    def stats(s):
        return {k: list(v) if isinstance(v, tuple) else v for k, v in s.__dict__.items()}

    async def forced(mode):
        try:
            pinger = await open_pinger(mode)
        except ProbeSetupError as exc:
            return str(exc)
        await pinger.aclose()
        return None
    """
)


def run_in_netns(script: str, drop_net_raw: bool = False) -> dict[str, Any]:
    """Run ``script`` (after the prelude) in a new network namespace; its last stdout line is JSON."""
    if os.geteuid() != 0:
        if os.environ.get("CI"):
            pytest.fail("the network-namespace tests need root in CI")
        pytest.skip("needs root to create network namespaces")
    for tool in ["unshare", *(["setpriv"] if drop_net_raw else [])]:
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing: apt-get install util-linux")
    command = ["unshare", "--net", "--", *(DROP_NET_RAW if drop_net_raw else []), sys.executable, "-c"]
    done = subprocess.run(
        [*command, PRELUDE + textwrap.dedent(script)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_a_host_that_drops_echoes_gives_no_reply() -> None:
    out = run_in_netns(
        """
        lo_up()
        sysctl("net.ipv4.icmp_echo_ignore_all", "1")
        async def main():
            pinger = await open_pinger("raw")
            start = time.monotonic()
            r = await pinger.ping("127.0.0.1", count=4, interval=0.05, timeout=0.5)
            elapsed = time.monotonic() - start
            await pinger.aclose()
            return {"stats": stats(r), "elapsed": elapsed}
        print(json.dumps(asyncio.run(main())))
        """
    )
    assert out["stats"] == {
        "address": "127.0.0.1",
        "sent": 4,
        "received": 0,
        "loss_pct": 100.0,
        "rtt_avg_ms": None,
        "rtts_ms": [],
        "ttl": None,
        "outcome": "no-reply",
        "error": None,
    }
    # (count - 1) * interval + timeout; waiting out each echo in turn would take 4 * 0.5
    assert 3 * 0.05 + 0.5 - 0.01 <= out["elapsed"] < 1.5


def test_send_errors_give_no_reply_with_the_reason() -> None:
    out = run_in_netns(  # lo stays down: no route at all, sendto fails with ENETUNREACH
        """
        async def main():
            pinger = await open_pinger("raw")
            r = await pinger.ping("127.0.0.1", count=3, interval=0.01, timeout=0.3)
            await pinger.aclose()
            return stats(r)
        print(json.dumps(asyncio.run(main())))
        """
    )
    assert (out["sent"], out["received"], out["loss_pct"], out["outcome"]) == (3, 0, 100.0, "no-reply")
    assert out["error"] == "send failed: Network is unreachable"


def test_dgram_mode_without_cap_net_raw() -> None:
    out = run_in_netns(
        """
        lo_up()
        sysctl("net.ipv4.ping_group_range", "0 2147483647")
        async def main():
            pinger = await open_pinger()
            v4 = await pinger.ping("127.0.0.1", count=4, interval=0.02, timeout=1.0)
            v6 = await pinger.ping("::1", count=4, interval=0.02, timeout=1.0)
            many = await asyncio.gather(*(pinger.ping(f"127.0.7.{i}", count=2, interval=0.02) for i in range(1, 101)))
            await pinger.aclose()
            forced_dgram = await open_pinger("dgram")
            await forced_dgram.aclose()
            return {"mode": pinger.mode, "forced": forced_dgram.mode, "raw": await forced("raw"), "v4": stats(v4),
                    "v6": stats(v6), "many": sorted({(r.sent, r.received, r.ttl) for r in many})}
        print(json.dumps(asyncio.run(main())))
        """,
        drop_net_raw=True,
    )
    assert (out["mode"], out["forced"]) == ("dgram", "dgram")
    assert out["raw"] is not None and "cannot open raw IPv4 ICMP socket" in out["raw"] and ICMP_FIX in out["raw"]
    for key in ["v4", "v6"]:
        stats = out[key]
        assert (stats["sent"], stats["received"], stats["outcome"], stats["ttl"]) == (4, 4, "alive", 64), stats
        assert all(0.0 < rtt < 50.0 for rtt in stats["rtts_ms"]), stats
    assert out["many"] == [[2, 2, 64]]


def test_unavailable_without_cap_net_raw_nor_ping_group() -> None:
    out = run_in_netns(
        """
        lo_up()
        sysctl("net.ipv4.ping_group_range", "1 0")
        async def main():
            pinger = await open_pinger("auto")
            r = await pinger.ping("127.0.0.1", count=4, interval=0.02, timeout=1.0)
            await pinger.aclose()
            return {"mode": pinger.mode, "stats": stats(r), "raw": await forced("raw"), "dgram": await forced("dgram")}
        print(json.dumps(asyncio.run(main())))
        """,
        drop_net_raw=True,
    )
    assert out["mode"] == "unavailable"
    stats = out["stats"]
    assert (stats["outcome"], stats["sent"], stats["received"], stats["loss_pct"]) == ("icmp-unavailable", 0, 0, 100.0)
    assert "CAP_NET_RAW" in stats["error"] and "ping_group_range" in stats["error"]
    assert "setcap cap_net_raw+ep" in stats["error"] and "AmbientCapabilities=CAP_NET_RAW" in stats["error"]
    assert "Operation not permitted" in out["raw"] and ICMP_FIX in out["raw"]
    assert "Permission denied" in out["dgram"] and ICMP_FIX in out["dgram"]
