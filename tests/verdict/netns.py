"""Network namespaces a test creates and removes itself: a bridge namespace and member namespaces joined to it by
veth pairs, with 10.x addresses that exist only inside them. Nothing outside is ever touched; everything goes when
the test ends, even on failure (processes left in a namespace are killed, the namespaces deleted)."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import select
import shutil
import signal
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def require_netns() -> None:
    """Skip (fail in CI) unless namespaces can be made here: root, ip (iproute2) and nft (nftables)."""
    missing = [tool for tool in ("ip", "nft") if shutil.which(tool) is None]
    reason = f"missing {', '.join(missing)} (Debian iproute2, nftables)" if missing else None
    if os.geteuid() != 0:
        reason = "needs root to create network namespaces"
    if reason:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


def _run(*argv: str, stdin: str | None = None) -> None:
    done = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=30, check=False)
    if done.returncode:
        raise RuntimeError(f"{' '.join(argv)}: {done.stderr.strip()}")


def clean_env() -> dict[str, str]:
    """The environment for processes in a namespace: no proxies, the tree on the import path."""
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower() and not k.startswith("C2WATCH_")}
    return {**env, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}


@dataclass
class Netns:
    """``c2w-<random>-<member>`` namespaces on one bridge (in ``c2w-<random>-br``)."""

    prefix: str = field(default_factory=lambda: f"c2w-{secrets.token_hex(3)}")
    created: list[str] = field(default_factory=list)
    processes: list[subprocess.Popen[str]] = field(default_factory=list)

    def name(self, member: str) -> str:
        return f"{self.prefix}-{member}"

    def _add(self, member: str) -> str:
        name = self.name(member)
        _run("ip", "netns", "add", name)
        self.created.append(name)
        _run("ip", "-n", name, "link", "set", "lo", "up")
        return name

    def build(self, members: dict[str, Sequence[str]], cidr: int = 24) -> None:
        """Create the bridge and one namespace per member with its addresses (``{"hub": ["10.77.0.2"]}``)."""
        bridge = self._add("br")
        _run("ip", "-n", bridge, "link", "add", "br0", "type", "bridge")
        _run("ip", "-n", bridge, "link", "set", "br0", "up")
        for index, (member, addresses) in enumerate(members.items()):
            name = self._add(member)
            port = f"v{index}"
            _run("ip", "-n", bridge, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", name)
            _run("ip", "-n", bridge, "link", "set", port, "master", "br0", "up")
            _run("ip", "-n", name, "link", "set", "eth0", "up")
            for address in addresses:
                _run("ip", "-n", name, "addr", "add", f"{address}/{cidr}", "dev", "eth0")

    def run(self, member: str, *argv: str, stdin: str | None = None) -> None:
        _run("ip", "netns", "exec", self.name(member), *argv, stdin=stdin)

    def spawn(self, member: str, argv: Sequence[str], log: Path, **env: str) -> subprocess.Popen[str]:
        """Start ``argv`` inside ``member`` with pipes on stdin/stdout and stderr to ``log``."""
        with log.open("a", encoding="utf-8") as err:
            proc = subprocess.Popen(
                ["ip", "netns", "exec", self.name(member), *argv],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
                env={**clean_env(), **env},
                cwd=ROOT,
            )
        self.processes.append(proc)
        return proc

    def teardown(self) -> None:
        """Stop our processes, kill anything left in our namespaces, delete them (safe after a partial build)."""
        for proc in self.processes:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.processes:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
            for pipe in (proc.stdin, proc.stdout):
                if pipe is not None:
                    pipe.close()
        for name in reversed(self.created):
            pids = subprocess.run(["ip", "netns", "pids", name], capture_output=True, text=True, check=False)
            for pid in pids.stdout.split():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(pid), signal.SIGKILL)
            subprocess.run(["ip", "netns", "del", name], capture_output=True, check=False)
        self.created.clear()


class Driver:
    """A process that answers one JSON line on stdout for each JSON line on stdin."""

    def __init__(self, proc: subprocess.Popen[str], log: Path, timeout: float = 120.0) -> None:
        self.proc, self.log, self.timeout = proc, log, timeout

    def send(self, **command: Any) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()

    def reply(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], self.timeout)  # bounded wait for the answer
        line = self.proc.stdout.readline() if ready else ""
        if not line:
            self.proc.poll()
            raise AssertionError(f"no answer (exit {self.proc.returncode}):\n{self.log.read_text()[-4000:]}")
        answer: dict[str, Any] = json.loads(line)
        if "error" in answer:
            raise AssertionError(f"{answer['error']}\n{self.log.read_text()[-4000:]}")
        return answer

    def call(self, **command: Any) -> dict[str, Any]:
        self.send(**command)
        return self.reply()


def python(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]
