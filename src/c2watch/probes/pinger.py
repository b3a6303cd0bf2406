"""The asyncio ICMP echo engine shared by every target of a probe cycle.

``await open_pinger()`` returns a :class:`Pinger`; ``await pinger.ping(address)`` sends ``count`` echoes
``interval`` seconds apart and returns :class:`PingStats`. All concurrent pings of one pinger share one
ICMP socket per address family (opened on first use), so 10,000 targets cost two file descriptors.

Modes: ``raw`` (SOCK_RAW, needs CAP_NET_RAW), ``dgram`` (unprivileged ping sockets, allowed by
``net.ipv4.ping_group_range``) and ``unavailable`` (neither; every ping answers "icmp-unavailable" with
the fix). An unreachable or silent target is data, never an exception.
"""

from __future__ import annotations

import functools
import ipaddress
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from c2watch.errors import ProbeSetupError
from c2watch.probes.pinger_channel import EchoChannel
from c2watch.probes.pinger_jobs import CLOSED, EchoResult
from c2watch.probes.pinger_socket import family_name, open_icmp_socket

__all__ = ["ICMP_FIX", "IcmpPinger", "PingStats", "Pinger", "UnavailablePinger", "open_pinger"]

ICMP_FIX = (
    "grant CAP_NET_RAW (setcap cap_net_raw+ep on the python binary or AmbientCapabilities=CAP_NET_RAW "
    "in systemd) or allow the group in net.ipv4.ping_group_range"
)
_MODES = ("raw", "dgram")
_IPV4_MAPPED = bytes(10) + b"\xff\xff"


@dataclass(frozen=True)
class PingStats:
    """What ``count`` echoes to one address gave."""

    address: str
    sent: int
    received: int
    loss_pct: float  # 0..100, from sent/received (100 when nothing could be sent)
    rtt_avg_ms: float | None  # None when nothing received
    rtts_ms: tuple[float, ...]
    ttl: int | None  # reply TTL / hop limit of the last reply, None when nothing received
    outcome: str  # "alive" (>=1 reply) | "no-reply" | "icmp-unavailable" | "error"
    error: str | None = None  # short reason for icmp-unavailable/error (and no-reply after send errors)


class Pinger(Protocol):
    """An ICMP echo engine; ``mode`` is "raw", "dgram" or "unavailable"."""

    mode: str

    async def ping(self, address: str, count: int = 4, interval: float = 1.0, timeout: float = 1.0) -> PingStats: ...

    async def aclose(self) -> None: ...


def failed_stats(address: str, outcome: str, error: str) -> PingStats:
    """The stats of a ping that could not send anything."""
    return PingStats(address, 0, 0, 100.0, None, (), None, outcome, error)


def summarise(address: str, results: list[EchoResult]) -> PingStats:
    """Fold the echo results of one ping into its stats."""
    rtts = tuple(r.rtt_ms for r in results if r.rtt_ms is not None)
    ttls = [r.ttl for r in results if r.rtt_ms is not None]
    sent = len(results)
    loss = 100.0 * (sent - len(rtts)) / sent if sent else 100.0
    if rtts:
        return PingStats(address, sent, len(rtts), loss, sum(rtts) / len(rtts), rtts, ttls[-1], "alive")
    error = next((r.error for r in results if r.error is not None), None)
    outcome = "error" if error == CLOSED else "no-reply"
    return PingStats(address, sent, 0, loss, None, (), None, outcome, error)


def _check_arguments(count: int, interval: float, timeout: float) -> None:
    if count < 1 or interval < 0 or timeout <= 0:
        raise ValueError(f"bad ping arguments: count={count} interval={interval} timeout={timeout}")


def _target(address: str) -> tuple[int, str, bytes] | None:
    """(family, address to send to, packed address) of a literal IP address, None for anything else."""
    text = address.strip()
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            packed = socket.inet_pton(family, text)
        except OSError:
            continue
        if packed.startswith(_IPV4_MAPPED):
            return socket.AF_INET, socket.inet_ntop(socket.AF_INET, packed[12:]), packed[12:]
        return family, text, packed
    return _scoped_target(text)


def _scoped_target(text: str) -> tuple[int, str, bytes] | None:
    """An IPv6 address with a zone (``fe80::1%eth0``), which inet_pton refuses."""
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    return (socket.AF_INET6, text, ip.packed) if ip.version == 6 else None


