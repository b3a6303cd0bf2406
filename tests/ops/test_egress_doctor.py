"""``c2watch doctor`` checks each configured proxy: a real microsocks on loopback that accepts us, one that wants a
password we do not have, and one that is down (nothing listens)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from c2watch.cli import cli
from tests.helpers.proxies import accepting, free_port, require_proxies, start_microsocks, stop, wait_until


@pytest.fixture
def proxies(tmp_path: Path) -> Iterator[tuple[int, int]]:
    """An open microsocks and one that wants user ``u`` with password ``p``."""
    require_proxies()
    ports = free_port(), free_port()
    procs = [
        start_microsocks("127.0.0.1", ports[0], tmp_path / "open.log"),
        start_microsocks("127.0.0.1", ports[1], tmp_path / "locked.log", credentials=("u", "p")),
    ]
    try:
        for port in ports:
            wait_until(accepting("127.0.0.1", port), "microsocks")
        yield ports
    finally:
        for proc in procs:
            stop(proc)


def test_doctor_checks_every_proxy(home: Path, proxies: tuple[int, int]) -> None:
    down = free_port()
    home.mkdir(parents=True, exist_ok=True)
    (home / "c2watch.toml").write_text(
        '[cycle]\nprobes = ["icmp", "http"]\n[egress]\ndirect = ["icmp"]\nproxies = [\n'
        f'  {{url = "socks5h://127.0.0.1:{proxies[0]}", label = "open"}},\n'
        f'  {{url = "socks5h://127.0.0.1:{proxies[1]}", label = "locked"}},\n'
        f'  {{url = "socks5h://u:p@127.0.0.1:{proxies[1]}", label = "unlocked"}},\n'
        f'  {{url = "http://127.0.0.1:{down}", label = "down"}},\n]\n',
        encoding="utf-8",
    )
    assert CliRunner().invoke(cli, ["init"]).exit_code == 0
    result = CliRunner().invoke(cli, ["doctor", "--json"])
    assert result.exit_code == 1, result.output
    checks = {c["name"]: c for c in json.loads(result.stdout)}
    levels = {name: c["level"] for name, c in checks.items() if name.startswith("egress")}
    assert levels == {
        "egress open": "ok",
        "egress locked": "fail",
        "egress unlocked": "ok",
        "egress down": "fail",
        "egress": "warn",
    }
    assert "unreachable" in checks["egress down"]["message"] and "refused" in checks["egress locked"]["message"]
    assert checks["egress"]["message"].startswith("icmp leave from this host's address")
    assert "u:p" not in result.stdout  # credentials never shown
