"""What the passive fingerprint costs a cycle: one 10,000-destination HTTP cycle with the HTTP probe's fingerprint
(server, header order, SHA-256, MurmurHash3, title) and one with the body's SHA-256 alone, as before it (one run
each, side by side, the same test bed as bench/egress_bench.py).

    sudo .venv/bin/python bench/fingerprint_cycle_bench.py --targets 10000 --concurrency 1000

It re-executes itself in a fresh network namespace (``unshare --net``); only 127.0.0.0/8 there is contacted. The
figure is c2watch's CPU per destination with and without, and their ratio (the goal: at most 1.15).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from egress_bench import in_namespace, report, run, targets, template
from observer_bench import isolate, raise_nofile


def inside(args: argparse.Namespace) -> int:
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
    return report(figures, args, {"cpu_ratio": ratio})


if __name__ == "__main__":
    sys.exit(in_namespace(__file__, inside))
