"""Where a profiled cycle's time went: the collapsed stacks of ``observer_bench.py --profile`` summed by part.

    python bench/profile_top.py PROFILE_DIR/c2watch.txt [--top 15] [--destinations 10000]

Each sample (py-spy, GIL holder, 250 per second) is given to the innermost frame that belongs to a named part of
the cycle (signing, STIX objects, the store, the HTTP client, ...); samples with no such frame but an asyncio one
are the event loop's own; imports at the process start and loading the targets are counted apart. Then the
functions with the most samples of their own (leaf frames).
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

RATE_HZ = 250  # py-spy --rate in observer_bench.py

# (part, pattern on one frame's "function (file:line)"), innermost match wins, in this order of precedence.
PARTS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern))
    for name, pattern in (
        ("signing (canonical JSON, Ed25519)", r"c2watch/stix/(signing|canonical)\.py|rfc8785/"),
        ("STIX objects", r"c2watch/stix/(observation|vocab)\.py"),
        ("bundle file", r"c2watch/stix/bundle\.py"),
        ("fitting to columns", r"c2watch/store/(observation_fit|fit)\.py"),
        ("row building", r"c2watch/models/rows\.py"),
        ("store insert (SQLAlchemy, SQLite)", r"sqlalchemy/|sqlite3/|c2watch/store/"),
        ("writer (queue, batches)", r"c2watch/observer/writer\.py"),
        ("HTTP probe (aiohttp, fingerprint)", r"aiohttp/|multidict/|yarl/|c2watch/probes/http|c2watch/fingerprint/"),
        ("ICMP pinger", r"c2watch/probes/(pinger|icmp)"),
        ("selection, guard, observation", r"c2watch/observer/select\.py|c2watch/safety\.py|c2watch/models/"),
        ("cycle (workers, admission gate)", r"c2watch/observer/cycle\.py"),
    )
)
LOOP = re.compile(r"asyncio/|uvloop/")
# Parts known by a frame anywhere in the stack, whatever runs inside them.
ENCLOSING = (
    ("imports (process start, not the cycle)", re.compile(r"<frozen importlib")),
    ("loading targets", re.compile(r"Watchlist\.targets|_targets \(c2watch/observer/cycle")),
)


def read_stacks(path: Path) -> Counter[tuple[str, ...]]:
    stacks: Counter[tuple[str, ...]] = Counter()
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks[tuple(stack.split(";"))] += int(count)
    return stacks


def part_of(frames: tuple[str, ...]) -> str:
    for name, pattern in ENCLOSING:
        if any(pattern.search(frame) for frame in frames):
            return name
    for frame in reversed(frames):
        for name, pattern in PARTS:
            if pattern.search(frame):
                return name
    return "event loop (asyncio, uvloop)" if any(LOOP.search(frame) for frame in frames) else "other"


def leaf(frame: str) -> str:
    """``function (file)`` without the line number."""
    return re.sub(r":\d+\)$", ")", frame)


def report(path: Path, top: int, destinations: int | None) -> str:
    stacks = read_stacks(path)
    total = sum(stacks.values())
    parts: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    for frames, count in stacks.items():
        parts[part_of(frames)] += count
        leaves[leaf(frames[-1])] += count
    per = f" / {destinations:,} destinations" if destinations else ""
    lines = [f"{path}: {total} samples = {total / RATE_HZ:.1f} s holding the GIL{per}", "", "| part | share |"]
    lines.append("| --- | ---: |")
    lines += [f"| {name} | {count / total:.1%} |" for name, count in parts.most_common()]
    lines += ["", "| function (own samples) | share |", "| --- | ---: |"]
    lines += [f"| `{name}` | {count / total:.1%} |" for name, count in leaves.most_common(top)]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stacks", type=Path, nargs="+")
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--destinations", type=int)
    args = parser.parse_args()
    print("\n\n".join(report(path, args.top, args.destinations) for path in args.stacks))


if __name__ == "__main__":
    main()