class IcmpPinger:
    """The raw or dgram pinger: one lazily opened socket per address family, shared by all pings.

    ``open_socket(family, mode)`` opens the sockets; tests pass a fake.
    """

    def __init__(self, mode: str, open_socket: Callable[[int, str], socket.socket] = open_icmp_socket) -> None:
        if mode not in _MODES:
            raise ValueError(f"unknown ICMP socket kind {mode!r}")
        self.mode = mode
        self._open_socket = open_socket
        self._token = os.urandom(8)
        self._channels: dict[int, EchoChannel] = {}
        self._open_failures: dict[int, tuple[str, str]] = {}  # family -> (outcome, error), not retried
        self._closed = False

    async def ping(self, address: str, count: int = 4, interval: float = 1.0, timeout: float = 1.0) -> PingStats:
        """Send ``count`` echoes ``interval`` s apart, each waiting ``timeout`` s for its reply.

        Network failures are results, never exceptions; only bad arguments raise ValueError.
        """
        _check_arguments(count, interval, timeout)
        target = _target(address)
        if target is None:
            return failed_stats(address, "error", "not an IP address")
        if self._closed:
            return failed_stats(address, "error", CLOSED)
        channel = self._channel(target[0])
        if isinstance(channel, tuple):
            return failed_stats(address, *channel)
        job = channel.submit(target[1], target[2], count, interval, timeout)
        try:
            results = await job.future
        finally:
            channel.withdraw(job)  # only does something when this ping was cancelled
        return summarise(address, results)

    async def aclose(self) -> None:
        """Close every socket; pings still running return what they have ("pinger closed" for the rest)."""
        self._closed = True
        channels, self._channels = self._channels, {}
        for channel in channels.values():
            channel.close()

    def _channel(self, family: int) -> EchoChannel | tuple[str, str]:
        """The channel of ``family``, opened on first use, or (outcome, error) when it cannot be."""
        channel = self._channels.get(family)
        if channel is not None:
            return channel
        failure = self._open_failures.get(family)
        if failure is not None:
            return failure
        try:
            sock = self._open_socket(family, self.mode)
        except PermissionError as exc:
            failure = ("icmp-unavailable", f"{_open_error(family, self.mode, exc)}; {ICMP_FIX}")
        except OSError as exc:
            failure = ("error", _open_error(family, self.mode, exc))
        else:
            channel = self._channels[family] = EchoChannel(sock, self.mode, self._token)
            return channel
        self._open_failures[family] = failure
        return failure


class UnavailablePinger:
    """No ICMP socket may be opened: every ping says so, with the fix."""

    mode = "unavailable"

    def __init__(self, reason: str = "") -> None:
        self.reason = reason  # why each socket kind failed, for logs
        self.error = f"ICMP sockets not permitted: {ICMP_FIX}"

    async def ping(self, address: str, count: int = 4, interval: float = 1.0, timeout: float = 1.0) -> PingStats:
        """Always outcome "icmp-unavailable"."""
        _check_arguments(count, interval, timeout)
        return failed_stats(address, "icmp-unavailable", self.error)

    async def aclose(self) -> None:
        """Nothing to close."""


async def open_pinger(prefer: str = "auto", source: str = "") -> Pinger:
    """A pinger: ``auto`` tries raw, then dgram, then returns an "unavailable" pinger; ``raw`` or
    ``dgram`` force that kind and raise ProbeSetupError when it cannot be opened. Its echoes leave from
    ``source`` when given (an address of the family pinged)."""
    if prefer not in ("auto", *_MODES):
        raise ValueError(f"prefer must be auto, raw or dgram, not {prefer!r}")
    failures: list[str] = []
    for mode in _MODES if prefer == "auto" else (prefer,):
        failure = _probe(mode)
        if failure is None:
            return IcmpPinger(mode, functools.partial(open_icmp_socket, source=source))
        failures.append(failure)
    if prefer != "auto":
        raise ProbeSetupError(f"{failures[0]}; {ICMP_FIX}")
    return UnavailablePinger("; ".join(failures))


def _probe(mode: str) -> str | None:
    """None when a ``mode`` ICMP socket opens for IPv4 or IPv6, else why not."""
    errors: list[str] = []
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            open_icmp_socket(family, mode).close()
        except OSError as exc:
            errors.append(_open_error(family, mode, exc))
        else:
            return None
    return "; ".join(errors)


def _open_error(family: int, mode: str, exc: OSError) -> str:
    return f"cannot open {mode} {family_name(family)} ICMP socket: {exc.strerror or exc}"
