"""Egress: the proxies the probes leave through (``[egress]``), picked per destination, and the connections opened
through them with python-socks (SOCKS5 with or without remote name resolution, HTTP CONNECT).

A connection through a proxy is opened in two steps, so that a proxy that is down is never taken for a silent
destination: the TCP connection to the proxy itself (its failure or timeout raises :class:`EgressError`, recorded
as ``egress-failed``), then python-socks' negotiation on that socket, whose failures are sorted by who caused them:
the proxy rejecting us (authentication, ruleset, unsupported command) or a SOCKS5 proxy silent until the timeout
(it answers the greeting before it tries the destination) is the egress's failure; the proxy reporting
that the destination refused, was unreachable or did not answer in time is the destination's (an ``OSError`` with
the matching errno, mapped to the usual error kinds). The proxy's own address is used as configured: it is never
passed through the safety guard, and listing a proxy allows nothing else (every destination is still guarded).
"""

from __future__ import annotations

import asyncio
import errno
import itertools
import random
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from python_socks import ProxyError, ProxyTimeoutError, ProxyType, parse_proxy_url
from python_socks.async_.asyncio import Proxy

from c2watch.config import EgressSettings, HttpSettings, ProxySettings
from c2watch.errors import EgressError
from c2watch.models.kinds import ProbeKind
from c2watch.models.probes import ProbeTarget
from c2watch.probes.http import CertRecordingConnector, connector_options, open_session

__all__ = ["Egress", "ProxyRoute", "open_proxy_sessions"]

#: SOCKS5 replies that speak of the destination, as the errno a direct connection would have got.
_SOCKS_DESTINATION: dict[int, int | None] = {
    1: None,  # general failure: microsocks' answer when the destination cannot be reached or named
    3: errno.ENETUNREACH,
    4: errno.EHOSTUNREACH,
    5: errno.ECONNREFUSED,
    6: errno.ETIMEDOUT,
}


@dataclass(frozen=True)
class ProxyRoute:
    """One configured proxy: its label (recorded), type, address and credentials (never recorded)."""

    label: str
    proxy_type: ProxyType
    host: str
    port: int
    username: str | None
    password: str | None

    remote_names: bool = False

    @classmethod
    def of(cls, settings: ProxySettings) -> ProxyRoute:
        """``socks5h://`` is SOCKS5 with names resolved by the proxy (python-socks' ``rdns``)."""
        remote = settings.url.startswith("socks5h://")
        url = "socks5://" + settings.url.removeprefix("socks5h://") if remote else settings.url
        proxy_type, host, port, username, password = parse_proxy_url(url)
        return cls(settings.label, proxy_type, host, port, username, password, remote)

    def __repr__(self) -> str:  # no credentials in logs or tracebacks
        return f"ProxyRoute({self.label!r})"


class _Connected:
    """Hands python-socks the socket already connected to the proxy (its ``forward`` hook)."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock

    async def connect(self, dest_host: str, dest_port: int, timeout: float | None = None) -> socket.socket:
        return self._sock


class _Heard(socket.socket):
    """The socket to the proxy, noting whether the proxy has sent anything: a SOCKS5 proxy answers the greeting at
    once, before it tries the destination, so a SOCKS5 negotiation that times out in silence is the proxy's."""

    heard = False

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        data = super().recv(bufsize, flags)
        self.heard = self.heard or bool(data)
        return data


async def _connect_tcp(host: str, port: int) -> _Heard:
    loop = asyncio.get_running_loop()
    family, kind, proto, _, address = (await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM))[0]
    sock = _Heard(family, kind, proto)
    sock.setblocking(False)
    try:
        await loop.sock_connect(sock, address)
    except BaseException:
        sock.close()
        raise
    return sock


def _destination_error(route: ProxyRoute, exc: ProxyError) -> OSError | None:
    """The destination's failure the proxy reported, or None when the proxy failed us."""
    code = exc.error_code
    if route.proxy_type == ProxyType.HTTP:
        if code is not None and code >= 500:
            return ConnectionError(f"the proxy could not reach the destination: {exc}")
        return None
    if code not in _SOCKS_DESTINATION:
        return None
    number = _SOCKS_DESTINATION[code]
    message = f"{exc} (reported by the proxy)"
    return OSError(number, message) if number is not None else ConnectionError(message)


