"""The observer speed benchmark: c2watch against blackbox_exporter and fping on a loopback test bed.

    sudo /tmp/venv0/bin/python bench/observer_bench.py --targets 10000 --concurrency 1000
    sudo /tmp/venv0/bin/python bench/observer_bench.py --targets 100000 --concurrency 2000

The script re-executes itself in a fresh network namespace (``unshare --net``) and refuses to go on unless that
namespace is new and has no interface but ``lo``: the nft rules, the simulators bound to 0.0.0.0 and every probe
exist only there and vanish with it. Only 127.0.0.0/8 is ever contacted. Every process has a deadline.

In that namespace it builds the test bed (testbed.py: classes over 127.<class>.x.y, nft drops, rejects and TTL
rewrites, an HTTP simulator and a user-space ICMP responder, both pinned to CPU 1), then runs, each pinned to CPU 0
and each with a fresh simulator pair: one full c2watch cycle (run_cycle, SQLite store, STIX bundle), one c2watch
cycle with ICMP only (the figure compared with fping), blackbox_exporter driven at the same concurrency, and fping.
It checks every stored c2watch observation against the design and exits 1 when any is wrong: such a run does not
count. See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import measure
import testbed
import verify

BENCH = Path(__file__).resolve().parent
INSIDE_ENV = "C2WATCH_BENCH_NETNS"
OUTER_NETNS_ENV = "C2WATCH_BENCH_OUTER_NETNS"
NFT_TABLE = "c2wbench"
EXPORTER = "prometheus-blackbox-exporter"
EXPORTER_ADDRESS = ("127.0.0.1", 9115)
TESTBED_VERSION = 2  # bump when the target list or the import changes (invalidates the cached stores)
TOOLS = ("c2watch", "c2watch-icmp", "blackbox", "fping")
MAX_CONFIG_CONCURRENCY = 100_000
FPING_CHUNK = (
    16_000  # 4 echoes each: 64,000 sequence numbers, within fping's 65,536  # [cycle] concurrency's upper bound
)

CPU_BOUND_S = 0.005  # CPU seconds per destination a c2watch cycle gets as room in its deadline (a shared machine)
GOALS = {
    "blackbox_ratio": 2.0,  # blackbox wall / c2watch wall, at least
    "fping_ratio": 1.5,  # c2watch ICMP-only wall / fping wall, at most
    "efficiency": 0.90,  # floor / c2watch wall, at least
    "wall_100k_s": 150.0,
    "rss_100k_mb": 256.0,
    "wall_1m_s": 1800.0,
    "rss_1m_mb": 1024.0,
    "cpu_ms_per_destination": 1.5,
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--targets", type=int, default=10_000, help=f"destinations (100..{testbed.MAX_TARGETS})")
    parser.add_argument("--concurrency", type=int, default=1000, help="destinations in flight (c2watch, blackbox)")
    parser.add_argument(
        "--icmp-concurrency",
        type=int,
        default=0,
        help="c2watch's concurrency in the ICMP-only run (0: every destination at once, like fping)",
    )
    parser.add_argument(
        "--blackbox-targets",
        type=int,
        default=10_000,
        help="drive blackbox_exporter on at most this many destinations (the first of the same order) and "
        "extrapolate its wall time to all: it needs several ms of CPU per destination (0: all)",
    )
    parser.add_argument("--tools", default=",".join(TOOLS), help=f"comma-separated subset of {','.join(TOOLS)}")
    parser.add_argument("--seed", type=int, default=1, help="target list and c2watch's shuffle")
    parser.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    parser.add_argument("--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "c2watch-bench-cache")
    parser.add_argument("--no-cache", action="store_true", help="import the watchlist even when a cached store exists")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (stores, bundles, logs)")
    parser.add_argument(
        "--profile", type=Path, help="run c2watch under py-spy, collapsed stacks to this directory (slows it down)"
    )
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop", help="c2watch's [cycle] loop")
    parser.add_argument(
        "--nice", type=int, default=-5, help="niceness of every measured tool and simulator (less noise from others)"
    )
    parser.add_argument(
        "--quiet-wait", type=float, default=30.0, help="seconds to wait at most for idle CPUs before each run"
    )
    parser.add_argument("--max-minutes", type=float, default=25.0, help="hard limit for the whole benchmark")
    args = parser.parse_args()
    args.tools = [t for t in args.tools.split(",") if t]
    unknown = set(args.tools) - set(TOOLS)
    if unknown:
        parser.error(f"unknown tools {sorted(unknown)}")
    if not 100 <= args.targets <= testbed.MAX_TARGETS:
        parser.error(f"--targets must be 100..{testbed.MAX_TARGETS}")
    if not 1 <= args.concurrency <= MAX_CONFIG_CONCURRENCY:
        parser.error(f"--concurrency must be 1..{MAX_CONFIG_CONCURRENCY}")
    if args.icmp_concurrency <= 0:
        args.icmp_concurrency = min(args.targets, MAX_CONFIG_CONCURRENCY)
    return args


def raise_nofile() -> int:
    """Soft RLIMIT_NOFILE up to the hard limit (inherited by every process started here); returns it."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


