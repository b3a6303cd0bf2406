"""What the passive fingerprint costs a cycle: one 10,000-destination HTTP cycle with the HTTP probe's fingerprint
(server, header order, SHA-256, MurmurHash3, title) and one with the body's SHA-256 alone, as before it (one run
each, side by side, the same test bed as bench/egress_bench.py).

    sudo .venv/bin/python bench/fingerprint_cycle_bench.py --targets 10000 --concurrency 1000

It re-executes itself in a fresh network namespace (``unshare --net``); only 127.0.0.0/8 there is contacted. The
figure is c2watch's CPU per destination with and without, and their ratio (the goal: at most 1.15).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

from egress_bench import parse_args, run, targets, template
from observer_bench import INSIDE_ENV, OUTER_NETNS_ENV, isolate, raise_nofile


def inside() -> int:
    args = parse_args()
    isolate()
    raise_nofile()
    with tempfile.TemporaryDirectory(prefix="c2watch-fingerprint-bench-") as tmp:
        work = Path(tmp)
        db = template(work, targets(args.targets))
        figures = {"without": run("without", work, db, args, proxy=False, extra=("--no-fingerprint",))}
        figures["with"] = run("with", work, db, args, proxy=False)
    for label, figure in figures.items():
        print(f"{label:8} {json.dumps(figure)}")
    ratio = figures["with"]["cpu_ms_per_destination"] / figures["without"]["cpu_ms_per_destination"]
    print(f"CPU per destination with the fingerprint / without: {ratio:.3f} (goal <= 1.15)")
    if args.json:
        args.json.write_text(json.dumps({**figures, "cpu_ratio": ratio}, indent=2), encoding="utf-8")
    wrong = [label for label, f in figures.items() if f["outcomes"] != {"responding": args.targets}]
    if wrong:
        print(f"not every destination responding in {wrong}: the run does not count", file=sys.stderr)
        return 1
    return 0


def main() -> int:
    if os.environ.get(INSIDE_ENV):
        return inside()
    if os.geteuid() != 0:
        print("the benchmark needs root (network namespace)", file=sys.stderr)
        return 2
    resource.setrlimit(resource.RLIMIT_NOFILE, (resource.getrlimit(resource.RLIMIT_NOFILE)[1],) * 2)
    env = {**os.environ, INSIDE_ENV: "1", OUTER_NETNS_ENV: os.readlink("/proc/self/ns/net")}
    command = ["unshare", "--net", "--", sys.executable, str(Path(__file__).resolve()), *sys.argv[1:]]
    return subprocess.run(command, env=env, timeout=40 * 60, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
