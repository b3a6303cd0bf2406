"""Hub ingest and pull benchmark (loopback only).

    python bench/hub_bench.py --backend sqlite --envelopes 20
    python bench/hub_bench.py --backend postgres --envelopes 20 --pull-objects 1000000

Starts `c2watch hub serve` in a subprocess on 127.0.0.1 over a fresh store (a SQLite file, or a new schema in the
PostgreSQL named by C2WATCH_TEST_POSTGRES_URL), posts envelopes of 1,000 observations each (about 6,000 STIX objects:
SCOs, two network-traffic, observed-data, sighting) and reports objects/s; then, with --pull-objects N, fills the
hub to N objects and times a second agent pulling (and indexing) all of them.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import sqlalchemy as sa

from c2watch.observer.record import Observation
from c2watch.probes.base import ProbeResult, ProbeTarget
from c2watch.stix.observation import Producer, campaign_object, observation_objects
from c2watch.stix.vocab import identity_ids, timestamp
from c2watch.store import open_store
from c2watch.taxii.client import HubClient
from c2watch.taxii.collections import OBSERVATIONS
from c2watch.taxii.media import TAXII_MEDIA
from c2watch.taxii.sync import SyncReport, pull_observations

ORG = "Bench CSIRT"
T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def observation(i: int, at: dt.datetime) -> Observation:
    address = f"198.51.{i // 250 % 100}.{i % 250 + 1}"
    url = f"http://{address}:8080/g{i}.php"
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


def store_url(backend: str, workdir: Path) -> tuple[str, str | None]:
    if backend == "sqlite":
        return f"sqlite+pysqlite:///{workdir / 'hub.db'}", None
    base = os.environ.get("C2WATCH_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    schema = f"bench_{secrets.token_hex(4)}"
    with sa.create_engine(base).begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    return f"{base}?options=-csearch_path%3D{schema}", schema


def drop_schema(schema: str | None) -> None:
    if schema:
        base = os.environ.get("C2WATCH_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
        with sa.create_engine(base).begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))


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


async def post_all(api: str, token: str, envelopes: list[bytes]) -> float:
    headers = {"Authorization": f"Bearer {token}", "Accept": TAXII_MEDIA, "Content-Type": TAXII_MEDIA}
    async with aiohttp.ClientSession(headers=headers, timeout=aiohttp.ClientTimeout(total=600)) as session:
        start = time.perf_counter()
        for body in envelopes:
            async with session.post(f"{api}collections/{OBSERVATIONS.id}/objects/", data=body) as response:
                status = await response.json(content_type=None)
                assert response.status == 202 and status["failure_count"] == 0, status
        return time.perf_counter() - start


async def pull(api: str, token: str, workdir: Path) -> tuple[float, SyncReport]:
    agent = open_store(workdir / "agent.db")
    report = SyncReport()
    start = time.perf_counter()
    async with HubClient(api, token, timeout=600) as hub:
        await pull_observations(agent, hub, report)
    return time.perf_counter() - start, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--envelopes", type=int, default=10)
    parser.add_argument("--size", type=int, default=1000, help="observations per envelope")
    parser.add_argument("--pull-objects", type=int, default=0)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="c2watch-hub-bench-"))
    url, schema = store_url(args.backend, workdir)
    store = open_store(url)
    store.add_organization(ORG)
    token, _ = store.create_token(ORG, "bench", "observer")
    producer = Producer(*identity_ids(ORG, "bench-01"), ORG, "bench-01", "bench")
    port = free_port()
    hub = start_hub(url, workdir, port)
    api = f"http://127.0.0.1:{port}/api/"
    try:
        bodies = [json.dumps({"objects": envelope(producer, n, args.size)}).encode() for n in range(args.envelopes)]
        count = sum(len(json.loads(b)["objects"]) for b in bodies)
        elapsed = asyncio.run(post_all(api, token, bodies))
        print(
            f"{args.backend}: ingest {count} objects ({args.envelopes * args.size} observations) in "
            f"{elapsed:.1f} s = {count / elapsed:,.0f} objects/s, {args.envelopes * args.size / elapsed:,.0f} "
            "observations/s"
        )
        total, n = count, args.envelopes
        while total < args.pull_objects:
            extra = [json.dumps({"objects": envelope(producer, n + k, args.size)}).encode() for k in range(10)]
            asyncio.run(post_all(api, token, extra))
            total += sum(len(json.loads(b)["objects"]) for b in extra)
            n += 10
        if args.pull_objects:
            seconds, report = asyncio.run(pull(api, token, workdir))
            print(
                f"{args.backend}: pull of {report.pulled_objects} objects by a second agent in {seconds:.1f} s = "
                f"{report.pulled_objects / seconds:,.0f} objects/s; {report.indexed} observations indexed"
            )
    finally:
        hub.terminate()
        hub.wait(30)
        store.close()
        drop_schema(schema)


if __name__ == "__main__":
    main()
