"""Processes pinned to a CPU, measured from outside: wall time, user+sys CPU and peak RSS from os.wait4.

wait4 reports the child's own usage plus that of the descendants it waited for, so a tool's process tree is
covered; ``ru_maxrss`` is the largest resident set of any process in it. Every process gets a deadline.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Usage:
    wall_s: float
    user_s: float
    sys_s: float
    maxrss_mb: float
    exit_code: int
    timed_out: bool = False

    @property
    def cpu_s(self) -> float:
        return self.user_s + self.sys_s


def pinned(cpu: int | None, command: list[str]) -> list[str]:
    return command if cpu is None else ["taskset", "-c", str(cpu), *command]


def _usage(start: float, status: int, rusage: object, timed_out: bool) -> Usage:
    return Usage(
        wall_s=time.perf_counter() - start,
        user_s=rusage.ru_utime,  # type: ignore[attr-defined]
        sys_s=rusage.ru_stime,  # type: ignore[attr-defined]
        maxrss_mb=rusage.ru_maxrss / 1024,  # type: ignore[attr-defined]
        exit_code=os.waitstatus_to_exitcode(status),
        timed_out=timed_out,
    )


def run(command: list[str], cpu: int | None, deadline_s: float, log: Path) -> Usage:
    """Run ``command`` pinned to ``cpu`` until it exits (killed after ``deadline_s``); stdout+stderr to ``log``."""
    with log.open("wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(pinned(cpu, command), stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        killed = threading.Event()

        def kill() -> None:
            killed.set()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)

        timer = threading.Timer(deadline_s, kill)
        timer.start()
        try:
            _pid, status, rusage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        return _usage(start, status, rusage, killed.is_set())


class Service:
    """A background process (simulator, exporter) pinned to a CPU; ``stop()`` returns its usage."""

    def __init__(self, name: str, command: list[str], cpu: int | None, log: Path) -> None:
        self.name = name
        self.log = log
        self._out = log.open("wb")
        self.start = time.perf_counter()
        self.proc = subprocess.Popen(
            pinned(cpu, command), stdout=subprocess.PIPE, stderr=self._out, start_new_session=True
        )

    def wait_ready(self, timeout_s: float = 20.0, line: bytes = b"ready") -> None:
        """Wait until the process prints ``line``."""
        assert self.proc.stdout is not None
        end = time.monotonic() + timeout_s
        buffered = b""
        while time.monotonic() < end:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.1)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                if not chunk:
                    break
                buffered += chunk
                if line in buffered:
                    return
            if self.proc.poll() is not None:
                break
        self.stop()
        raise RuntimeError(f"{self.name} did not start; see {self.log}")

    def stop(self, timeout_s: float = 10.0) -> Usage:
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)
        killed = False
        end = time.monotonic() + timeout_s
        while True:
            try:
                pid, status, rusage = os.wait4(self.proc.pid, os.WNOHANG)
            except ChildProcessError:  # already reaped by poll(): it died early
                self._out.close()
                return Usage(time.perf_counter() - self.start, 0.0, 0.0, 0.0, self.proc.returncode or -1)
            if pid:
                break
            if time.monotonic() > end and not killed:
                killed = True
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
            time.sleep(0.02)
        self.proc.returncode = os.waitstatus_to_exitcode(status)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._out.close()
        return _usage(self.start, status, rusage, killed)