async def open_socket(route: ProxyRoute, host: str, port: int, timeout: float) -> socket.socket:
    """A socket connected to ``host:port`` through ``route`` (``host`` may be a name for the proxy to resolve).

    Raises :class:`EgressError` when the proxy cannot be used, ``OSError``/``TimeoutError`` for the destination."""
    try:
        async with asyncio.timeout(timeout):
            sock = await _connect_tcp(route.host, route.port)
    except (OSError, TimeoutError) as exc:
        raise EgressError(f"proxy {route.label} unreachable: {type(exc).__name__} {exc}") from None
    proxy = Proxy(
        route.proxy_type,
        route.host,
        route.port,
        route.username,
        route.password,
        rdns=route.remote_names or route.proxy_type == ProxyType.HTTP,
        forward=_Connected(sock),  # type: ignore[arg-type]
    )
    try:
        await proxy.connect(host, port, timeout=timeout)
    except ProxyTimeoutError:
        if route.proxy_type == ProxyType.SOCKS5 and not sock.heard:
            raise EgressError(f"proxy {route.label} did not answer in {timeout} s") from None
        raise TimeoutError(f"no answer from {host}:{port} through the proxy in {timeout} s") from None
    except ProxyError as exc:
        destination = _destination_error(route, exc)
        if destination is not None:
            raise destination from None
        raise EgressError(f"proxy {route.label} refused: {exc}") from None
    return socket.socket(sock.family, sock.type, sock.proto, fileno=sock.detach())  # a plain socket from now on


class Egress:
    """The proxies of ``[egress]``: which one a destination goes through and which probe kinds use it."""

    def __init__(self, settings: EgressSettings, rng: random.Random | None = None) -> None:
        self.settings = settings
        self.routes = {proxy.label: ProxyRoute.of(proxy) for proxy in settings.proxies}
        self._rng = rng or random.Random()
        self._cycle: Iterator[str] = itertools.cycle(list(self.routes))

    @property
    def active(self) -> bool:
        return bool(self.routes)

    @property
    def remote_names(self) -> bool:
        """True when names are left to the proxy (the observer resolves none)."""
        return self.active and self.settings.dns == "proxy"

    def pick(self) -> str:
        """The label of the proxy for the next destination ("" when there is none)."""
        if not self.routes:
            return ""
        if self.settings.pick == "random":
            return self._rng.choice(list(self.routes))
        return next(self._cycle)

    def direct(self, kind: ProbeKind) -> bool:
        """Whether ``kind`` leaves from the observer's own address (no proxy, or listed in ``direct``)."""
        return not self.active or kind in self.settings.direct

    def route(self, target: ProbeTarget, kind: ProbeKind) -> ProxyRoute | None:
        if self.direct(kind):
            return None
        return self.routes[target.egress]


class _Unresolved(AbstractResolver):
    """aiohttp's resolver for a proxy session: the name is passed on as it is (the proxy resolves it)."""

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET) -> list[Any]:
        return [ResolveResult(hostname=host, host=host, port=port, family=family, proto=0, flags=0)]

    async def close(self) -> None:
        return None


class _ProxyConnector(CertRecordingConnector):
    """aiohttp's connector with each connection opened through one proxy (TLS, Host and SNI as direct)."""

    def __init__(self, route: ProxyRoute, concurrency: int) -> None:
        super().__init__(resolver=_Unresolved(), **connector_options(concurrency))
        self._route = route

    async def _wrap_create_connection(
        self,
        *args: Any,
        addr_infos: list[Any],
        req: Any,
        timeout: aiohttp.ClientTimeout,
        client_error: type[Exception] = aiohttp.ClientConnectorError,
        **kwargs: Any,
    ) -> Any:
        host, port = addr_infos[0][4][:2]
        try:
            sock = await open_socket(self._route, host, port, timeout.sock_connect or timeout.total or 30.0)
            return await self._loop.create_connection(*args, **kwargs, sock=sock)
        except OSError as exc:
            raise client_error(req.connection_key, exc) from exc


def open_proxy_sessions(egress: Egress, settings: HttpSettings, concurrency: int) -> dict[str, aiohttp.ClientSession]:
    """One HTTP session per proxy (each with its own connector), by label."""
    return {
        label: open_session(settings, concurrency, _ProxyConnector(route, concurrency))
        for label, route in egress.routes.items()
    }
