"""The hub benchmark's processes and stores: `c2watch hub serve` subprocesses on loopback, fresh stores (a SQLite
file, or a new schema in the PostgreSQL named by C2WATCH_TEST_POSTGRES_URL), and what /proc says of their CPU and
memory."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa

TICK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def postgres_base() -> str:
    return os.environ.get("C2WATCH_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def store_url(backend: str, workdir: Path, name: str = "hub") -> tuple[str, str | None]:
    """A fresh store's URL, and the PostgreSQL schema made for it (to drop at the end)."""
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
    """`c2watch hub serve` on 127.0.0.1:``port``, once it accepts connections."""
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


def stop(hubs: list[subprocess.Popen[bytes]]) -> None:
    for hub in hubs:
        hub.terminate()
    for hub in hubs:
        try:
            hub.wait(30)
        except subprocess.TimeoutExpired:  # still finishing background work: not part of the measure
            hub.kill()
            hub.wait(30)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def peak_rss_mb(pid: int) -> float:
    """A live process's peak resident set (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def postgres_cpu() -> float:
    """CPU seconds of every PostgreSQL process on this machine (server, backends, WAL writer, autovacuum…),
    other users' included; a backend that exits in between takes its share with it."""
    total = 0.0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if (proc / "comm").read_text().strip() == "postgres":
                total += cpu_seconds(int(proc.name))
        except OSError:
            continue
    return total


def machine_busy() -> tuple[float, float]:
    """Busy and total CPU seconds of the whole machine so far (every core; /proc/stat)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:8]]
    idle = fields[3] + fields[4]
    return (sum(fields) - idle) / TICK, sum(fields) / TICK
