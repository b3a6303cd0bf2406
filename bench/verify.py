"""Check what c2watch stored against the test bed's design: a run with any wrong outcome does not count.

The stored observations are streamed in their start order (a million of them would not fit in memory as rows);
what is kept per destination is its address (the start order, for the floor). Per destination: one observation;
4 echoes sent; the exact received count and loss %; the exact TTL; the HTTP status, reason or error kind; the
overall outcome; no timeout recorded early. Over the responder's class: the RTT error against the set delays (p99
at most ``RTT_P99_LIMIT_MS``). And the STIX bundle (every file of it, when it was split): each file complete, every
line valid JSON, and over all files one observed-data per destination, one network-traffic per probe, one sighting
per responding destination.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from testbed import (
    ECHO_COUNT,
    HTTP_CONNECT_TIMEOUT_S,
    HTTP_TOTAL_TIMEOUT_S,
    SLOW_S,
    class_of,
    expected,
    reaches_server,
)

RTT_P99_LIMIT_MS = 5.0
EARLY_TOLERANCE_MS = 50.0  # a timeout may not end sooner than designed minus this
_COLUMNS = (
    "probed_value",
    "observed_at",
    "id",
    "outcome",
    "ping_outcome",
    "ping_sent",
    "ping_received",
    "ping_loss_pct",
    "ping_rtt_avg_ms",
    "ping_ttl",
    "http_status",
    "http_reason",
    "http_error",
    "http_elapsed_ms",
)


@dataclass
class Verdict:
    ok: bool = True
    problems: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)
    order: list[str] = field(default_factory=list)  # the start order (observed_at), for the floor
    order_seen: set[str] = field(default_factory=set)  # while streaming: destinations met so far
    rtt: dict[str, Any] = field(default_factory=dict)
    stix: dict[str, Any] = field(default_factory=dict)

    def wrong(self, kind: str, example: str) -> None:
        self.ok = False
        self.problems[kind] += 1
        if len(self.examples) < 12:
            self.examples.append(example)


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def _rows(db: Path, cycle_id: int) -> Iterator[dict[str, Any]]:
    """The cycle's observations in start order, streamed."""
    query = f"SELECT {', '.join(_COLUMNS)} FROM observations WHERE cycle_pk = ? ORDER BY observed_at, id"
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        for row in conn.execute(query, (cycle_id,)):
            yield dict(zip(_COLUMNS, row, strict=True))


def check_row(row: dict[str, Any], http: bool, verdict: Verdict, rtt_errors: list[float], kernel: list[float]) -> None:
    address = row["probed_value"]
    want = expected(address)
    name = class_of(address).name

    def expect(kind: str, got: Any, wanted: Any) -> None:
        if got != wanted:
            verdict.wrong(f"{name}: {kind}", f"{address} ({name}): {kind} {got!r}, expected {wanted!r}")

    expect("echoes sent", row["ping_sent"], ECHO_COUNT)
    expect("echoes received", row["ping_received"], want.received)
    expect("loss %", row["ping_loss_pct"], 100.0 * (ECHO_COUNT - want.received) / ECHO_COUNT)
    expect("reply TTL", row["ping_ttl"], want.ttl)
    expect("ping outcome", row["ping_outcome"], "alive" if want.received else "no-reply")
    if want.received and row["ping_rtt_avg_ms"] is not None:
        if want.rtt_ms is not None:
            rtt_errors.append(abs(row["ping_rtt_avg_ms"] - want.rtt_ms))
        else:
            kernel.append(row["ping_rtt_avg_ms"])
    expect("outcome", row["outcome"], want.outcome if http else want.icmp_outcome)
    if not http:
        return
    expect("HTTP status", row["http_status"], want.http_status)
    expect("HTTP reason", row["http_reason"], want.http_reason)
    expect("HTTP error", row["http_error"], want.http_error)
    least = {"silent": HTTP_CONNECT_TIMEOUT_S, "tarpit": HTTP_TOTAL_TIMEOUT_S, "slow": SLOW_S}.get(name)
    if least is not None and (row["http_elapsed_ms"] or 0) < least * 1000 - EARLY_TOLERANCE_MS:
        verdict.wrong(f"{name}: HTTP ended early", f"{address} ({name}): HTTP after {row['http_elapsed_ms']} ms")


