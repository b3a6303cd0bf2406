"""``c2watch doctor``: can this machine observe? One line per check, each failure with its fix.

A ``fail`` blocks observation (exit code 1); a ``warn`` degrades it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import resource
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import dns.asyncresolver
import dns.exception

from c2watch.config import Settings
from c2watch.errors import C2WatchError, EgressError
from c2watch.home import exposed_secret_files
from c2watch.probes.egress import Egress, ProxyRoute, open_socket
from c2watch.probes.pinger import open_pinger
from c2watch.store import create_engine, current_revision, head_revision

__all__ = ["Check", "run_checks"]

MIN_FREE_BYTES = 1 << 30
MAX_CLOCK_OFFSET = 5.0


@dataclass(frozen=True)
class Check:
    name: str
    level: str  # ok | warn | fail
    message: str
    fix: str = ""


async def check_icmp(settings: Settings) -> Check:
    try:
        pinger = await open_pinger(settings.icmp.mode)
    except C2WatchError as exc:
        return Check("icmp", "fail", str(exc), "grant CAP_NET_RAW or allow the group in net.ipv4.ping_group_range")
    try:
        if pinger.mode == "unavailable":
            stats = await pinger.ping("127.0.0.1", count=1, timeout=0.2)
            return Check(
                "icmp",
                "fail",
                "neither a raw nor a datagram ICMP socket may be opened",
                stats.error or "grant CAP_NET_RAW or allow the group in net.ipv4.ping_group_range",
            )
        return Check("icmp", "ok", f"ICMP via {pinger.mode} socket")
    finally:
        await pinger.aclose()


async def check_resolver(settings: Settings) -> Check:
    resolver = dns.asyncresolver.Resolver(configure=not settings.dns.nameservers)
    if settings.dns.nameservers:
        resolver.nameservers = list(settings.dns.nameservers)
    resolver.port, resolver.lifetime = settings.dns.port, settings.dns.timeout
    servers = ", ".join(str(s) for s in resolver.nameservers)
    try:
        await resolver.resolve(".", "NS", search=False)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer, dns.resolver.NoNameservers):
        pass  # an answer of any kind means the resolver is reachable
    except (dns.exception.DNSException, OSError) as exc:
        return Check(
            "resolver",
            "fail",
            f"no answer from {servers}: {exc}",
            "set [dns] nameservers to resolvers this host can reach",
        )
    return Check("resolver", "ok", f"resolver {servers} answers")


def check_store(url: str) -> Check:
    try:
        engine = create_engine(url)
        current, head = current_revision(engine), head_revision()
        engine.dispose()
    except Exception as exc:  # any driver error means: not reachable
        return Check("store", "fail", f"store unreachable: {exc}", "check [store] url and that the database runs")
    if current != head:
        return Check(
            "store",
            "warn",
            f"schema at {current}, code expects {head}",
            "run any c2watch command that opens the store (it migrates), e.g. c2watch init",
        )
    return Check("store", "ok", f"store reachable, schema {current}")


def check_disk(home: Path) -> Check:
    free = shutil.disk_usage(home if home.exists() else Path.cwd()).free
    if free < MIN_FREE_BYTES:
        return Check("disk", "fail", f"only {free >> 20} MiB free under {home}", "free space or move C2WATCH_HOME")
    return Check("disk", "ok", f"{free >> 30} GiB free under {home}")


def check_files(settings: Settings) -> Check:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = settings.cycle.concurrency * 2 + 64
    if soft != resource.RLIM_INFINITY and soft < needed:
        return Check(
            "open-files",
            "fail",
            f"soft limit {soft} < {needed} needed for concurrency {settings.cycle.concurrency}",
            f"raise it (ulimit -n {min(hard, needed * 2)}, systemd LimitNOFILE=65536) or lower [cycle] concurrency",
        )
    return Check("open-files", "ok", f"open-file limit {soft} fits concurrency {settings.cycle.concurrency}")


def check_secrets(home: Path, settings: Settings) -> Check:
    """Files of the data directory holding a secret must be readable by their owner only."""
    exposed = exposed_secret_files(home, settings)
    if exposed:
        listed = ", ".join(f"{path} (mode {mode:o})" for path, mode in exposed)
        fix = "chmod 600 " + " ".join(str(path) for path, _ in exposed)
        return Check("secrets", "warn", f"readable by others although they hold a secret: {listed}", fix)
    return Check("secrets", "ok", "files holding a secret are readable by their owner only")


async def check_hub(settings: Settings, clock: Callable[[], dt.datetime]) -> list[Check]:
    """Each URL of ``[hub] url`` answers (and how our clock compares with the first one's that does)."""
    if not settings.hub.urls:
        return [Check("hub", "ok", "no hub configured (observing alone)")]
    checks, dates = [], []
    for url in settings.hub.urls:
        check, date = await _probe_hub(settings, url)
        checks.append(check)
        dates.extend([date] if date else [])
    if dates:
        offset = (clock() - email.utils.parsedate_to_datetime(dates[0])).total_seconds()
        level = "ok" if abs(offset) <= MAX_CLOCK_OFFSET else "warn"
        checks.append(
            Check(
                "clock",
                level,
                f"clock is {offset:+.1f} s from the hub's",
                "" if level == "ok" else "synchronise the clock with NTP (chrony, systemd-timesyncd)",
            )
        )
    return checks


async def _probe_hub(settings: Settings, url: str) -> tuple[Check, str | None]:
    """The check of one hub URL, and the ``Date`` it answered with."""
    headers = {"Authorization": f"Bearer {settings.hub.token}", "Accept": "application/taxii+json;version=2.1"}
    try:
        timeout = aiohttp.ClientTimeout(total=settings.hub.timeout)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(url, headers=headers) as response,
        ):
            status, date = response.status, response.headers.get("Date")
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        fix = "check [hub] url and the network path; cycles go on and the outbox waits"
        return Check("hub", "warn", f"hub {url} unreachable: {exc}", fix), None
    return _hub_status(status, url), date


