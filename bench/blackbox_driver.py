"""Drive Prometheus blackbox_exporter like Prometheus would, at a set concurrency: per destination, four
``/probe?module=icmp_c2`` one after the other ``ECHO_INTERVAL_S`` apart (one echo per probe, each waiting up to
the module's 1 s timeout) alongside one ``/probe?module=http_c2``; ``--concurrency`` destinations in flight.

Writes JSON to --result: the wall time, the driver's own CPU, and per class what the exporter reported.
Only the exporter on 127.0.0.1 is contacted; it probes loopback destinations inside the benchmark's namespace.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import resource
import time
from collections import Counter, defaultdict
from pathlib import Path

import aiohttp
from testbed import ECHO_COUNT, ECHO_INTERVAL_S, HTTP_PORT, class_of, expected

_METRIC = re.compile(r"^([a-z_]+)(?:\{[^}]*\})? (\S+)$", re.M)


def metrics(text: str) -> dict[str, float]:
    return {name: float(value) for name, value in _METRIC.findall(text)}


async def drive(targets: list[str], concurrency: int, exporter: str) -> dict[str, object]:
    classes: defaultdict[str, Counter[str]] = defaultdict(Counter)
    wrong: Counter[str] = Counter()
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def probe(module: str, target: str) -> dict[str, float]:
            async with session.get(f"{exporter}/probe", params={"module": module, "target": target}) as response:
                return metrics(await response.text())

        async def icmp(address: str) -> tuple[int, int | None]:
            received, ttl = 0, None
            for n in range(ECHO_COUNT):
                if n:
                    await asyncio.sleep(ECHO_INTERVAL_S)
                m = await probe("icmp_c2", address)
                if m.get("probe_success") == 1:
                    received += 1
                    hop = m.get("probe_icmp_reply_hop_limit")
                    ttl = int(hop) if hop is not None else ttl
            return received, ttl

        async def http(address: str) -> int:
            m = await probe("http_c2", f"http://{address}:{HTTP_PORT}/")
            return int(m.get("probe_http_status_code", 0))

        queue = iter(targets)

        async def worker() -> None:
            for address in queue:
                (received, ttl), status = await asyncio.gather(icmp(address), http(address))
                k = class_of(address).name
                classes[k][f"icmp-received-{received}"] += 1
                classes[k][f"http-{status or 'no-answer'}"] += 1
                want = expected(address)
                if received != want.received:
                    wrong["icmp-received"] += 1
                if received and ttl is not None and ttl != want.ttl:
                    wrong["icmp-ttl"] += 1
                if status != (want.http_status or 0):
                    wrong["http-status"] += 1

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(min(concurrency, len(targets)))))
        wall = time.perf_counter() - start
    return {"wall_s": wall, "classes": {k: dict(v) for k, v in sorted(classes.items())}, "wrong": dict(wrong)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--targets", required=True)
    parser.add_argument("--concurrency", type=int, required=True)
    parser.add_argument("--exporter", default="http://127.0.0.1:9115")
    parser.add_argument("--result", required=True)
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    targets = Path(args.targets).read_text(encoding="utf-8").split()
    result = asyncio.run(drive(targets, args.concurrency, args.exporter))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result["driver_cpu_s"] = usage.ru_utime + usage.ru_stime
    Path(args.result).write_text(json.dumps(result), encoding="utf-8")


if __name__ == "__main__":
    main()