def _bundle_file(path: Path, kinds: Counter[str], verdict: Verdict) -> bool:
    """Count one bundle file's objects by type into ``kinds``; False (and a problem noted) when it is not whole."""
    first = last = ""
    with path.open(encoding="utf-8") as lines:  # streamed: a 100,000 bundle is some 300 MB
        for number, line in enumerate(lines, start=1):
            line = line.rstrip("\n")
            if number == 1:
                first = line
                continue
            if line == "]}":
                last = line
                continue
            try:
                kinds[json.loads(line.rstrip(","))["type"]] += 1
            except (ValueError, KeyError):
                verdict.wrong("STIX bundle invalid JSON", f"{path}:{number}: not one JSON object")
                return False
    if not first.startswith('{"type": "bundle"') or last != "]}":
        verdict.wrong("STIX bundle framing", f"{path}: bad first or last line")
        return False
    return True


def check_bundle(paths: list[Path], destinations: int, probes: int, responding: int, verdict: Verdict) -> None:
    """The bundle's files (the first one, then the parts it was split into) hold every observation once."""
    if not paths or not paths[0].exists():
        verdict.wrong("STIX bundle missing", f"no bundle at {paths[0] if paths else '-'}")
        return
    kinds: Counter[str] = Counter()
    for path in paths:
        if not _bundle_file(path, kinds, verdict):
            return
    verdict.stix = {
        "files": len(paths),
        "objects": sum(kinds.values()),
        "bytes": sum(path.stat().st_size for path in paths),
        **dict(kinds),
    }
    for kind, count in (
        ("observed-data", destinations),
        ("network-traffic", destinations * probes),
        ("sighting", responding),
    ):
        if kinds[kind] != count:
            verdict.wrong(f"STIX {kind} count", f"{paths[0]}: {kinds[kind]} {kind}, expected {count}")


def check_one_get(c2sim: dict[str, Any], targets: list[str], verdict: Verdict) -> None:
    """Exactly one connection (one GET) per destination that reaches the HTTP simulator."""
    expected_count = sum(1 for a in targets if reaches_server(a))
    got = (c2sim.get("connections"), c2sim.get("destinations"), c2sim.get("destinations_connected_twice_or_more"))
    if got != (expected_count, expected_count, 0):
        verdict.wrong(
            "HTTP requests per destination",
            f"the simulator saw (connections, destinations, repeated) {got}, expected ({expected_count}, "
            f"{expected_count}, 0)",
        )


def verify(db: Path, cycle_id: int, targets: list[str], probes: list[str], stix_paths: list[Path] | None) -> Verdict:
    verdict = Verdict()
    http = "http" in probes
    wanted = set(targets)
    repeated = unknown = responding = 0
    rtt_errors: list[float] = []
    kernel: list[float] = []
    for row in _rows(db, cycle_id):
        address = row["probed_value"]
        if address not in wanted:
            repeated += address in verdict.order_seen
            unknown += address not in verdict.order_seen
            continue
        wanted.discard(address)
        verdict.order_seen.add(address)
        verdict.order.append(address)
        responding += row["outcome"] == "responding"
        check_row(row, http, verdict, rtt_errors, kernel)
    verdict.order_seen.clear()
    if wanted or repeated or unknown:
        verdict.wrong(
            "observations",
            f"{len(verdict.order)} of {len(targets)} destinations observed; {len(wanted)} missing, {repeated} "
            f"observed twice or more, {unknown} not in the test bed",
        )
    p99 = percentile(rtt_errors, 0.99)
    verdict.rtt = {
        "responder_destinations": len(rtt_errors),
        "error_ms_p50": percentile(rtt_errors, 0.5),
        "error_ms_p99": p99,
        "error_ms_max": max(rtt_errors, default=None),
        "kernel_rtt_ms_p50": percentile(kernel, 0.5),
        "kernel_rtt_ms_p99": percentile(kernel, 0.99),
    }
    if p99 is None or p99 > RTT_P99_LIMIT_MS:
        verdict.wrong("RTT p99 error", f"responder class RTT error p99 {p99} ms > {RTT_P99_LIMIT_MS} ms")
    if stix_paths is None:
        verdict.wrong("STIX bundle missing", "the cycle wrote no bundle")
    else:
        check_bundle(stix_paths, len(targets), len(probes), responding, verdict)
    return verdict
