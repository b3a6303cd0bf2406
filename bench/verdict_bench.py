"""The verdict refresh over many destinations (goal: ≤ 60 s after one cycle of 1,000,000 destinations).

Builds a store (SQLite in a temporary directory, and PostgreSQL in a schema of its own when ``--postgres`` is given)
with ``--destinations`` destinations (1,000 per threat) and ``--history`` cycles of one observer, every observation
stored through the writer's own bulk path (:func:`c2watch.store.bulk.insert_new_observations`, in the shape
:func:`c2watch.models.rows.observation_row` gives). Addresses and URLs are data only: nothing is contacted. Then it
times three refreshes (:func:`c2watch.analysis.events.refresh`, as ``c2watch observe`` and the agent run it):

- ``first``: the first refresh, over the whole history;
- ``cycle``: after one more full cycle of every destination (the steady state, every 4 hours);
- ``idle``: again with nothing new.

Each is reported as wall, CPU (this process; the PostgreSQL server's is not counted) and peak RSS, split into the
refresh's phases: fold summaries, fold identities, verdicts (evaluate), save, events (detect and record). Where
Linux lets a process reset its peak (``/proc/self/clear_refs``), each phase's own peak RSS is reported too, so that
one phase's memory is not hidden under another's; ``--cases first`` times only the first refresh. With
``--profile`` each phase's top functions by own time (cProfile) are printed too (slower: time those runs apart).
Every destination's evidence is the same each cycle (but the status of every 1,000th); ``--vary PCT`` gives PCT % of
the destinations a new ``Server`` header and body hash each cycle (what the identity fold must test again).
With ``--peer-src DIR`` the same runs are made with the ``c2watch`` package found in ``DIR`` (for instance an
export of the main branch), and both are printed side by side; each run is its own process on its own store.

    python bench/verdict_bench.py                                     # 10,000 destinations, SQLite
    python bench/verdict_bench.py --destinations 1000000 --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test
    git archive main src | tar -x -C /tmp/main-code
    python bench/verdict_bench.py --destinations 100000 --peer-src /tmp/main-code/src --peer-name main
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import json
import os
import pstats
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any
from urllib.parse import quote

PER_THREAT = 1000
CHUNK = 50_000
CYCLE = dt.timedelta(hours=4)
START = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
CASES = ("first", "cycle", "idle")
PHASES = ("fold summaries", "fold identities", "verdicts", "save", "events")
_SHA = "ab" * 32


# --- the store ---


@contextmanager
def postgres_schema(base: str) -> Iterator[str]:
    """A URL whose connections live in a fresh schema, dropped afterwards (whatever happens)."""
    import sqlalchemy as sa

    schema = f"verdict_bench_{secrets.token_hex(4)}"
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _address(i: int) -> str:
    return f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}"


def _url(i: int) -> str:
    return f"http://{_address(i)}:8080/gate.php"


def fill_targets(store: Any, count: int) -> None:
    """Threats of 1,000 destinations each, listed by one source (the watch list import's rows, in bulk)."""
    from c2watch.store.tables import target_sources, targets, threats

    with store.begin() as conn:
        conn.execute(
            threats.insert(),
            [{"threat_id": f"T{t:05d}", "created_at": START} for t in range(-(-count // PER_THREAT))],
        )
    for first in range(0, count, CHUNK):
        rows = [
            {
                "threat_pk": i // PER_THREAT + 1,
                "key": f"{_url(i)}|||",
                "url": _url(i),
                "source": "bench",
                "active": True,
                "first_imported_at": START,
            }
            for i in range(first, min(count, first + CHUNK))
        ]
        with store.begin() as conn:
            conn.execute(targets.insert(), rows)
            conn.execute(
                target_sources.insert(),
                [{"target_pk": i + 1, "source": "bench", "listed_at": START} for i in range(first, first + len(rows))],
            )


def _answer(i: int, cycle: int) -> tuple[str, int | None, int]:
    """(outcome, HTTP status, echo replies) of destination ``i`` in ``cycle``: 60 % answer 200, 10 % 404, 10 %
    ping only, 20 % silent; every 1,000th changes status in each cycle, every 997th starts answering at cycle 3."""
    kind = i % 10
    if i % 997 == 5:
        kind = 0 if cycle >= 3 else 8
    if kind <= 5:
        status = 500 if i % 1000 == 1 and cycle % 2 else 200
        return "responding", status, 4
    if kind == 6:
        return "responding", 404, 4
    if kind == 7:
        return "ping-only", None, 4
    return "silent", None, 0


def observation(i: int, cycle: int, cycle_pk: int, observer_pk: int, vary: float = 0.0) -> dict[str, Any]:
    """One stored observation row, as :func:`c2watch.models.rows.observation_row` builds it (``vary``: the percentage
    of destinations whose server header and body change each cycle)."""
    outcome, status, received = _answer(i, cycle)
    address, answered = _address(i), status is not None
    http: dict[str, Any] = {"outcome": "responding" if answered else "error", "elapsed_ms": 40.0 + i % 50}
    varies = i % 1000 < vary * 10
    body = f"{cycle:064x}" if varies else _SHA
    if answered:
        server = ("nginx" if status == 200 else "Apache") + (f"/1.{cycle}" if varies else "")
        http |= {"status": status, "server": server, "body_sha256": body, "address": address, "title": "Login"}
    else:
        http |= {"error": "timeout"}
    icmp = {"outcome": "replied" if received else "timeout", "elapsed_ms": 20.0, "address": address}
    icmp |= {"sent": 4, "received": received, "loss_pct": 100.0 - 25 * received}
    if received:
        icmp |= {"rtt_avg_ms": 20.0 + i % 30, "ttl": 52}
    return {
        "cycle_pk": cycle_pk,
        "observer_pk": observer_pk,
        "target_pk": i + 1,
        "threat_id": f"T{i // PER_THREAT:05d}",
        "observed_at": START + cycle * CYCLE + dt.timedelta(seconds=i % 3600),
        "simulated": False,
        "outcome": outcome,
        "probed_kind": "url",
        "probed_value": _url(i),
        "resolved": [address],
        "ping_outcome": icmp["outcome"],
        "ping_address": address,
        "ping_sent": 4,
        "ping_received": received,
        "ping_loss_pct": icmp["loss_pct"],
        "ping_rtt_avg_ms": icmp.get("rtt_avg_ms"),
        "ping_ttl": icmp.get("ttl"),
        "http_outcome": http["outcome"],
        "http_status": status,
        "http_reason": "OK" if status == 200 else None,
        "http_error": None if answered else "timeout",
        "http_elapsed_ms": http["elapsed_ms"],
        "http_server": http.get("server"),
        "http_content_type": "text/html" if answered else None,
        "http_body_bytes": 512 if answered else None,
        "http_body_sha256": body if answered else None,
        "http_location": None,
        "tls_cert_sha256": None,
        "details": {"refused": [], "dns_error": None, "probes": {"icmp": icmp, "http": http}},
        "stix_id": None,
    }


def fill_cycle(store: Any, count: int, cycle: int, vary: float = 0.0) -> None:
    """One cycle of every destination by the bench's observer, through the writer's bulk insert."""
    from c2watch.store.bulk import insert_new_observations

    slot = START + cycle * CYCLE
    observer_pk = store.observations.ensure_observer("bench", "Bench Org", "identity--b0", "identity--s0", slot)
    cycle_pk = store.observations.start_cycle(observer_pk, slot, slot, False)
    for first in range(0, count, CHUNK):
        rows = [observation(i, cycle, cycle_pk, observer_pk, vary) for i in range(first, min(count, first + CHUNK))]
        with store.begin() as conn:
            insert_new_observations(conn, rows)
    store.observations.finish_cycle(cycle_pk, slot + CYCLE / 2, None, {})


# --- timing the refresh by phase ---


class Phases:
    """Wraps the refresh's steps to time each (wall, CPU, peak RSS; a cProfile of each with ``profile``)."""

    def __init__(self, profile: bool) -> None:
        self.profile = profile
        self.seconds: dict[str, list[float]] = {}
        self.profiles: dict[str, cProfile.Profile] = {}
        self.peaks: dict[str, float] = {}
        self.peak = 0.0  # the run's, over every reset of the process's peak

    def wrap(self, owner: Any, name: str, phase: str) -> None:
        original = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            self.reset_peak()
            wall, cpu = time.perf_counter(), time.process_time()
            profiler = self.profiles.setdefault(phase, cProfile.Profile()) if self.profile else None
            try:
                return profiler.runcall(original, *args, **kwargs) if profiler else original(*args, **kwargs)
            finally:
                spent = self.seconds.setdefault(phase, [0.0, 0.0])
                spent[0] += time.perf_counter() - wall
                spent[1] += time.process_time() - cpu
                self.peaks[phase] = max(self.peaks.get(phase, 0.0), _peak_mb())

        setattr(owner, name, timed)

    def reset_peak(self) -> None:
        """Note the peak so far, then start the process's peak RSS again from its current size (Linux)."""
        self.peak = max(self.peak, _peak_mb())
        with suppress(OSError):
            Path("/proc/self/clear_refs").write_text("5")

    def take(self) -> tuple[dict[str, list[float]], dict[str, cProfile.Profile], dict[str, float]]:
        taken = self.seconds, self.profiles, self.peaks
        self.seconds, self.profiles, self.peaks = {}, {}, {}
        return taken


def instrument(profile: bool) -> Phases:
    from c2watch.analysis import events
    from c2watch.store.roles.events import Events
    from c2watch.store.roles.verdicts import Verdicts

    phases = Phases(profile)
    phases.wrap(Verdicts, "fold_summaries", "fold summaries")
    phases.wrap(Verdicts, "fold_identities", "fold identities")
    for judging in ("evaluate", "evaluate_page"):  # the whole watchlist at once, or page by page
        if hasattr(events, judging):
            phases.wrap(events, judging, "verdicts")
    phases.wrap(Verdicts, "save", "save")
    phases.wrap(events, "detect", "events")
    phases.wrap(Events, "record", "events")
    return phases


def _top(profiler: cProfile.Profile, count: int = 6) -> list[str]:
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime")
    rows = []
    for (path, line, func), (_, calls, own, _cum, _) in sorted(
        stats.stats.items(),  # type: ignore[attr-defined]
        key=lambda item: -item[1][2],
    )[:count]:
        rows.append(f"{own:7.2f} s own  {calls:>9} calls  {Path(path).name}:{line} {func}")
    return rows


def _peak_mb() -> float:
    """The process's peak RSS since it started or since its peak was last reset (VmHWM), else ru_maxrss."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_case(store: Any, settings: Any, phases: Phases, now: dt.datetime) -> dict[str, Any]:
    from c2watch.analysis.events import refresh

    wall, cpu = time.perf_counter(), time.process_time()
    report = refresh(store, settings, now)
    total = [time.perf_counter() - wall, time.process_time() - cpu]
    seconds, profiles, peaks = phases.take()
    phases.reset_peak()
    return {
        "total": total,
        "phases": seconds,
        "phase_peaks_mb": peaks,
        "peak_mb": phases.peak,
        "folded": report.folded,
        "verdicts": report.counts(),
        "new_events": len(report.new_events),
        "profiles": {phase: _top(profiler) for phase, profiler in profiles.items()},
    }


def worker(args: argparse.Namespace) -> dict[str, Any]:
    """Fill a store (in a child process, so that its memory is not this one's), then time the three refreshes."""
    from c2watch.config import Settings
    from c2watch.store import open_store

    store = open_store(args.url)
    phases = instrument(args.profile)
    settings, results = Settings(), {}
    for case in args.cases:
        if case == "cycle":
            _fill_child(args, "cycle", args.history)
        now = START + (args.history + (case != "first")) * CYCLE
        results[case] = run_case(store, settings, phases, now)
        split = ", ".join(f"{name} {wall:.1f}/{cpu:.1f}" for name, (wall, cpu) in results[case]["phases"].items())
        total, peak = results[case]["total"], results[case]["peak_mb"]
        print(
            f"    {args.label} {case}: {total[0]:.1f} s wall, {total[1]:.1f} s CPU, {peak:.0f} MB ({split})",
            file=sys.stderr,
            flush=True,
        )
    store.close()
    return results


def _fill_child(args: argparse.Namespace, what: str, cycle: int = 0) -> None:
    command = [sys.executable, __file__, "--fill", what, "--url", args.url, "--destinations", str(args.destinations)]
    command += ["--cycle", str(cycle), "--history", str(args.history), "--vary", str(args.vary)]
    subprocess.run(command, check=True, env=_env(args))


def _env(args: argparse.Namespace) -> dict[str, str]:
    env = dict(os.environ)
    if args.code:
        env["PYTHONPATH"] = os.pathsep.join([args.code, env.get("PYTHONPATH", "")])
    return env


def fill(args: argparse.Namespace) -> None:
    from c2watch.store import open_store

    store = open_store(args.url)
    began = time.perf_counter()
    if args.fill == "history":
        fill_targets(store, args.destinations)
        for cycle in range(args.history):
            fill_cycle(store, args.destinations, cycle, args.vary)
    else:
        fill_cycle(store, args.destinations, args.cycle, args.vary)
    if store.engine.dialect.name == "postgresql":
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    store.close()
    print(f"    filled {args.fill} in {time.perf_counter() - began:.1f} s", file=sys.stderr, flush=True)


# --- the runs and the table ---


def one_run(args: argparse.Namespace, backend: str, code: str | None, label: str) -> dict[str, Any]:
    with _store_url(args, backend) as url:
        common = ["--url", url, "--destinations", str(args.destinations), "--history", str(args.history)]
        run = argparse.Namespace(**{**vars(args), "url": url, "code": code})
        _fill_child(run, "history")
        command = [sys.executable, __file__, "--worker", *common, "--label", label, "--cases", ",".join(args.cases)]
        if args.profile:
            command.append("--profile")
        done = subprocess.run(command, check=True, env=_env(run), stdout=subprocess.PIPE, text=True)
        return dict(json.loads(done.stdout))


@contextmanager
def _store_url(args: argparse.Namespace, backend: str) -> Iterator[str]:
    if backend == "postgresql":
        with postgres_schema(args.postgres) as url:
            yield url
        return
    with tempfile.TemporaryDirectory(prefix="verdict-bench-") as tmp:
        yield f"sqlite:///{tmp}/c2watch.db"


def _cell(result: dict[str, Any], phase: str | None) -> str:
    wall, cpu = result["total"] if phase is None else result["phases"].get(phase, [0.0, 0.0])
    return f"{wall:7.1f} s / {cpu:6.1f} s"


def report(
    results: dict[tuple[str, str], dict[str, Any]], names: list[str], backends: list[str], n: int, cases: list[str]
) -> None:
    print(f"\nVerdict refresh, {n:,} destinations (wall / CPU of this process; RSS is the process's peak)")
    head = "| backend | case | phase | " + " | ".join(names) + " |"
    print(head)
    print("|" + "---|" * (3 + len(names)))
    for backend in backends:
        for case in cases:
            for phase in (*PHASES, None):
                cells = [_cell(results[(backend, name)][case], phase) for name in names]
                print(f"| {backend} | {case} | {phase or '**total**'} | " + " | ".join(cells) + " |")
            for phase in PHASES:
                mb = [results[(backend, name)][case].get("phase_peaks_mb", {}).get(phase, 0.0) for name in names]
                print(f"| {backend} | {case} | peak RSS in {phase} | " + " | ".join(f"{m:.0f} MB" for m in mb) + " |")
            rss = [f"{results[(backend, name)][case]['peak_mb']:.0f} MB" for name in names]
            print(f"| {backend} | {case} | peak RSS | " + " | ".join(rss) + " |")
    for (backend, name), runs in results.items():
        for case, result in runs.items():
            print(
                f"  {backend} {name} {case}: folded {result['folded']:,}, verdicts {result['verdicts']}, "
                f"new events {result['new_events']}"
            )
            for phase, rows in result["profiles"].items():
                print(f"    {phase}:")
                for row in rows:
                    print(f"      {row}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--destinations", type=int, default=10_000)
    parser.add_argument("--history", type=int, default=4, help="cycles stored before the first refresh")
    parser.add_argument("--vary", type=float, default=0.0, help="%% of destinations whose evidence changes each cycle")
    parser.add_argument("--postgres", help="a PostgreSQL URL (the bench works in a schema of its own)")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--profile", action="store_true", help="print each phase's top functions (cProfile)")
    parser.add_argument("--peer-src", help="a directory holding another c2watch package, run side by side")
    parser.add_argument("--peer-name", default="peer")
    parser.add_argument("--cases", type=lambda text: text.split(","), default=list(CASES), help="e.g. first,cycle")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--fill", choices=("history", "cycle"), help=argparse.SUPPRESS)
    parser.add_argument("--cycle", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--label", default="this", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.code = None
    if args.fill:
        fill(args)
        return
    if args.worker:
        print(json.dumps(worker(args)))
        return
    backends = ([] if args.no_sqlite else ["sqlite"]) + (["postgresql"] if args.postgres else [])
    codes: list[tuple[str, str | None]] = [(args.peer_name, args.peer_src)] if args.peer_src else []
    codes.append(("this", None))
    results = {}
    for backend in backends:
        for name, code in codes:
            print(f"  {backend}, {name} code, {args.destinations:,} destinations …", file=sys.stderr, flush=True)
            results[(backend, name)] = one_run(args, backend, code, name)
    report(results, [name for name, _ in codes], backends, args.destinations, args.cases)


if __name__ == "__main__":
    main()
