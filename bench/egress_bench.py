"""The egress benchmark: one 10,000-destination HTTP cycle direct and through one SOCKS5 proxy (microsocks) on
loopback, wall and CPU of each (one run).

    sudo .venv/bin/python bench/egress_bench.py --targets 10000 --concurrency 1000

Like bench/observer_bench.py it re-executes itself in a fresh network namespace (``unshare --net``) and refuses to
go on unless that namespace is new and has only ``lo``; only 127.0.0.0/8 there is contacted. The destinations are
the test bed's answering classes (127.1 HTTP 200 and 127.2 other statuses, half each) served by bench/c2sim.py; the
proxy is Debian's microsocks on 127.0.0.1, pinned with the simulator to the second CPU, c2watch to the first. A run
counts only when every destination is ``responding`` both ways. See docs/benchmarks.md, "Egress".
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import measure
import testbed
from observer_bench import INSIDE_ENV, OUTER_NETNS_ENV, cpus, isolate, need, raise_nofile

BENCH = Path(__file__).resolve().parent
PROXY = ("127.0.0.1", 1080)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--targets", type=int, default=10_000, help="destinations (100..50800)")
    parser.add_argument("--concurrency", type=int, default=1000)
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument("--max-minutes", type=float, default=20.0)
    args = parser.parse_args()
    if not 100 <= args.targets <= 2 * 100 * 254:
        parser.error("--targets must be 100..50800")
    return args


def targets(count: int) -> list[str]:
    """Half 127.1 (200), half 127.2 (other statuses): every destination answers."""
    half = count // 2
    ones = [f"127.1.{i // 254}.{i % 254 + 1}" for i in range(count - half)]
    return ones + [f"127.2.{i // 254}.{i % 254 + 1}" for i in range(half)]


def template(work: Path, addresses: list[str]) -> Path:
    from c2watch.models import WatchlistEntry
    from c2watch.store import open_store

    path = work / "template.db"
    store = open_store(path)
    entries = [WatchlistEntry(threat_id="BENCH-C2", ip=a, port=testbed.HTTP_PORT) for a in addresses]
    store.watchlist.apply(entries, "bench-watchlist", dt.datetime.now(dt.UTC))
    store.close()
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return path


def accepting(address: tuple[str, int]) -> bool:
    try:
        socket.create_connection(address, timeout=0.5).close()
    except OSError:
        return False
    return True


def start_proxy(cpu: int | None, log: Path) -> subprocess.Popen[bytes]:
    command = measure.pinned(cpu, [need("microsocks", "microsocks"), "-i", PROXY[0], "-p", str(PROXY[1])])
    with log.open("wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    end = time.monotonic() + 10
    while not accepting(PROXY):
        if time.monotonic() > end or proc.poll() is not None:
            raise SystemExit(f"microsocks did not start; see {log}")
        time.sleep(0.02)
    return proc


def stop_proxy(proc: subprocess.Popen[bytes]) -> float:
    """Stop it; its CPU seconds."""
    proc.terminate()
    _pid, _status, usage = os.wait4(proc.pid, 0)
    return usage.ru_utime + usage.ru_stime


def run(
    label: str, work: Path, db: Path, args: argparse.Namespace, proxy: bool, extra: tuple[str, ...] = ()
) -> dict[str, Any]:
    prober_cpu, sim_cpu = cpus()
    run_dir = work / label
    run_dir.mkdir()
    shutil.copyfile(db, run_dir / "c2watch.db")
    sim = measure.Service(
        "c2sim",
        [
            sys.executable,
            str(BENCH / "c2sim.py"),
            "--port",
            str(testbed.HTTP_PORT),
            "--stats",
            str(run_dir / "sim.json"),
        ],
        sim_cpu,
        run_dir / "c2sim.log",
    )
    sim.wait_ready()
    socks = start_proxy(sim_cpu, run_dir / "microsocks.log") if proxy else None
    command = [sys.executable, str(BENCH / "c2watch_run.py"), "--db", str(run_dir / "c2watch.db")]
    command += ["--data", str(run_dir), "--concurrency", str(args.concurrency), "--probes", "http"]
    command += ["--result", str(run_dir / "result.json"), *extra]
    if proxy:
        command += ["--proxy", f"socks5h://{PROXY[0]}:{PROXY[1]}"]
    try:
        usage = measure.run(command, prober_cpu, args.max_minutes * 60, run_dir / "c2watch.log")
    finally:
        proxy_cpu = stop_proxy(socks) if socks is not None else 0.0
        sim_usage = sim.stop()
    result = json.loads((run_dir / "result.json").read_text(encoding="utf-8"))
    with sqlite3.connect(run_dir / "c2watch.db") as conn:  # why the ones that did not answer did not
        errors = dict(conn.execute("SELECT http_error, count(*) FROM observations GROUP BY http_error").fetchall())
        details = [
            row[0][:200]
            for row in conn.execute("SELECT details FROM observations WHERE http_error IS NOT NULL LIMIT 3")
        ]
    return {
        "wall_s": round(usage.wall_s, 2),
        "cycle_wall_s": round(result["cycle_wall_s"], 2),
        "c2watch_cpu_s": round(usage.cpu_s, 2),
        "cpu_ms_per_destination": round(1000 * usage.cpu_s / result["destinations"], 3),
        "proxy_cpu_s": round(proxy_cpu, 2),
        "simulator_cpu_s": round(sim_usage.cpu_s, 2),
        "peak_rss_mb": round(usage.maxrss_mb, 1),
        "outcomes": result["outcomes"],
        "http_errors": {str(k): v for k, v in errors.items() if k is not None},
        "error_samples": details,
    }


def inside(args: argparse.Namespace) -> int:
    isolate()
    raise_nofile()
    with tempfile.TemporaryDirectory(prefix="c2watch-egress-bench-") as tmp:
        work = Path(tmp)
        db = template(work, targets(args.targets))
        figures = {"direct": run("direct", work, db, args, proxy=False)}
        figures["socks5"] = run("socks5", work, db, args, proxy=True)
    for label, figure in figures.items():
        print(f"{label:7} {json.dumps(figure)}")
    ratio = figures["socks5"]["cycle_wall_s"] / figures["direct"]["cycle_wall_s"]
    print(f"wall through the proxy / direct: {ratio:.2f}")
    return report(figures, args)


def report(figures: dict[str, Any], args: argparse.Namespace, summary: dict[str, Any] | None = None) -> int:
    """Write the JSON file if asked (the runs' figures and ``summary``); 0 when every destination was responding in
    every run, else 1."""
    if args.json:
        args.json.write_text(json.dumps({**figures, **(summary or {})}, indent=2), encoding="utf-8")
    wrong = [label for label, f in figures.items() if f["outcomes"] != {"responding": args.targets}]
    if wrong:
        print(f"not every destination responding in {wrong}: the run does not count", file=sys.stderr)
        return 1
    return 0


def in_namespace(script: str, inside: Callable[[argparse.Namespace], int]) -> int:
    """Run ``inside`` in a fresh network namespace: ``script`` re-executed under ``unshare --net`` (root only)."""
    args = parse_args()
    if os.environ.get(INSIDE_ENV):
        return inside(args)
    if os.geteuid() != 0:
        print("the benchmark needs root (network namespace)", file=sys.stderr)
        return 2
    resource.setrlimit(resource.RLIMIT_NOFILE, (resource.getrlimit(resource.RLIMIT_NOFILE)[1],) * 2)
    env = {**os.environ, INSIDE_ENV: "1", OUTER_NETNS_ENV: os.readlink("/proc/self/ns/net")}
    command = ["unshare", "--net", "--", sys.executable, str(Path(script).resolve()), *sys.argv[1:]]
    try:
        return subprocess.run(command, env=env, timeout=args.max_minutes * 60 + 60, check=False).returncode
    except subprocess.TimeoutExpired:
        print("the benchmark ran longer than --max-minutes: stopped", file=sys.stderr)
        return 3


def main() -> int:
    return in_namespace(__file__, inside)


if __name__ == "__main__":
    sys.exit(main())
