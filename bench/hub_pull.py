"""A hub filled to N objects, then one agent's full pull of its observations collection, timed.

Fill (``copy``, the default): worker processes make the observer's signed envelopes and turn them into the rows
ingest stores in taxii_objects (the same body, version and type); this process writes them with the store's own
insert (COPY into a staging table on PostgreSQL, then INSERT … ON CONFLICT DO NOTHING, so re-posted SCOs are kept
once), skipping the hub's checks and the dashboard index, which a pull does not read. ``http`` posts the envelopes
through the hub instead. The agent runs in its own process, as `c2watch sync` does its pull: it pins the observer
keys the hub publishes and checks every record's signature against them, and indexes what it pulled into its own
fresh store; its peak RSS is its own.
"""

from __future__ import annotations

import asyncio
import math
import multiprocessing
import resource
import time
from functools import partial
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from hub_envelopes import Row, encoded, producer, stored_rows
from hub_ingest import post_all, profiler, stop_profiler, stored_objects
from hubproc import cpu_seconds, drop_schema, peak_rss_mb, store_url

from c2watch.store import Store, open_store
from c2watch.store.taxii import NewObjects, add_objects
from c2watch.taxii.client import HubClient
from c2watch.taxii.collections import OBSERVATIONS
from c2watch.taxii.keysync import learn_keys
from c2watch.taxii.pull import pull_observations
from c2watch.taxii.sync import SyncReport


def _envelopes_for(target: int, size: int) -> int:
    """Envelopes to reach ``target`` objects: the first adds about 6 objects per observation, later ones 4."""
    return 1 + max(0, math.ceil((target - 6 * size) / (4 * size)))


def fill_copy(store: Store, key: Ed25519PrivateKey, target: int, size: int, workers: int) -> int:
    """Rows of signed envelopes into taxii_objects until it holds ``target`` objects; how many it holds."""
    org_pk, added = _org_pk(store), stored_objects(store)
    raw = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        for rows in pool.imap(partial(stored_rows, raw, size), range(_envelopes_for(target - added, size))):
            added += _write(store, org_pk, rows)
            if added >= target:
                pool.terminate()
                break
    return added


def _org_pk(store: Store) -> int:
    with store.connect() as conn:
        return int(conn.execute(sa.text("SELECT id FROM organizations")).scalar_one())


def _write(store: Store, org_pk: int, rows: list[Row]) -> int:
    with store.taxii.transaction() as conn:
        return len(add_objects(conn, NewObjects(OBSERVATIONS.id, org_pk, store.clock(), rows)))


def fill_http(api: str, token: str, key: Ed25519PrivateKey | None, target: int, size: int, first: int) -> None:
    """Signed envelopes posted through the hub, ten at a time, until the store holds ``target`` objects."""
    p, number = producer(key), first
    for _ in range(0, _envelopes_for(target, size), 10):
        bodies = [encoded(p, n, size)[0] for n in range(number, number + 10)]
        asyncio.run(post_all([api], token, bodies, 1))
        number += 10


def analyze(store: Store) -> None:
    """Refresh PostgreSQL's statistics of the hub's tables, as autovacuum does within a minute or so on a live hub;
    right after a bulk fill the planner would still think the collection small and sort it whole for each page."""
    if store.engine.dialect.name == "postgresql":
        with store.begin() as conn:
            conn.execute(sa.text("ANALYZE taxii_objects"))


async def _pull(api: str, token: str, agent: Store, page_size: int) -> tuple[float, SyncReport]:
    report = SyncReport()
    async with HubClient(api, token, timeout=600) as hub:
        keyring = await learn_keys(agent, hub, report)
        start = time.perf_counter()
        await pull_observations(agent, hub, report, page_size=page_size, keyring=keyring)
    return time.perf_counter() - start, report


def agent_process(api: str, token: str, url: str, page_size: int, out: Connection) -> None:
    """The agent's side, in its own process: pull everything, then report figures through ``out``."""
    agent = open_store(url)
    cpu = time.process_time()
    seconds, report = asyncio.run(_pull(api, token, agent, page_size))
    cpu = time.process_time() - cpu
    with agent.connect() as conn:
        indexed = int(conn.execute(sa.text("SELECT count(*) FROM observations")).scalar_one())
    agent.close()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out.send(
        orjson.dumps(
            {
                "seconds": seconds,
                "objects": report.pulled_objects,
                "indexed": report.indexed,
                "stored": indexed,
                "refused": report.refused,
                "cpu": cpu,
                "rss_mb": rss,
            }
        )
    )


def measure_pull(
    backend: str,
    agent_backend: str,
    hub_pid: int,
    api: str,
    token: str,
    workdir: Path,
    page_size: int,
    profile: Path | None = None,
) -> dict[str, Any]:
    """One agent's full pull into a fresh ``agent_backend`` store; its figures and the hub's."""
    url, schema = store_url(agent_backend, workdir, f"agent_{agent_backend}")
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    try:
        spy = profiler(hub_pid, profile) if profile else None
        hub_cpu = cpu_seconds(hub_pid)
        child = context.Process(target=agent_process, args=(api, token, url, page_size, send))
        child.start()
        figures: dict[str, Any] = orjson.loads(receive.recv())
        child.join(60)
        if spy is not None and profile is not None:
            stop_profiler(spy, profile)
        figures.update(hub_cpu=cpu_seconds(hub_pid) - hub_cpu, hub_rss_mb=peak_rss_mb(hub_pid))
        figures.update(hub=backend, agent=agent_backend)
        return figures
    finally:
        drop_schema(schema)
