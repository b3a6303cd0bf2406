"""Real proxies for the egress tests: microsocks (SOCKS5) and tinyproxy (HTTP CONNECT), Debian packages installed by
scripts/install-debian-deps, started on an address the test chose (loopback, or inside a namespace it created)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

__all__ = ["free_port", "require_proxies", "start_microsocks", "start_tinyproxy", "stop", "wait_until"]


def require_proxies() -> None:
    """Skip (fail in CI) unless microsocks and tinyproxy are installed."""
    missing = [tool for tool in ("microsocks", "tinyproxy") if shutil.which(tool) is None]
    if missing:
        reason = f"missing {', '.join(missing)} (Debian packages; scripts/install-debian-deps)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until(ready: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    """Poll ``ready`` (a real check, e.g. a connect) until it holds; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not ready after {timeout} s")
        time.sleep(0.02)


def accepting(host: str, port: int) -> Callable[[], bool]:
    def check() -> bool:
        try:
            socket.create_connection((host, port), timeout=0.5).close()
        except OSError:
            return False
        return True

    return check


def start_microsocks(
    host: str,
    port: int,
    log: Path,
    bind: str | None = None,
    prefix: Sequence[str] = (),
    credentials: tuple[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """microsocks listening on ``host:port``; its outgoing connections from ``bind`` when given; wanting a user and
    password when ``credentials`` are given."""
    argv = [*prefix, "microsocks", "-i", host, "-p", str(port), *(["-b", bind] if bind else [])]
    if credentials:
        argv += ["-u", credentials[0], "-P", credentials[1]]
    with log.open("ab") as out:
        return subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)


def start_tinyproxy(
    host: str, port: int, work: Path, allow: str, prefix: Sequence[str] = ()
) -> subprocess.Popen[bytes]:
    """tinyproxy in the foreground on ``host:port`` for clients in ``allow`` (its log in ``work``); no ``Via``
    header (it never touches a CONNECT tunnel's bytes anyway), every CONNECT port allowed (no ``ConnectPort``)."""
    work.mkdir(parents=True, exist_ok=True)
    conf = work / "tinyproxy.conf"
    conf.write_text(
        f"User nobody\nGroup nogroup\nPort {port}\nListen {host}\nTimeout 30\nMaxClients 1000\n"
        f"Allow {allow}\nDisableViaHeader Yes\nLogLevel Info\n",
        encoding="utf-8",
    )
    with (work / "tinyproxy.log").open("ab") as out:
        return subprocess.Popen([*prefix, "tinyproxy", "-d", "-c", str(conf)], stdout=out, stderr=subprocess.STDOUT)


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
