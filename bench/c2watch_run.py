"""One c2watch cycle through the product code, as the measured process of the benchmark.

Runs ``run_cycle`` on the store at --db (targets already imported) with the benchmark profile, a real SQLite store
and the STIX bundle on, and writes what it measured about itself as JSON to --result. The benchmark measures the
whole process from outside as well (os.wait4).
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import random
import resource
import time
from pathlib import Path
from typing import Any

from testbed import ECHO_COUNT, ECHO_INTERVAL_S, ECHO_TIMEOUT_S, HTTP_CONNECT_TIMEOUT_S, HTTP_TOTAL_TIMEOUT_S

from c2watch.config import CycleSettings, Settings
from c2watch.observer import eventloop
from c2watch.observer.cycle import CycleOptions, run_cycle
from c2watch.store import open_store


def benchmark_settings(concurrency: int, probes: list[str], proxy: str = "") -> Settings:
    """The benchmark profile; loopback is allowed explicitly (and DNS, unused for IP targets, stays on it).
    With ``proxy`` every probe but ICMP goes through it (bench/egress_bench.py)."""
    sections: dict[str, dict[str, Any]] = {
        "observer": {"name": "bench-observer", "organization": "c2watch benchmark"},
        "cycle": {"probes": probes, "concurrency": concurrency, "write_stix": True},
        "icmp": {"count": ECHO_COUNT, "interval": ECHO_INTERVAL_S, "timeout": ECHO_TIMEOUT_S, "mode": "raw"},
        "http": {"connect_timeout": HTTP_CONNECT_TIMEOUT_S, "total_timeout": HTTP_TOTAL_TIMEOUT_S},
        "dns": {"nameservers": ["127.0.0.1"], "timeout": 1.0},
        "safety": {"allow_networks": ["127.0.0.0/8"]},
    }
    if proxy:
        sections["egress"] = {"proxies": [{"url": proxy, "label": "bench-proxy"}]}
    return Settings(**sections)


class GcPauses:
    """Time spent in the cyclic garbage collector (gc.callbacks), to tell GC pauses from other loop lag."""

    def __init__(self) -> None:
        self.total_s = 0.0
        self.max_s = 0.0
        self.collections = 0
        self.collected = 0  # unreachable objects found (reference cycles)
        self.full = 0  # collections of the oldest generation
        self.full_s = 0.0
        self.by_generation = [[0, 0.0], [0, 0.0], [0, 0.0]]  # collections and seconds per generation collected
        self._start = 0.0
        gc.callbacks.append(self.callback)

    def callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            took = time.perf_counter() - self._start
            self.total_s += took
            self.max_s = max(self.max_s, took)
            self.collections += 1
            self.collected += info.get("collected", 0)
            generation = self.by_generation[info.get("generation", 0)]
            generation[0] += 1
            generation[1] += took
            if info.get("generation") == 2:
                self.full += 1
                self.full_s += took


def without_fingerprint() -> None:
    """Replace the passive HTTP fingerprint by the body's SHA-256 alone (what the probe computed before it)."""
    import hashlib

    import c2watch.probes.http as http_probe
    from c2watch.fingerprint.http import HttpFingerprint

    def sha256_only(raw_headers: Any, body: bytes) -> HttpFingerprint:
        return HttpFingerprint(None, None, hashlib.sha256(body).hexdigest(), None, None)  # type: ignore[arg-type]

    http_probe.http_fingerprint = sha256_only  # type: ignore[assignment]


async def observe(args: argparse.Namespace) -> dict[str, Any]:
    if args.no_fingerprint:
        without_fingerprint()
    settings = benchmark_settings(args.concurrency, args.probes.split(","), args.proxy)
    store = open_store(Path(args.db))
    pauses = GcPauses()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    summary = await run_cycle(store, settings, Path(args.data), CycleOptions(rng=random.Random(args.seed)))
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    store.close()
    return {
        "cycle_wall_s": wall,
        "cycle_cpu_s": after.ru_utime - usage.ru_utime + after.ru_stime - usage.ru_stime,
        "gc": {
            "collections": pauses.collections,
            "total_s": pauses.total_s,
            "max_s": pauses.max_s,
            "full": pauses.full,
            "full_s": pauses.full_s,
            "collected": pauses.collected,
            "by_generation": pauses.by_generation,
        },
        "cycle_id": summary.cycle_id,
        "destinations": summary.destinations,
        "outcomes": summary.outcomes,
        "stix_path": summary.stix_path,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--concurrency", type=int, required=True)
    parser.add_argument("--probes", default="icmp,http")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--loop", choices=eventloop.LOOPS, default=CycleSettings().loop, help="[cycle] loop")
    parser.add_argument("--result", required=True)
    parser.add_argument("--proxy", default="", help="an [egress] proxy URL every probe but ICMP goes through")
    parser.add_argument(
        "--no-fingerprint",
        action="store_true",
        help="the HTTP probe computes only the body's SHA-256, as before the passive fingerprint (for comparison)",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    result = eventloop.run(observe(args), args.loop)
    Path(args.result).write_text(json.dumps(result), encoding="utf-8")


if __name__ == "__main__":
    main()
