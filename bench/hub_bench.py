"""Hub ingest and pull benchmark (loopback only).

    python bench/hub_bench.py --backend sqlite --envelopes 40
    python bench/hub_bench.py --backend postgres --envelopes 40 --pull-objects 1000000 --agent-backend sqlite postgres

Starts `c2watch hub serve` in a subprocess on 127.0.0.1 over a fresh store (a SQLite file, or a new schema in the
PostgreSQL named by C2WATCH_TEST_POSTGRES_URL), posts envelopes of 1,000 observations each (about 6,000 STIX objects:
SCOs, two network-traffic, observed-data, sighting; the same 1,000 destinations four hours apart, so from the second
envelope on the 2,050 SCOs and campaigns are identical re-posts) one after the other and reports objects/s and the
hub's CPU time. With --pull-objects N it then fills the hub until its observations collection holds N objects
(--fill http: more envelopes through the hub; --fill store: the same ingest function called in this process on the
hub's store, without HTTP) and times a second agent's full pull (`pull_observations`: every page, indexed into the
agent's own store, SQLite or PostgreSQL by --agent-backend, pages of --page-size objects). Every store and file it
made is removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import sqlalchemy as sa

from c2watch.models.observation import Observation
from c2watch.models.probes import ProbeResult, ProbeTarget
from c2watch.stix.observation import Producer, campaign_object, observation_objects
from c2watch.stix.vocab import identity_ids, timestamp
from c2watch.store import Store, open_store
from c2watch.taxii.backend import StoreBackend
from c2watch.taxii.client import HubClient
from c2watch.taxii.collections import OBSERVATIONS
from c2watch.taxii.gcpause import gc_paused
from c2watch.taxii.media import TAXII_MEDIA
from c2watch.taxii.pull import PULL_PAGE
from c2watch.taxii.sync import SyncReport, pull_observations

ORG = "Bench CSIRT"
T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def observation(i: int, at: dt.datetime) -> Observation:
    address = f"2001:db8::{i:x}"  # documentation range (RFC 3849), one address per destination; never contacted
    url = f"http://[{address}]:8080/g{i}.php"
    target = ProbeTarget(i, f"TID-{i % 50}", "url", url, address, 8080, "http", url, f"/g{i}.php", (address,))
    icmp = ProbeResult(
        "icmp",
        "alive",
        at,
        760.0,
        {"address": address, "sent": 4, "received": 4, "loss_pct": 0.0, "rtt_avg_ms": 20.0, "ttl": 52},
    )
    http = ProbeResult(
        "http",
        "responding",
        at,
        35.0,
        {"address": address, "status": 200, "reason": "OK", "server": "nginx", "body_bytes": 612},
    )
    return Observation(target, at, None, {"icmp": icmp, "http": http}, f"{url}|||8080")


def envelope(producer: Producer, number: int, size: int) -> list[dict[str, Any]]:
    objects: dict[str, dict[str, Any]] = {o["id"]: o for o in producer.identities()}
    at = T0 + dt.timedelta(hours=4 * number)
    created = timestamp(at, millis=True)
    for i in range(size):
        obs = observation(i, at)
        for obj in [campaign_object(obs.target.threat_id), *observation_objects(obs, producer, created)]:
            objects.setdefault(obj["id"], obj)
    return list(objects.values())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def postgres_base() -> str:
    return os.environ.get("C2WATCH_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def store_url(backend: str, workdir: Path, name: str = "hub") -> tuple[str, str | None]:
    if backend == "sqlite":
        return f"sqlite+pysqlite:///{workdir / f'{name}.db'}", None
    schema = f"bench_{name}_{secrets.token_hex(4)}"
    engine = sa.create_engine(postgres_base())
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    return f"{postgres_base()}?options=-csearch_path%3D{schema}", schema


def drop_schema(schema: str | None) -> None:
    if schema:
        engine = sa.create_engine(postgres_base())
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


def start_hub(url: str, workdir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "C2WATCH_HOME": str(workdir)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "c2watch", "hub", "serve", "--db", url, "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(600):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return proc
        except OSError:
            time.sleep(0.05)
    raise SystemExit("hub did not start")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def encoded(producer: Producer, number: int, size: int) -> tuple[bytes, int]:
    objects = envelope(producer, number, size)
    return orjson.dumps({"objects": objects}), len(objects)


async def post_all(api: str, token: str, envelopes: list[bytes]) -> float:
    headers = {"Authorization": f"Bearer {token}", "Accept": TAXII_MEDIA, "Content-Type": TAXII_MEDIA}
    async with aiohttp.ClientSession(headers=headers, timeout=aiohttp.ClientTimeout(total=600)) as session:
        start = time.perf_counter()
        for body in envelopes:
            async with session.post(f"{api}collections/{OBSERVATIONS.id}/objects/", data=body) as response:
                status = await response.json(content_type=None, loads=orjson.loads)
                assert response.status == 202 and status["failure_count"] == 0, status
        return time.perf_counter() - start


def stored_objects(store: Store) -> int:
    with store.connect() as conn:
        return int(
            conn.execute(
                sa.text("SELECT count(*) FROM taxii_objects WHERE collection = :c"), {"c": OBSERVATIONS.id}
            ).scalar_one()
        )


def fill(args: argparse.Namespace, store: Store, api: str, token: str, producer: Producer, first: int) -> None:
    """Add envelopes until the hub's observations collection holds --pull-objects objects."""
    info = store.access.verify_token(token)
    assert info is not None
    number, posted, start = first, 0, time.perf_counter()
    while (held := stored_objects(store)) < args.pull_objects:
        bodies = []
        for _ in range(10):
            objects = envelope(producer, number, args.size)
            posted, number = posted + len(objects), number + 1
            if args.fill == "http":
                bodies.append(orjson.dumps({"objects": objects}))
            else:
                with gc_paused():
                    StoreBackend(store).add_objects(OBSERVATIONS, info, objects, store.clock())
        if bodies:
            asyncio.run(post_all(api, token, bodies))
    seconds = time.perf_counter() - start
    analyze(store)
    print(
        f"fill ({args.fill}): {posted:,} more objects posted in {seconds:.1f} s = {posted / seconds:,.0f} objects/s; "
        f"the hub holds {held:,} objects"
    )