def _hub_status(status: int, url: str) -> Check:
    if status == 200:
        return Check("hub", "ok", f"hub {url} accepts the token")
    if status in (401, 403):
        return Check(
            "hub",
            "fail",
            f"hub refuses the token ({status})",
            "ask the hub for a new observer token: c2watch hub token create ... --role observer",
        )
    return Check("hub", "warn", f"hub answered {status}", "check [hub] url: it must be the TAXII API root")


async def check_proxy(route: ProxyRoute, timeout: float) -> Check:
    """The proxy accepts us and speaks its protocol: asked to connect to its own address, it is the only host
    contacted (whatever it answers about that connection, it answered)."""
    name = f"egress {route.label}"
    try:
        sock = await open_socket(route, route.host, route.port, timeout)
    except EgressError as exc:
        return Check(name, "fail", str(exc), "start the proxy or fix [egress] proxies (address, credentials)")
    except (OSError, TimeoutError) as exc:
        return Check(name, "ok", f"proxy {route.label} answers (it reported about itself: {exc or 'timeout'})")
    sock.close()
    return Check(name, "ok", f"proxy {route.label} accepts connections")


async def check_egress(settings: Settings) -> list[Check]:
    """One check per configured proxy, and what leaves directly."""
    egress = Egress(settings.egress)
    if not egress.active:
        return []
    checks = list(
        await asyncio.gather(*(check_proxy(r, settings.http.connect_timeout) for r in egress.routes.values()))
    )
    direct = [kind for kind in settings.cycle.probes if kind != "dns" and egress.direct(kind)]  # type: ignore[arg-type]
    if direct:
        checks.append(Check("egress", "warn", f"{', '.join(direct)} leave from this host's address ([egress] direct)"))
    return checks


async def run_checks(settings: Settings, store_url: str, home: Path, clock: Callable[[], dt.datetime]) -> list[Check]:
    """Every check, in a fixed order."""
    checks: list[Check] = []
    pending: list[Awaitable[Check]] = [check_icmp(settings), check_resolver(settings)]
    checks += await asyncio.gather(*pending)
    checks += [check_store(store_url), check_disk(home), check_files(settings), check_secrets(home, settings)]
    checks += await check_hub(settings, clock)
    checks += await check_egress(settings)
    return checks
