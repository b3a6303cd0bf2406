"""Processes pinned to a CPU, measured from outside: wall time, user+sys CPU and peak RSS from os.wait4; and
:func:`timed`, repeated calls timed from inside.

wait4 reports the child's own usage plus that of the descendants it waited for, so a tool's process tree is
covered; ``ru_maxrss`` is the largest resident set of any process in it. Every process gets a deadline.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import statistics
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Usage:
    wall_s: float
    user_s: float
    sys_s: float
    maxrss_mb: float
    exit_code: int
    timed_out: bool = False
    busy: dict[int, float] = field(default_factory=dict)  # per CPU: busy seconds of the machine meanwhile

    @property
    def cpu_s(self) -> float:
        return self.user_s + self.sys_s


def cpu_busy() -> dict[int, float]:
    """Seconds each CPU has been busy (not idle or iowait) since boot, from /proc/stat: the whole machine,
    other sessions included, which is how a run's foreign load is told (busy time minus our processes')."""
    ticks = os.sysconf("SC_CLK_TCK")
    busy: dict[int, float] = {}
    for line in Path("/proc/stat").read_text().splitlines():
        name, *fields = line.split()
        if name.startswith("cpu") and name != "cpu":
            values = [int(v) for v in fields]
            busy[int(name[3:])] = (sum(values[:8]) - values[3] - values[4]) / ticks
    return busy


def wait_quiet(cpus: list[int], limit_s: float, threshold: float = 0.15) -> float:
    """Wait (at most ``limit_s``) until each of ``cpus`` is busy less than ``threshold`` over one second;
    returns the busy share seen last (the worst of ``cpus``)."""
    end = time.monotonic() + limit_s
    while True:
        before = cpu_busy()
        time.sleep(1.0)
        after = cpu_busy()
        worst = max((after[c] - before[c] for c in cpus), default=0.0)
        if worst < threshold or time.monotonic() >= end:
            return worst


NICE = 0  # set by the benchmark: the same niceness for every measured tool and simulator


def pinned(cpu: int | None, command: list[str]) -> list[str]:
    """``command`` pinned to ``cpu`` (taskset) at niceness ``NICE``; both exec, so the pid stays the same."""
    command = command if cpu is None else ["taskset", "-c", str(cpu), *command]
    return ["nice", "-n", str(NICE), *command] if NICE else command


def group_nice(pid: int) -> None:
    """Give the session ``pid`` leads (its scheduler autogroup) the niceness ``NICE`` as well.

    Every measured process starts a session of its own, and with ``kernel.sched_autogroup_enabled`` (the default on
    desktop and many server kernels) the scheduler shares a CPU equally between sessions first: a process's own
    niceness then weighs only against its own session, and a tool at nice -5 got a third of its CPU while two other
    sessions ran there. Without autogroups (or without the file) nothing changes."""
    if NICE:
        with contextlib.suppress(OSError):
            Path(f"/proc/{pid}/autogroup").write_text(str(NICE), encoding="ascii")


def _usage(start: float, status: int, rusage: object, timed_out: bool) -> Usage:
    return Usage(
        wall_s=time.perf_counter() - start,
        user_s=rusage.ru_utime,  # type: ignore[attr-defined]
        sys_s=rusage.ru_stime,  # type: ignore[attr-defined]
        maxrss_mb=rusage.ru_maxrss / 1024,  # type: ignore[attr-defined]
        exit_code=os.waitstatus_to_exitcode(status),
        timed_out=timed_out,
    )


def peak_rss_mb(pid: int) -> float | None:
    """VmHWM of ``pid``: the peak resident set of its current program (reset at exec, unlike ru_maxrss, which
    keeps the high-water mark a forked child inherited from its parent)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return None


class _PeakWatcher(threading.Thread):
    """Polls the VmHWM of processes until stopped; the last value seen is their peak (it only grows)."""

    def __init__(self, pids: list[int]) -> None:
        super().__init__(daemon=True)
        self.peaks = dict.fromkeys(pids, 0.0)
        self._stop_event = threading.Event()
        self.start()

    def run(self) -> None:
        while not self._stop_event.wait(0.1):
            self.sample()

    def sample(self) -> None:
        for pid in self.peaks:
            value = peak_rss_mb(pid)
            if value is not None:
                self.peaks[pid] = max(self.peaks[pid], value)

    def stop(self) -> dict[int, float]:
        self._stop_event.set()
        self.join()
        return self.peaks


def run(command: list[str], cpu: int | None, deadline_s: float, log: Path) -> Usage:
    """Run ``command`` pinned to ``cpu`` until it exits (killed after ``deadline_s``); stdout+stderr to ``log``."""
    return run_many([command], cpu, deadline_s, [log])


def run_many(commands: list[list[str]], cpu: int | None, deadline_s: float, logs: list[Path]) -> Usage:
    """Run ``commands`` at once, each pinned to ``cpu``, as one measured tree: wall until the last ends, CPU
    summed, peak RSS the largest; each one's output to its log."""
    with contextlib.ExitStack() as stack:
        outs = [stack.enter_context(log.open("wb")) for log in logs]
        busy_before = cpu_busy()
        start = time.perf_counter()
        procs = [
            subprocess.Popen(pinned(cpu, c), stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
            for c, out in zip(commands, outs, strict=True)
        ]
        for proc in procs:
            group_nice(proc.pid)
        watcher = _PeakWatcher([p.pid for p in procs])
        killed = threading.Event()

        def kill() -> None:
            killed.set()
            for proc in procs:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)

        timer = threading.Timer(deadline_s, kill)
        timer.start()
        usages = []
        try:
            for proc in procs:
                while True:  # sample VmHWM right before reaping: a zombie has no memory to show
                    watcher.sample()
                    pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
                    if pid:
                        break
                    time.sleep(0.01)
                proc.returncode = os.waitstatus_to_exitcode(status)
                usages.append(_usage(start, status, rusage, killed.is_set()))
        finally:
            timer.cancel()
            peaks = watcher.stop()
        usage = Usage(
            wall_s=time.perf_counter() - start,
            user_s=sum(u.user_s for u in usages),
            sys_s=sum(u.sys_s for u in usages),
            maxrss_mb=max(peaks.values(), default=0.0) or max(u.maxrss_mb for u in usages),
            exit_code=next((u.exit_code for u in usages if u.exit_code), 0),
            timed_out=killed.is_set(),
        )
        usage.busy = {cpu: seconds - busy_before.get(cpu, 0.0) for cpu, seconds in cpu_busy().items()}
        return usage


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
        group_nice(self.proc.pid)
        self._peak = _PeakWatcher([self.proc.pid])

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
        self._peak.sample()
        peak = self._peak.stop()[self.proc.pid]
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
        usage = _usage(self.start, status, rusage, killed)
        usage.maxrss_mb = peak or usage.maxrss_mb
        return usage


def timed(action: Callable[[], Any], repeat: int = 7) -> tuple[float, float]:
    """Call ``action`` ``repeat`` times: (the first, the median of the others) in milliseconds."""
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        action()
        times.append((time.perf_counter() - began) * 1000)
    return times[0], statistics.median(times[1:] or times)