def analyze(store: Store) -> None:
    """Refresh PostgreSQL's statistics of the hub's tables, as autovacuum does within a minute or so on a live hub;
    right after a bulk fill the planner would still think the collection small and sort it whole for each page."""
    if store.engine.dialect.name == "postgresql":
        with store.begin() as conn:
            conn.execute(sa.text("ANALYZE taxii_objects"))


async def pull(api: str, token: str, agent: Store, page_size: int) -> tuple[float, SyncReport]:
    report = SyncReport()
    start = time.perf_counter()
    async with HubClient(api, token, timeout=600) as hub:
        await pull_observations(agent, hub, report, page_size=page_size)
    return time.perf_counter() - start, report


def measure_ingest(args: argparse.Namespace, hub: subprocess.Popen[bytes], api: str, token: str, p: Producer) -> None:
    bodies = [encoded(p, n, args.size) for n in range(args.envelopes)]
    count = sum(objects for _, objects in bodies)
    cpu = cpu_seconds(hub.pid)
    elapsed = asyncio.run(post_all(api, token, [body for body, _ in bodies]))
    cpu = cpu_seconds(hub.pid) - cpu
    print(
        f"{args.backend}: ingest {count:,} objects ({args.envelopes * args.size:,} observations) in "
        f"{elapsed:.1f} s = {count / elapsed:,.0f} objects/s, {args.envelopes * args.size / elapsed:,.0f} "
        f"observations/s; hub CPU {cpu:.1f} s = {cpu / count * 1e6:.1f} µs/object"
    )


def measure_pull(
    args: argparse.Namespace, backend: str, hub: subprocess.Popen[bytes], api: str, token: str, workdir: Path
) -> None:
    url, schema = store_url(backend, workdir, f"agent_{backend}")
    agent = open_store(url)
    try:
        cpu, own = cpu_seconds(hub.pid), time.process_time()
        seconds, report = asyncio.run(pull(api, token, agent, args.page_size))
        cpu, own = cpu_seconds(hub.pid) - cpu, time.process_time() - own
        indexed = len(agent.observations.rows())
        print(
            f"{args.backend} hub -> {backend} agent: pull of {report.pulled_objects:,} objects in "
            f"{seconds:.1f} s = {report.pulled_objects / seconds:,.0f} objects/s; {report.indexed:,} observations "
            f"indexed ({indexed:,} in the agent's store); hub CPU {cpu:.1f} s, agent CPU {own:.1f} s"
        )
    finally:
        agent.close()
        drop_schema(schema)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite", help="the hub's store")
    parser.add_argument("--envelopes", type=int, default=10)
    parser.add_argument("--size", type=int, default=1000, help="observations per envelope")
    parser.add_argument("--pull-objects", type=int, default=0, help="fill the hub to N objects, then time a pull")
    parser.add_argument("--fill", choices=["http", "store"], default="http")
    parser.add_argument("--page-size", type=int, default=PULL_PAGE, help="objects per page of the pull")
    parser.add_argument(
        "--agent-backend", nargs="+", choices=["sqlite", "postgres"], default=["sqlite"], help="one pull per store"
    )
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="c2watch-hub-bench-"))
    url, schema = store_url(args.backend, workdir)
    store = open_store(url)
    store.access.add_organization(ORG)
    token, _ = store.access.create_token(ORG, "bench", "observer")
    producer = Producer(*identity_ids(ORG, "bench-01"), ORG, "bench-01", "bench")
    port = free_port()
    hub = start_hub(url, workdir, port)
    api = f"http://127.0.0.1:{port}/api/"
    print(f"load average {os.getloadavg()[0]:.2f} at the start")
    try:
        if args.envelopes:
            measure_ingest(args, hub, api, token, producer)
        if args.pull_objects:
            fill(args, store, api, token, producer, args.envelopes)
            for backend in args.agent_backend:
                measure_pull(args, backend, hub, api, token, workdir)
        print(f"load average {os.getloadavg()[0]:.2f} at the end")
    finally:
        hub.terminate()
        hub.wait(30)
        store.close()
        drop_schema(schema)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
