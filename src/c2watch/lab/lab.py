"""The lab: every destination of a scenario served on loopback, driven by an injected clock."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, deque
from collections.abc import Callable
from datetime import datetime
from types import TracebackType

from c2watch.config import Settings
from c2watch.lab.clock import Clock, utc_now
from c2watch.lab.dnsserver import LabDns
from c2watch.lab.hostile import gzip_bomb
from c2watch.lab.icmp_filter import IcmpFilter, rules_at
from c2watch.lab.names import records_for
from c2watch.lab.scenario import Scenario
from c2watch.lab.server import Access, DestinationServer, Hit
from c2watch.lab.tls import LabSetupError, server_context

__all__ = ["Lab", "serve", "with_lab_names"]

log = logging.getLogger(__name__)

_HITS_KEPT = 100_000


class Lab:
    """Serve ``scenario`` on loopback; ``clock`` decides which behaviour is active.

    Use as ``async with Lab(scenario, clock) as lab:``. A destination whose behaviour is
    ``closed`` does not listen; the lab re-checks that every ``poll_interval`` seconds, and at
    once on ``await lab.sync()`` (call it after moving a fake clock across a ``closed`` step).
    ``requests[name]`` counts accepted connections, ``hits`` keeps the latest ones (with the peer's address),
    ``access`` the latest request heads as they arrived (the lab's access log).
    """

    def __init__(
        self,
        scenario: Scenario,
        clock: Clock = utc_now,
        *,
        head_timeout: float = 10.0,
        poll_interval: float = 0.05,
        control_icmp: bool = True,
    ) -> None:
        self.scenario = scenario
        self.clock = clock
        self.requests: Counter[str] = Counter({dest.name: 0 for dest in scenario})
        self.hits: deque[Hit] = deque(maxlen=_HITS_KEPT)
        self.access: deque[Access] = deque(maxlen=_HITS_KEPT)
        self.icmp_controlled = False
        changing = any(dest.pings or dest.blocked or dest.ping_mode.follow for dest in scenario)
        self.icmp = IcmpFilter([(dest.address, dest.ping_mode) for dest in scenario], needed=changing)
        self._head_timeout = head_timeout
        self._poll_interval = poll_interval
        self._control_icmp = control_icmp
        self._servers: dict[str, DestinationServer] = {}
        self._background: list[asyncio.Task[None]] = []
        self.dns: LabDns | None = None

    async def __aenter__(self) -> Lab:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def now(self) -> datetime:
        """The lab clock's time; it must be timezone-aware."""
        now = self.clock()
        if now.tzinfo is None or now.utcoffset() is None:
            raise LabSetupError(f"the lab clock returned a naive datetime: {now!r}")
        return now

    async def start(self) -> None:
        """Start every listener (< 1 s for 50 destinations, plus 0.5 s once per process to build a gzip bomb one of
        them sends) and the ICMP filter."""
        if self._servers:
            return
        self.now()
        tls = server_context() if any(d.scheme == "https" for d in self.scenario) else None
        for dest in self.scenario:
            self._servers[dest.name] = DestinationServer(
                dest,
                self.scenario,
                self.clock,
                tls=tls if dest.scheme == "https" else None,
                on_hit=self._record,
                head_timeout=self._head_timeout,
                on_access=self.access.append,
            )
        try:
            if any(dest.domain for dest in self.scenario):
                self.dns = await LabDns({}).__aenter__()
            await self.sync(strict=True)
            if any(dest.uses("gzip-bomb") for dest in self.scenario):
                await gzip_bomb()  # built before the first request (0.5 s, once per process): no probe's timeout
                # may include the lab's own work
        except BaseException:
            await self.stop()
            raise
        self._background.append(asyncio.create_task(self._watch()))
        await self._apply_icmp()

    async def stop(self) -> None:
        """Stop listening, end every connection, remove the ICMP filter."""
        for task in self._background:
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        self._background.clear()
        await asyncio.gather(*(server.close() for server in self._servers.values()))
        self._servers.clear()
        if self.dns is not None:
            await self.dns.__aexit__(None, None, None)
            self.dns = None
        if self.icmp.active:
            await asyncio.to_thread(self.icmp.remove)
        self.icmp_controlled = False

    async def sync(self, *, strict: bool = False) -> None:
        """Make the listeners match the behaviours active now (``closed`` = not listening), and the lab's DNS
        the destinations' names."""
        now = self.now()
        self._sync_names(now)
        if self.icmp.active:
            self.icmp.update(*self._icmp_rules(now))
        for server in self._servers.values():
            try:
                await self._sync_one(server, now)
            except OSError as exc:
                where = f"{server.destination.name} ({server.destination.address}:{server.port})"
                if strict:
                    raise LabSetupError(f"lab destination {where} cannot listen: {exc}") from exc
                log.error("lab: destination %s cannot listen: %s", where, exc)

    def _icmp_rules(self, now: datetime) -> tuple[list[str], list[str]]:
        """The ICMP filter's (input, output) rules at ``now``: each destination's ping mode and blocked sources."""
        inputs: list[str] = []
        outputs: list[str] = []
        for dest in self.scenario:
            found = rules_at(dest.address, self.scenario.ping_at(dest, now), sorted(dest.blocked_at(now)))
            inputs += found[0]
            outputs += found[1]
        return inputs, outputs

    def _sync_names(self, now: datetime) -> None:
        if self.dns is None:
            return
        records: dict[str, dict[str, list[str]]] = {}
        for dest in self.scenario:
            answer = dest.answer_at(now)
            if dest.domain and answer is not None:
                for name, by_type in records_for(dest.domain, dest.address, answer).items():
                    merged = records.setdefault(name, {})
                    for kind, values in by_type.items():
                        merged[kind] = sorted({*merged.get(kind, []), *values})
        self.dns.set_records(records)

    @property
    def dns_port(self) -> int | None:
        """The port of the lab's DNS server on 127.0.0.1 (None: no destination has a domain)."""
        return None if self.dns is None else self.dns.port

    @staticmethod
    async def _sync_one(server: DestinationServer, now: datetime) -> None:
        if server.wants_listening(now):
            await server.listen()
        else:
            server.reserve_port()
            server.stop_listening()

    def _record(self, hit: Hit) -> None:
        self.requests[hit.name] += 1
        self.hits.append(hit)

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self._poll_interval)
            await self.sync()

    async def _apply_icmp(self) -> None:
        self.icmp.update(*self._icmp_rules(self.now()))  # not active yet: only sets the rules
        if not self._control_icmp:
            self.icmp_controlled = not self.icmp.needed
            return
        self.icmp_controlled = await asyncio.to_thread(self.icmp.apply)

    def _server(self, name: str) -> DestinationServer:
        try:
            return self._servers[name]
        except KeyError:
            raise KeyError(f"no destination {name!r} in a started lab") from None

    def port_of(self, name: str) -> int:
        """The port destination ``name`` uses (resolved when the scenario says 0)."""
        return self._server(name).port

    def listening(self, name: str) -> bool:
        return self._server(name).listening

    def ports(self) -> dict[str, int]:
        """Destination name -> port in use (for :func:`to_watchlist_csv`)."""
        return {name: server.port for name, server in self._servers.items()}

    def url_for(self, name: str) -> str:
        """``scheme://address:port/path`` of destination ``name``."""
        server = self._server(name)
        return server.destination.url(server.port)


def with_lab_names(settings: Settings, lab: Lab) -> Settings:
    """``settings`` with the lab's DNS as the resolver and ``.test`` names allowed (unchanged without names)."""
    if lab.dns_port is None:
        return settings
    data = settings.model_dump()
    data["dns"].update(nameservers=["127.0.0.1"], port=lab.dns_port)
    data["safety"]["allow_domains"] = sorted({*data["safety"]["allow_domains"], "test"})
    return Settings(**data)


async def serve(
    scenario: Scenario,
    clock: Clock,
    stop_event: asyncio.Event,
    *,
    on_ready: Callable[[Lab], None] | None = None,
) -> None:
    """Run a lab until ``stop_event`` is set (for ``c2watch lab serve`` and ``c2watch demo``)."""
    async with Lab(scenario, clock) as lab:
        if on_ready is not None:
            on_ready(lab)
        await stop_event.wait()