# -- outside: re-execute in a fresh network namespace ------------------------------------------------------


def outer(args: argparse.Namespace) -> int:
    if os.geteuid() != 0:
        print("the benchmark needs root (network namespace, nft, raw ICMP sockets)", file=sys.stderr)
        return 2
    if shutil.which("unshare") is None:
        print("unshare is missing: apt-get install util-linux", file=sys.stderr)
        return 2
    raise_nofile()
    env = {**os.environ, INSIDE_ENV: "1", OUTER_NETNS_ENV: os.readlink("/proc/self/ns/net")}
    command = ["unshare", "--net", "--", sys.executable, str(Path(__file__).resolve()), *sys.argv[1:]]
    try:
        return subprocess.run(command, env=env, timeout=args.max_minutes * 60, check=False).returncode
    except subprocess.TimeoutExpired:
        print(f"the benchmark ran longer than --max-minutes {args.max_minutes}: stopped", file=sys.stderr)
        return 3


# -- inside the namespace -----------------------------------------------------------------------------------


def isolate() -> None:
    """Refuse to run anywhere but in a new namespace with only ``lo``; bring ``lo`` up."""
    outer_ns = os.environ.get(OUTER_NETNS_ENV)
    here = os.readlink("/proc/self/ns/net")
    if not outer_ns or here == outer_ns:
        raise SystemExit("refusing to run: not in a network namespace of the benchmark's own")
    interfaces = sorted(name for _index, name in socket.if_nameindex())  # of this namespace (not /sys)
    if interfaces != ["lo"]:
        raise SystemExit(f"refusing to run: the namespace has interfaces {interfaces}, expected only lo")
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)


