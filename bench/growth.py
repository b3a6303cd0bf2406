"""The growth law of a c2watch cycle: wall time, CPU time and peak RSS against the number of destinations.

Reads the JSON files of several observer benchmark runs (``observer_bench.py --json``), one per size, and writes a
markdown table (to standard output or --markdown) and a log-log plot (--plot, PNG; needs matplotlib: the ``bench``
extra, ``pip install -e '.[bench]'``)::

    python bench/growth.py runs/10k.json runs/100k.json runs/1m.json --plot docs/img/growth.png

Per size it takes the full c2watch cycle (ICMP and HTTP) and, beside it, the ratio to the previous size, so that
linear growth shows as the same factor as the destinations, and how much CPU time others took on the cycle's CPU
meanwhile (a disturbed run's wall time says more about the machine than about c2watch).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

__all__ = ["load_points", "markdown_table", "plot"]


def load_points(paths: list[Path]) -> list[dict[str, Any]]:
    """One point per run (``growth`` in its JSON, else read off its c2watch result), smallest first."""
    points = []
    for path in paths:
        data = json.loads(path.read_text(encoding="utf-8"))
        point = data.get("growth")
        if point is None:
            base = data["results"]["c2watch"]
            keys = ("wall_s", "cpu_s", "maxrss_mb", "concurrency", "efficiency", "correct")
            point = {"destinations": data["targets"], **{key: base.get(key) for key in keys}}
        noise = data["results"].get("c2watch", {}).get("noise") or {}
        points.append({**point, "foreign_cpu_s": noise.get("prober_cpu_foreign_s"), "source": path.name})
    return sorted(points, key=lambda p: p["destinations"])


def markdown_table(points: list[dict[str, Any]]) -> str:
    lines = [
        "| destinations | concurrency | wall s | CPU s | CPU ms/destination | peak RSS MB "
        "| growth (dest. / wall / CPU / RSS) | CPU 0 foreign s | correct |",
        "|---:|---:|---:|---:|---:|---:|---|---:|---|",
    ]
    previous: dict[str, Any] | None = None
    for p in points:
        n = p["destinations"]
        growth = "-"
        if previous is not None:
            ratios = [n / previous["destinations"]] + [p[k] / previous[k] for k in ("wall_s", "cpu_s", "maxrss_mb")]
            growth = " / ".join(f"x{r:.1f}" for r in ratios)
        lines.append(
            f"| {n:,} | {p['concurrency']:,} | {p['wall_s']:.1f} | {p['cpu_s']:.1f} | {1000 * p['cpu_s'] / n:.3f} "
            f"| {p['maxrss_mb']:.0f} | {growth} | {_figure(p['foreign_cpu_s'])} | {'yes' if p['correct'] else 'NO'} |"
        )
        previous = p
    return "\n".join(lines) + "\n"


def _figure(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def plot(points: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [p["destinations"] for p in points]
    fig, (time_ax, rss_ax) = plt.subplots(1, 2, figsize=(10, 4))
    time_ax.plot(sizes, [p["wall_s"] for p in points], "o-", label="wall")
    time_ax.plot(sizes, [p["cpu_s"] for p in points], "s-", label="CPU")
    time_ax.set(xscale="log", yscale="log", xlabel="destinations", ylabel="seconds", title="c2watch cycle: time")
    rss_ax.plot(sizes, [p["maxrss_mb"] for p in points], "o-", color="tab:green")
    rss_ax.set(xscale="log", xlabel="destinations", ylabel="MB", title="c2watch cycle: peak RSS")
    rss_ax.set_ylim(bottom=0)
    for ax in (time_ax, rss_ax):
        ax.grid(True, which="both", alpha=0.3)
    time_ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path, help="observer_bench.py --json files, one per size")
    parser.add_argument("--markdown", type=Path, help="write the table here (default: standard output)")
    parser.add_argument("--plot", type=Path, help="write the plot here (PNG)")
    args = parser.parse_args()
    points = load_points(args.runs)
    table = markdown_table(points)
    if args.markdown:
        args.markdown.write_text(table, encoding="utf-8")
    else:
        print(table, end="")
    if args.plot:
        plot(points, args.plot)


if __name__ == "__main__":
    main()
