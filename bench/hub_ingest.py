"""Ingest through one or several `hub serve` replicas on one store: the same pre-encoded envelopes posted by
concurrent clients, client c posting to replica c mod N, with the CPU of each process measured apart."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import orjson
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hub_envelopes import ORG, key_record
from hubproc import (
    cpu_seconds,
    drop_schema,
    free_port,
    machine_busy,
    peak_rss_mb,
    postgres_cpu,
    start_hub,
    stop,
    store_url,
)

from c2watch.store import Store, open_store
from c2watch.taxii.collections import OBSERVATIONS
from c2watch.taxii.media import TAXII_MEDIA


@dataclass
class IngestRun:
    """What one ingest run measured (CPU in seconds over the posting window)."""

    replicas: int
    clients: int
    objects: int
    stored: int = 0
    wall: float = 0.0
    hub_cpu: list[float] = field(default_factory=list)
    hub_rss_mb: list[float] = field(default_factory=list)
    postgres_cpu: float = 0.0
    client_cpu: float = 0.0
    machine_cpu: float = 0.0
    load: tuple[float, float] = (0.0, 0.0)

    @property
    def rate(self) -> float:
        return self.objects / self.wall

    def line(self) -> str:
        hubs = " + ".join(f"{c:.1f}" for c in self.hub_cpu)
        rss = " / ".join(f"{r:.0f}" for r in self.hub_rss_mb)
        return (
            f"{self.replicas} replica(s), {self.clients} clients: {self.objects:,} objects in {self.wall:.1f} s = "
            f"{self.rate:,.0f} objects/s; hub CPU {hubs} s ({sum(self.hub_cpu) / self.objects * 1e6:.1f} µs/object), "
            f"PostgreSQL CPU {self.postgres_cpu:.1f} s ({self.postgres_cpu / self.objects * 1e6:.1f} µs/object), "
            f"load generator CPU {self.client_cpu:.1f} s, machine busy {self.machine_cpu / self.wall:.2f} of "
            f"{os.cpu_count()} cores; "
            f"hub peak RSS {rss} MB; {self.stored:,} objects stored; load average {self.load[0]:.2f} -> "
            f"{self.load[1]:.2f}"
        )


async def _client(session: aiohttp.ClientSession, api: str, queue: asyncio.Queue[bytes]) -> None:
    while not queue.empty():
        body = queue.get_nowait()
        async with session.post(f"{api}collections/{OBSERVATIONS.id}/objects/", data=body) as response:
            status = await response.json(content_type=None, loads=orjson.loads)
            assert response.status == 202 and status["failure_count"] == 0, status


def _headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept": TAXII_MEDIA, "Content-Type": TAXII_MEDIA}


async def warm_up(apis: list[str], token: str) -> None:
    """One request to each hub: the first request of a process pays for imports, not part of the measure."""
    async with aiohttp.ClientSession(headers=_headers(token)) as session:
        for api in apis:
            async with session.get(f"{api}collections/") as response:
                assert response.status == 200


async def post_all(apis: list[str], token: str, bodies: list[bytes], clients: int) -> float:
    """Post every body, ``clients`` at a time, client c to ``apis[c % len(apis)]``; the wall time."""
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    timeout = aiohttp.ClientTimeout(total=1800)
    async with aiohttp.ClientSession(headers=_headers(token), timeout=timeout) as session:
        start = time.perf_counter()
        await asyncio.gather(*(_client(session, apis[c % len(apis)], queue) for c in range(clients)))
        return time.perf_counter() - start


def stored_objects(store: Store) -> int:
    with store.connect() as conn:
        query = sa.text("SELECT count(*) FROM taxii_objects WHERE collection = :c")
        return int(conn.execute(query, {"c": OBSERVATIONS.id}).scalar_one())


def hub_store(
    backend: str, workdir: Path, key: Ed25519PrivateKey | None, name: str
) -> tuple[Store, str, str, str | None]:
    """A fresh hub store with the bench organisation, an observer token and (signed runs) the observer's key."""
    url, schema = store_url(backend, workdir, name)
    store = open_store(url)
    store.access.add_organization(ORG)
    token, _ = store.access.create_token(ORG, "bench", "observer")
    if key is not None:
        store.keys.add(key_record(key))
    return store, url, token, schema


def profiler(pid: int, path: Path) -> subprocess.Popen[bytes]:
    command = [
        str(Path(sys.executable).parent / "py-spy"),
        "record",
        "--pid",
        str(pid),
        "--rate",
        "200",
        "--format",
        "raw",
        "--output",
        str(path),
    ]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop_profiler(proc: subprocess.Popen[bytes], path: Path) -> None:
    proc.send_signal(signal.SIGINT)
    proc.wait(60)
    print(f"py-spy profile (raw collapsed stacks): {path}")


def measure(
    backend: str,
    replicas: int,
    clients: int,
    bodies: list[tuple[bytes, int]],
    key: Ed25519PrivateKey | None,
    profile: Path | None = None,
) -> IngestRun:
    """One run on a fresh store: ``replicas`` hubs, every body posted, CPU of each process over the window."""
    workdir = Path(tempfile.mkdtemp(prefix="c2watch-hub-ingest-"))
    store, url, token, schema = hub_store(backend, workdir, key, f"r{replicas}")
    ports = [free_port() for _ in range(replicas)]
    hubs = [start_hub(url, workdir, port) for port in ports]
    run = IngestRun(replicas, clients, sum(n for _, n in bodies))
    apis = [f"http://127.0.0.1:{port}/api/" for port in ports]
    try:
        asyncio.run(warm_up(apis, token))
        spy = profiler(hubs[0].pid, profile) if profile else None
        cpu, pg, busy = [cpu_seconds(h.pid) for h in hubs], postgres_cpu(), machine_busy()[0]
        own, load = time.process_time(), os.getloadavg()[0]
        run.wall = asyncio.run(post_all(apis, token, [body for body, _ in bodies], clients))
        run.client_cpu = time.process_time() - own
        run.hub_cpu = [cpu_seconds(h.pid) - c for h, c in zip(hubs, cpu, strict=True)]
        run.postgres_cpu, run.machine_cpu = postgres_cpu() - pg, machine_busy()[0] - busy
        run.load, run.hub_rss_mb = (load, os.getloadavg()[0]), [peak_rss_mb(h.pid) for h in hubs]
        if spy is not None and profile is not None:
            stop_profiler(spy, profile)
        run.stored = stored_objects(store)
    finally:
        stop(hubs)
        store.close()
        drop_schema(schema)
        shutil.rmtree(workdir, ignore_errors=True)
    return run