def need(tool: str, package: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise SystemExit(f"{tool} is missing: apt-get install {package} (see scripts/bench-debian-packages.txt)")
    return path


def cpus() -> tuple[int | None, int | None]:
    """(prober CPU, simulator CPU)."""
    available = sorted(os.sched_getaffinity(0))
    if len(available) >= 2:
        return available[0], available[1]
    print("warning: one CPU only: nothing is pinned, probers and simulators share it", file=sys.stderr)
    return None, None


class Bench:
    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        self.args = args
        self.work = work
        self.prober_cpu, self.sim_cpu = cpus()
        if self.sim_cpu is not None:  # the orchestrator (verification, bookkeeping) stays off the prober's CPU
            os.sched_setaffinity(0, {self.sim_cpu})
        self.targets = testbed.make_targets(args.targets, args.seed)
        self.results: dict[str, Any] = {}
        self.correct = True

    # -- test bed --------------------------------------------------------------------------------------------

    def load_rules(self) -> None:
        rules = self.work / "testbed.nft"
        rules.write_text(testbed.nft_ruleset(NFT_TABLE), encoding="utf-8")
        subprocess.run(["nft", "-f", str(rules)], check=True)

    def start_simulators(self, label: str, deadline_s: float) -> list[measure.Service]:
        python = sys.executable
        services = []
        for name, script in (("c2sim", "c2sim.py"), ("icmp-responder", "icmp_responder.py")):
            command = [python, str(BENCH / script), "--stats", str(self.work / f"{label}-{name}.json")]
            command += ["--max-seconds", str(deadline_s)]
            if name == "c2sim":
                command += ["--port", str(testbed.HTTP_PORT)]
            service = measure.Service(name, command, self.sim_cpu, self.work / f"{label}-{name}.log")
            services.append(service)
            service.wait_ready()
        return services

    def stop_simulators(self, label: str, services: list[measure.Service]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for service in services:
            usage = service.stop()
            stats = self.work / f"{label}-{service.name}.json"
            out[service.name] = {
                **(json.loads(stats.read_text(encoding="utf-8")) if stats.exists() else {}),
                "cpu_s": round(usage.cpu_s, 2),
            }
        return out

    def store_template(self) -> tuple[Path, dict[str, Any]]:
        """A store with the targets imported by store.watchlist.apply (cached: 1,000,000 take over a minute)."""
        from c2watch.models import WatchlistEntry
        from c2watch.store import open_store

        name = f"targets-v{TESTBED_VERSION}-n{self.args.targets}-s{self.args.seed}.db"
        cached = self.args.cache_dir / name
        if cached.exists() and not self.args.no_cache:
            return cached, {"import": "cached", "cache": str(cached)}
        path = self.work / "template.db"
        store = open_store(path)
        entries = [WatchlistEntry(threat_id="BENCH-C2", ip=a, port=testbed.HTTP_PORT) for a in self.targets]
        start = time.perf_counter()
        report = store.watchlist.apply(entries, "bench-watchlist", dt.datetime.now(dt.UTC))
        took = time.perf_counter() - start
        store.close()
        assert len(report.added) == len(self.targets)
        for suffix in ("-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        self.args.cache_dir.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(".partial")
        shutil.copyfile(path, partial)
        partial.replace(cached)
        return cached, {"import": "store.watchlist.apply", "import_s": round(took, 1), "cache": str(cached)}

    def wait_quiet(self) -> float | None:
        cpus = [c for c in (self.prober_cpu, self.sim_cpu) if c is not None]
        return measure.wait_quiet(cpus, self.args.quiet_wait) if cpus else None

    def noise(self, window: measure.Usage, tool_cpu_s: float, quiet: float | None) -> dict[str, Any]:
        """How busy the prober's CPU was during the run beyond the tool itself (other sessions, kernel work)."""
        if self.prober_cpu is None:
            return {}
        busy = window.busy.get(self.prober_cpu, 0.0)
        return {
            "busy_share_before": quiet,
            "prober_cpu_busy_s": round(busy, 2),
            "prober_cpu_foreign_s": round(max(0.0, busy - tool_cpu_s), 2),
            "sim_cpu_busy_s": round(window.busy.get(self.sim_cpu, 0.0), 2) if self.sim_cpu is not None else None,
        }

    # -- tools -----------------------------------------------------------------------------------------------

    def run_c2watch(self, label: str, template: Path, probes: list[str], concurrency: int) -> dict[str, Any]:
        run_dir = self.work / label
        run_dir.mkdir()
        db = run_dir / "c2watch.db"
        shutil.copyfile(template, db)
        order_floor = testbed.floor(
            testbed.durations(self.targets, "paced", http="http" in probes), concurrency
        )  # an estimate for the deadline; the real floor uses the order c2watch took
        deadline = 4 * order_floor + 120 + len(self.targets) * CPU_BOUND_S  # room for a CPU-bound, shared machine
        services = self.start_simulators(label, deadline + 30)
        quiet = self.wait_quiet()
        command = [sys.executable, str(BENCH / "c2watch_run.py"), "--db", str(db), "--data", str(run_dir)]
        command += ["--concurrency", str(concurrency), "--probes", ",".join(probes), "--seed", str(self.args.seed)]
        command += ["--result", str(run_dir / "result.json"), "--loop", self.args.loop]
        if self.args.profile:
            self.args.profile.mkdir(parents=True, exist_ok=True)
            stacks = self.args.profile.resolve() / f"{label}.txt"
            command = [
                need("py-spy", "py-spy (pip)"),
                "record",
                "--gil",
                "--nonblocking",
                "--format",
                "raw",
                "--rate",
                "250",
                "-o",
                str(stacks),
                "--",
                *command,
            ]
        try:
            usage = measure.run(command, self.prober_cpu, deadline, run_dir / "c2watch.log")
        finally:
            testbed_stats = self.stop_simulators(label, services)
        result_file = run_dir / "result.json"
        if usage.exit_code != 0 or not result_file.exists():
            self.correct = False
            tail = (run_dir / "c2watch.log").read_text(encoding="utf-8", errors="replace")[-3000:]
            print(f"{label}: c2watch failed (exit {usage.exit_code}, timed out: {usage.timed_out})\n{tail}")
            return {"failed": True, "exit_code": usage.exit_code}
        own = json.loads(result_file.read_text(encoding="utf-8"))
        from c2watch.stix.bundle import bundle_parts

        parts = bundle_parts(Path(own["stix_path"])) if own["stix_path"] else None
        verdict = verify.verify(db, own["cycle_id"], self.targets, probes, parts)
        if "http" in probes:
            verify.check_one_get(testbed_stats.get("c2sim", {}), self.targets, verdict)
        log_text = (run_dir / "c2watch.log").read_text(encoding="utf-8", errors="replace")
        saturated = [line for line in log_text.splitlines() if "event loop saturated" in line]
        self.correct &= verdict.ok
        durations = testbed.durations(verdict.order, "paced", http="http" in probes)
        floor = testbed.floor(durations, concurrency)
        return {
            "probes": probes,
            "concurrency": concurrency,
            "wall_s": own["cycle_wall_s"],
            "process_wall_s": usage.wall_s,
            "cpu_s": usage.cpu_s,
            "user_s": usage.user_s,
            "sys_s": usage.sys_s,
            "cycle_cpu_s": own["cycle_cpu_s"],
            "maxrss_mb": usage.maxrss_mb,
            "floor_s": floor,
            "efficiency": floor / own["cycle_wall_s"],
            "outcomes": own["outcomes"],
            "correct": verdict.ok,
            "problems": dict(verdict.problems),
            "examples": verdict.examples,
            "rtt": verdict.rtt,
            "stix": verdict.stix,
            "testbed": testbed_stats,
            "noise": self.noise(usage, usage.cpu_s, quiet),
            "saturated": saturated[-1].split("event loop saturated: ", 1)[-1] if saturated else None,
            "gc": own.get("gc"),
            "order": verdict.order,
        }

    def run_blackbox(self, full_order: list[str]) -> dict[str, Any]:
        exporter = need(EXPORTER, "prometheus-blackbox-exporter")
        limit = self.args.blackbox_targets
        order = full_order[:limit] if limit > 0 else full_order
        share = len(full_order) / len(order)  # > 1 when driven on a prefix: figures are scaled up
        run_dir = self.work / "blackbox"
        run_dir.mkdir()
        config = run_dir / "blackbox.yml"
        config.write_text(blackbox_config(), encoding="utf-8")
        targets = run_dir / "targets.txt"
        targets.write_text("\n".join(order) + "\n", encoding="utf-8")
        concurrency = self.args.concurrency
        floor = testbed.floor(
            testbed.durations(order, "sequential", http=True, connect_timeout=testbed.HTTP_TOTAL_TIMEOUT_S),
            concurrency,
        )
        deadline = 4 * floor + 180
        services = self.start_simulators("blackbox", deadline + 60)
        listen = f"--web.listen-address={EXPORTER_ADDRESS[0]}:{EXPORTER_ADDRESS[1]}"
        service = measure.Service(
            "blackbox_exporter",
            [exporter, f"--config.file={config}", listen, "--log.level=error"],
            self.prober_cpu,
            run_dir / "exporter.log",
        )
        try:
            wait_for_port(EXPORTER_ADDRESS, service)
            quiet = self.wait_quiet()
            command = [sys.executable, str(BENCH / "blackbox_driver.py"), "--targets", str(targets)]
            command += ["--concurrency", str(concurrency), "--result", str(run_dir / "result.json")]
            # The driver plays Prometheus, not the tool under test: it runs beside the simulators.
            driver = measure.run(command, self.sim_cpu, deadline, run_dir / "driver.log")
        finally:
            usage = service.stop()
            testbed_stats = self.stop_simulators("blackbox", services)
        result_file = run_dir / "result.json"
        if driver.exit_code != 0 or not result_file.exists():
            print(f"blackbox driver failed (exit {driver.exit_code}); see {run_dir / 'driver.log'}")
            return {"failed": True}
        own = json.loads(result_file.read_text(encoding="utf-8"))
        return {
            "concurrency": concurrency,
            "destinations": len(order),
            "extrapolated": share > 1,
            "measured_wall_s": own["wall_s"],
            "measured_cpu_s": usage.cpu_s,
            "wall_s": own["wall_s"] * share,
            "cpu_s": usage.cpu_s * share,
            "user_s": usage.user_s,
            "sys_s": usage.sys_s,
            "maxrss_mb": usage.maxrss_mb,
            "driver_cpu_s": own["driver_cpu_s"],
            "driver_maxrss_mb": driver.maxrss_mb,
            "own_floor_s": floor * share,
            "classes": own["classes"],
            "differs_from_design": own["wrong"],
            "testbed": testbed_stats,
            "noise": self.noise(driver, usage.cpu_s, quiet),
        }

    def run_fping(self, order: list[str]) -> dict[str, Any]:
        fping = need("fping", "fping")
        run_dir = self.work / "fping"
        run_dir.mkdir()
        period_ms = int(testbed.ECHO_INTERVAL_S * 1000)
        timeout_ms = int(testbed.ECHO_TIMEOUT_S * 1000)
        # fping keeps at most 65,536 echoes in flight (it refuses larger lists): chunks run at once, one tree.
        chunks = [order[i : i + FPING_CHUNK] for i in range(0, len(order), FPING_CHUNK)]
        commands = []
        for number, chunk in enumerate(chunks):
            targets = run_dir / f"targets-{number}.txt"
            targets.write_text("\n".join(chunk) + "\n", encoding="utf-8")
            command = [fping, "-C", str(testbed.ECHO_COUNT), "-p", str(period_ms), "-t", str(timeout_ms)]
            commands.append([*command, "-i", "0", "-q", "-f", str(targets)])
        deadline = 120 + len(order) / 500
        services = self.start_simulators("fping", deadline + 30)
        quiet = self.wait_quiet()
        try:
            logs = [run_dir / f"fping-{number}.log" for number in range(len(commands))]
            usage = measure.run_many(commands, self.prober_cpu, deadline, logs)
        finally:
            testbed_stats = self.stop_simulators("fping", services)
        replies: dict[str, list[float | None]] = {}
        for log in logs:
            replies.update(parse_fping(log.read_text(encoding="utf-8", errors="replace")))
        differs: dict[str, int] = {}
        errors: list[float] = []
        for address in order:
            want = testbed.expected(address)
            got = replies.get(address)
            if got is None or sum(r is not None for r in got) != want.received:
                differs["icmp-received"] = differs.get("icmp-received", 0) + 1
            elif want.rtt_ms is not None and want.received:
                answered = [r for r in got if r is not None]
                errors.append(abs(sum(answered) / len(answered) - want.rtt_ms))
        return {
            "wall_s": usage.wall_s,
            "cpu_s": usage.cpu_s,
            "user_s": usage.user_s,
            "sys_s": usage.sys_s,
            "maxrss_mb": usage.maxrss_mb,
            "exit_code": usage.exit_code,
            "processes": len(commands),
            "destinations_reported": len(replies),
            "differs_from_design": differs,
            "rtt_error_ms_p99": verify.percentile(errors, 0.99),
            "testbed": testbed_stats,
            "noise": self.noise(usage, usage.cpu_s, quiet),
        }

    # -- the whole run ---------------------------------------------------------------------------------------

    def attempt(self, key: str, run: Callable[[], dict[str, Any]]) -> None:
        """Run one tool; a failure is reported as such and the other tools still run."""
        try:
            self.results[key] = run()
        except Exception as exc:  # a broken tool must not lose the others' figures
            traceback.print_exc()
            self.results[key] = {"failed": True, "error": repr(exc)}
            if key.startswith("c2watch"):
                self.correct = False

    def run(self) -> None:
        args = self.args
        self.load_rules()
        order = self.targets
        if "c2watch" in args.tools or "c2watch-icmp" in args.tools:
            template, info = self.store_template()
            self.results["store"] = info
        if "c2watch" in args.tools:
            self.attempt("c2watch", lambda: self.run_c2watch("c2watch", template, ["icmp", "http"], args.concurrency))
            order = self.results["c2watch"].get("order") or order
        if "c2watch-icmp" in args.tools:
            self.attempt(
                "c2watch-icmp", lambda: self.run_c2watch("c2watch-icmp", template, ["icmp"], args.icmp_concurrency)
            )
        if "blackbox" in args.tools:
            self.attempt("blackbox", lambda: self.run_blackbox(order))
        if "fping" in args.tools:
            self.attempt("fping", lambda: self.run_fping(order))


def blackbox_config() -> str:
    codes = ", ".join(str(c) for c in [200, *(code for code, _ in testbed.STATUS_CODES)])
    return f"""modules:
  http_c2:
    prober: http
    timeout: {testbed.HTTP_TOTAL_TIMEOUT_S:g}s
    http:
      method: GET
      no_follow_redirects: true
      preferred_ip_protocol: ip4
      ip_protocol_fallback: false
      valid_status_codes: [{codes}]
  icmp_c2:
    prober: icmp
    timeout: {testbed.ECHO_TIMEOUT_S:g}s
    icmp:
      preferred_ip_protocol: ip4
      ip_protocol_fallback: false
"""


def wait_for_port(address: tuple[str, int], service: measure.Service, timeout_s: float = 20.0) -> None:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        try:
            socket.create_connection(address, timeout=0.2).close()
            return
        except OSError:
            if service.proc.poll() is not None:
                break
            time.sleep(0.05)
    raise RuntimeError(f"{service.name} did not listen on {address}; see {service.log}")


def parse_fping(text: str) -> dict[str, list[float | None]]:
    """``127.1.0.1 : 20.1 - 20.3 -`` lines of ``fping -C``: per address the RTT of each echo (None: lost)."""
    out: dict[str, list[float | None]] = {}
    for line in text.splitlines():
        address, sep, rest = line.partition(" : ")
        if not sep or not address.startswith("127."):
            continue
        try:
            out[address.strip()] = [None if value == "-" else float(value) for value in rest.split()]
        except ValueError:
            continue  # not a result line: counted as not reported
    return out


# -- the report ---------------------------------------------------------------------------------------------


def report(results: dict[str, Any], args: argparse.Namespace, correct: bool) -> list[str]:
    n = args.targets
    lines = [f"c2watch observer benchmark: {n} destinations, concurrency {args.concurrency}, seed {args.seed}", ""]
    base = results.get("c2watch", {})
    icmp = results.get("c2watch-icmp", {})
    header = f"{'tool':<28}{'wall s':>9}{'CPU s':>9}{'CPU ms/dest':>13}{'peak RSS MB':>13}{'wall vs c2watch':>17}"
    lines += [header + f"{'floor s':>9}{'efficiency':>12}", "-" * (len(header) + 21)]

    def row(name: str, r: dict[str, Any] | None, ref: dict[str, Any] | None, floor_key: str = "floor_s") -> None:
        if not r or r.get("failed"):
            lines.append(f"{name:<28}{'failed' if r else 'not run':>9}")
            return
        ratio = f"{r['wall_s'] / ref['wall_s']:.2f}x" if ref and ref.get("wall_s") else "-"
        floor = r.get(floor_key)
        eff = f"{floor / r['wall_s']:.3f}" if floor else "-"
        lines.append(
            f"{name:<28}{r['wall_s']:>9.2f}{r['cpu_s']:>9.2f}{1000 * r['cpu_s'] / n:>13.3f}{r['maxrss_mb']:>13.1f}"
            f"{ratio:>17}{floor if floor is None else round(floor, 2)!s:>9}{eff:>12}"
        )

    row(f"c2watch icmp+http (C={args.concurrency})", base, base)
    bb_name = f"blackbox_exporter (C={args.concurrency})" + (
        "*" if results.get("blackbox", {}).get("extrapolated") else ""
    )
    row(bb_name, results.get("blackbox"), base, "own_floor_s")
    row(f"c2watch icmp only (C={icmp.get('concurrency', '-')})", icmp, icmp)
    row("fping -C 4 -i 0", results.get("fping"), icmp, "")
    lines.append("")
    noise = [
        f"{key} {r['noise']['prober_cpu_foreign_s']:.1f} s"
        for key, r in results.items()
        if isinstance(r, dict) and r.get("noise")
    ]
    if noise:
        lines.append(
            "CPU 0 busy beyond the tool during each run (other sessions on this machine, kernel threads): "
            + ", ".join(noise)
        )
    if "blackbox" in results and not results["blackbox"].get("failed"):
        b = results["blackbox"]
        if b["extrapolated"]:
            lines.append(
                f"blackbox_exporter was driven on the first {b['destinations']} destinations of the same order: "
                f"{b['measured_wall_s']:.1f} s wall, {b['measured_cpu_s']:.1f} s CPU measured; the row above "
                f"scales wall, CPU and floor to all {n} in proportion (sound when the prefix is many times the "
                f"concurrency: the exporter is CPU-bound, its throughput steady)"
            )
        lines.append(
            f"blackbox_exporter: exporter CPU {b['cpu_s']:.1f} s (shown above) + driver CPU {b['driver_cpu_s']:.1f} s "
            f"(plays Prometheus, pinned beside the simulators); its own floor (one echo per probe, 5 s connect "
            f"timeout) {b['own_floor_s']:.1f} s; differs from design: {b['differs_from_design'] or 'nothing'}"
        )
    if "fping" in results and not results["fping"].get("failed"):
        f = results["fping"]
        lines.append(
            f"fping ({f['processes']} process(es) of at most {FPING_CHUNK} destinations at once): "
            f"{f['destinations_reported']} destinations reported, differs from design: "
            f"{f['differs_from_design'] or 'nothing'}, responder-class RTT error p99 {f['rtt_error_ms_p99']} ms"
        )
    for key in ("c2watch", "c2watch-icmp"):
        r = results.get(key)
        if not r or r.get("failed"):
            continue
        sims = r["testbed"]
        lines.append(
            f"{key}: process wall {r['process_wall_s']:.2f} s (cycle {r['wall_s']:.2f} s), CPU user {r['user_s']:.1f} "
            f"+ sys {r['sys_s']:.1f} s (cycle alone {r['cycle_cpu_s']:.1f} s), outcomes {r['outcomes']}"
        )
        rtt = r["rtt"]
        lines.append(
            f"  RTT error vs set delays over {rtt['responder_destinations']} responder destinations: "
            f"p50 {fmt(rtt['error_ms_p50'])} / p99 {fmt(rtt['error_ms_p99'])} / max {fmt(rtt['error_ms_max'])} ms; "
            f"kernel-answered RTT p99 {fmt(rtt['kernel_rtt_ms_p99'])} ms; responder lateness p99 "
            f"{sims.get('icmp-responder', {}).get('late_ms_p99')} ms"
        )
        if r.get("gc"):
            gc_ = r["gc"]
            lines.append(
                f"  garbage collector: {gc_['collections']} collections, {gc_['total_s']:.2f} s in all, "
                f"longest {1000 * gc_['max_s']:.0f} ms; {gc_['full']} full ones took {gc_['full_s']:.2f} s; "
                f"{gc_['collected']} objects in reference cycles freed"
            )
        if r.get("saturated"):
            lines.append(f"  CPU-bound: the event loop fell behind, destinations waited to start: {r['saturated']}")
        if r.get("stix"):
            lines.append(f"  STIX bundle: {r['stix']}")
        verdict = "CORRECT" if r["correct"] else f"WRONG {r['problems']}"
        lines.append(f"  correctness: {verdict}")
        lines += [f"    e.g. {e}" for e in r["examples"]]
    lines += ["", "goals:"]
    lines += goals(results, args)
    lines += [
        "",
        f"verdict: {'every c2watch observation as designed' if correct else 'WRONG OUTCOMES: run does not count'}",
    ]
    return lines


def fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def goals(results: dict[str, Any], args: argparse.Namespace) -> list[str]:
    out = []
    base = results.get("c2watch", {})
    ok_base = bool(base) and not base.get("failed")

    def line(text: str, met: bool | None) -> None:
        out.append(f"  [{'met' if met else 'MISSED' if met is not None else 'n/a'}] {text}")

    bb = results.get("blackbox", {})
    if ok_base and bb and not bb.get("failed"):
        ratio = bb["wall_s"] / base["wall_s"]
        line(
            f">= {GOALS['blackbox_ratio']}x faster than blackbox_exporter: {ratio:.2f}x",
            ratio >= GOALS["blackbox_ratio"],
        )
    icmp, fp = results.get("c2watch-icmp", {}), results.get("fping", {})
    if icmp and not icmp.get("failed") and fp:
        ratio = icmp["wall_s"] / fp["wall_s"]
        line(f"ICMP phase within {GOALS['fping_ratio']}x of fping: {ratio:.2f}x", ratio <= GOALS["fping_ratio"])
    if ok_base:
        eff = base["efficiency"]
        line(f"efficiency >= {GOALS['efficiency']}: {eff:.3f}", eff >= GOALS["efficiency"])
        cpu_ms = 1000 * base["cpu_s"] / args.targets
        cpu_goal = GOALS["cpu_ms_per_destination"]
        line(f"<= {cpu_goal} ms CPU per destination: {cpu_ms:.3f}", cpu_ms <= cpu_goal)
        at_100k = 100_000 <= args.targets < 1_000_000
        at_1m = args.targets >= 1_000_000
        line(
            f"100,000 destinations in <= {GOALS['wall_100k_s']:g} s: {base['wall_s']:.1f} s",
            base["wall_s"] <= GOALS["wall_100k_s"] if at_100k else None,
        )
        line(
            f"100,000 destinations in <= {GOALS['rss_100k_mb']:g} MB RSS: {base['maxrss_mb']:.0f} MB",
            base["maxrss_mb"] <= GOALS["rss_100k_mb"] if at_100k else None,
        )
        line(
            f"1,000,000 destinations in <= {GOALS['wall_1m_s']:g} s: {base['wall_s']:.1f} s",
            base["wall_s"] <= GOALS["wall_1m_s"] if at_1m else None,
        )
        line(
            f"1,000,000 destinations in <= {GOALS['rss_1m_mb']:g} MB RSS: {base['maxrss_mb']:.0f} MB",
            base["maxrss_mb"] <= GOALS["rss_1m_mb"] if at_1m else None,
        )
    return out


def growth_point(results: dict[str, Any], targets: int) -> dict[str, Any] | None:
    """The full c2watch cycle's wall, CPU and peak RSS at this size (bench/growth.py reads them from the JSON)."""
    base = results.get("c2watch", {})
    if not base or base.get("failed"):
        return None
    keys = ("wall_s", "cpu_s", "maxrss_mb", "concurrency", "efficiency", "correct")
    return {"destinations": targets, **{key: base[key] for key in keys}}


def inner(args: argparse.Namespace) -> int:
    isolate()
    nofile = raise_nofile()
    need("nft", "nftables")
    need("taskset", "util-linux")
    if args.concurrency + 512 > nofile:
        raise SystemExit(f"--concurrency {args.concurrency} needs more file descriptors than the limit {nofile}")
    if "blackbox" in args.tools and 4 * args.concurrency + 256 > nofile:
        raise SystemExit(f"blackbox_exporter at {args.concurrency} needs ~4 fds per destination; limit {nofile}")
    measure.NICE = args.nice
    work = Path(tempfile.mkdtemp(prefix="c2watch-bench-"))
    bench = Bench(args, work)
    started = time.perf_counter()
    try:
        bench.run()
    finally:
        if args.keep:
            print(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    results = bench.results
    for key in ("c2watch", "c2watch-icmp"):
        results.get(key, {}).pop("order", None)
    print("\n".join(report(results, args, bench.correct)))
    print(f"\n(benchmark took {time.perf_counter() - started:.0f} s; nofile limit {nofile})")
    if args.json:
        payload = {"targets": args.targets, "concurrency": args.concurrency, "seed": args.seed, "results": results}
        payload["correct"] = bench.correct
        payload["growth"] = growth_point(results, args.targets)
        args.json.write_text(json.dumps(payload, indent=2, default=str), encoding="utf-8")
    return 0 if bench.correct else 1


def main() -> int:
    args = parse_args()
    if os.environ.get(INSIDE_ENV) != "1":
        return outer(args)
    return inner(args)


if __name__ == "__main__":
    sys.exit(main())
