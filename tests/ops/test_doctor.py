"""``c2watch doctor`` on this machine (all well) and on one where ICMP is forbidden (it names the fix)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from c2watch.cli import cli
from c2watch.home import write_private
from c2watch.lab.dnsserver import LabDns
from tests.helpers.hub import RunningHub


def write_config(home: Path, text: str) -> None:
    home.mkdir(parents=True, exist_ok=True)
    write_private(home / "c2watch.toml", text)


async def test_doctor_all_well_with_a_hub(home: Path, hub: RunningHub) -> None:
    import asyncio

    async with LabDns({"c2.lab.test": ["127.0.0.1"]}) as dns:
        write_config(
            home,
            f'[dns]\nnameservers = ["127.0.0.1"]\nport = {dns.port}\n'
            f'[hub]\nurl = "{hub.api_root}"\ntoken = "{hub.tokens["a-observer"]}"\n',
        )
        await asyncio.to_thread(CliRunner().invoke, cli, ["init"])
        result = await asyncio.to_thread(CliRunner().invoke, cli, ["doctor", "--json"])
    assert result.exit_code == 0, result.output
    checks = {c["name"]: c for c in json.loads(result.stdout)}
    assert {name: c["level"] for name, c in checks.items()} == {
        "icmp": "ok",
        "resolver": "ok",
        "store": "ok",
        "disk": "ok",
        "open-files": "ok",
        "secrets": "ok",
        "hub": "ok",
        "clock": "ok",
    }


async def test_doctor_flags_a_refused_token_and_a_dead_resolver(home: Path, hub: RunningHub) -> None:
    import asyncio

    write_config(
        home,
        f'[dns]\nnameservers = ["127.0.0.1"]\nport = 9\ntimeout = 0.5\n'
        f'[hub]\nurl = "{hub.api_root}"\ntoken = "c2w_0_forged"\n',
    )
    result = await asyncio.to_thread(CliRunner().invoke, cli, ["doctor"])
    assert result.exit_code == 1
    assert "resolver" in result.stdout and "set [dns] nameservers" in result.stdout
    assert "hub refuses the token" in result.stdout and "token create" in result.stdout


def test_doctor_too_many_open_files_for_the_concurrency(home: Path) -> None:
    write_config(home, "[cycle]\nconcurrency = 100000\n")
    result = CliRunner().invoke(cli, ["doctor", "--json"])
    checks = {c["name"]: c for c in json.loads(result.stdout)}
    assert checks["open-files"]["level"] == "fail" and "LimitNOFILE" in checks["open-files"]["fix"]
    assert result.exit_code == 1


def test_doctor_without_icmp_permission_names_the_fix(home: Path) -> None:
    """A datagram socket refused (ping_group_range "1 0") and no raw socket (CAP_NET_RAW dropped), in a network
    namespace of its own so that nothing can leave it."""
    missing = [tool for tool in ("unshare", "setpriv") if shutil.which(tool) is None]
    if missing or os.geteuid() != 0:
        if os.environ.get("CI"):
            pytest.fail(f"needs root and util-linux ({missing})")
        pytest.skip("needs root and util-linux")
    write_config(home, '[dns]\nnameservers = ["127.0.0.1"]\nport = 9\ntimeout = 0.2\n')
    script = (
        "echo '1 0' > /proc/sys/net/ipv4/ping_group_range && "
        "exec setpriv --inh-caps=-net_raw --bounding-set=-net_raw -- "
        f"{sys.executable} -m c2watch doctor"
    )
    done = subprocess.run(
        ["unshare", "--net", "--", "sh", "-c", script],
        capture_output=True,
        text=True,
        env={**os.environ, "C2WATCH_HOME": str(home)},
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    icmp = next(line for line in done.stdout.splitlines() if " icmp " in line)
    assert "FAIL" in icmp and "CAP_NET_RAW" in icmp and "ping_group_range" in icmp
