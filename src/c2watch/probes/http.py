"""HTTP GET that looks like the implant: status code and reason phrase as sent, bounded reads, nothing followed.

The request goes to an address the guard allowed (never re-resolved by aiohttp) with the real ``Host`` header and
TLS SNI; proxies from the environment are ignored; redirects are recorded, not followed; the body is read raw
(never decompressed) up to ``max_body_bytes``. Header values are recorded as aiohttp decoded them (bytes that are
not UTF-8 kept as lone surrogates); the observation is fitted for storage (:mod:`c2watch.store.observation_fit`).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import ssl
from typing import Any

import aiohttp

from c2watch.config import HttpSettings, Settings
from c2watch.errors import EgressError
from c2watch.fingerprint import http_fingerprint
from c2watch.models.observation import EGRESS_FAILED
from c2watch.models.probes import HttpFields, HttpResult, ProbeTarget
from c2watch.probes.base import ProbeContext, Stopwatch
from c2watch.probes.certificate import add_certificate
from c2watch.probes.http_errors import error_kind

__all__ = [
    "CertRecordingConnector",
    "connector_options",
    "drop_tracebacks",
    "get_bytes",
    "insecure_ssl_context",
    "open_session",
    "probe",
]


@functools.cache
def insecure_ssl_context() -> ssl.SSLContext:
    """Certificates of C2 servers are recorded, not trusted: verification is off on purpose. Made once per process
    and shared (loading the system's CA paths takes tens of milliseconds, which every TLS probe spent blocking the
    event loop)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


_peer_cert: contextvars.ContextVar[dict[str, bytes] | None] = contextvars.ContextVar("peer_cert", default=None)


class CertRecordingConnector(aiohttp.TCPConnector):
    """Notes the peer certificate of each new TLS connection for the probe that opened it (via a contextvar):
    a small response is complete, and its connection gone, before the probe could ask for it."""

    async def connect(self, req: Any, traces: Any, timeout: aiohttp.ClientTimeout) -> Any:
        connection = await super().connect(req, traces, timeout)
        holder = _peer_cert.get()
        transport = connection.transport
        ssl_object = transport.get_extra_info("ssl_object") if transport is not None else None
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        if holder is not None and der:
            holder["der"] = der
        return connection


def connector_options(concurrency: int, source: str = "") -> dict[str, Any]:
    """The connector's options, direct or through a proxy: a bounded pool, one connection per request; direct
    connections leave from ``source`` when given (``[observer] source_address``)."""
    options = {"limit": concurrency, "force_close": True, "ssl": insecure_ssl_context(), "use_dns_cache": False}
    return {**options, "local_addr": (source, 0)} if source else options


def open_session(
    settings: HttpSettings, concurrency: int, connector: aiohttp.TCPConnector | None = None, source: str = ""
) -> aiohttp.ClientSession:
    """One session per cycle (and per proxy): no proxies from the environment, no cookies, no decompression,
    capped headers, and exactly one GET per probe; without ``connector``, connections leave from ``source`` when
    given."""
    connector = connector or CertRecordingConnector(**connector_options(concurrency, source))
    session = aiohttp.ClientSession(
        connector=connector,
        trust_env=False,
        cookie_jar=aiohttp.DummyCookieJar(),
        auto_decompress=False,
        max_line_size=settings.max_header_bytes,
        max_field_size=settings.max_header_bytes,
        max_headers=256,
        skip_auto_headers=("Accept",),
    )
    # aiohttp sends an idempotent request again when the connection is reset or closed before the answer, even
    # on a new connection: a C2 server would see two GETs. No public option; its own test client does this.
    session._retry_connection = False
    return session


@functools.lru_cache(maxsize=16)
def _client_timeout(total: float, connect: float) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(total=total, sock_connect=connect)


def _request_url(target: ProbeTarget, address: str, path: str | None = None) -> str:
    host = f"[{address}]" if ":" in address else address  # an IP address the guard allowed: ":" only in IPv6
    return f"{target.scheme}://{host}:{target.port}{path or target.path}"


def _headers(target: ProbeTarget, settings: HttpSettings) -> dict[str, str]:
    default_port = {"http": 80, "https": 443}[target.scheme]
    host = target.host if ":" not in target.host else f"[{target.host}]"
    return {
        "Host": host if target.port == default_port else f"{host}:{target.port}",
        "User-Agent": settings.user_agent,
        "Accept-Encoding": settings.accept_encoding,
        "Accept": "*/*",
    }


async def _read_capped(response: aiohttp.ClientResponse, cap: int) -> bytes:
    """At most ``cap`` bytes of the body (never the rest of an endless or bomb body)."""
    chunks: list[bytes] = []
    total = 0
    while total < cap:
        chunk = await response.content.read(min(65536, cap - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


async def _exchange(target: ProbeTarget, settings: HttpSettings, session: aiohttp.ClientSession) -> HttpFields:
    address = target.connect_host
    assert address is not None, "the probe checked it"
    cert: dict[str, bytes] = {}
    _peer_cert.set(cert)
    timeout = _client_timeout(settings.total_timeout, settings.connect_timeout)
    async with session.get(
        _request_url(target, address),
        headers=_headers(target, settings),
        allow_redirects=False,
        timeout=timeout,
        server_hostname=target.host if target.scheme == "https" and target.host_is_name else None,
    ) as response:
        fields = HttpFields(
            status=response.status,
            reason=response.reason,
            server=response.headers.get("Server"),
            content_type=response.headers.get("Content-Type"),
            location=response.headers.get("Location"),
        )
        if target.addresses:  # not the name a proxy resolved: the address it connected to is not known here
            fields["address"] = address
        add_certificate(fields, cert.get("der"))
        body = await _read_capped(response, settings.max_body_bytes)
        response.close()  # never drain the rest of an endless or bomb body
        answer = http_fingerprint(response.raw_headers, body)
        fields["body_bytes"], fields["body_sha256"] = len(body), answer.body_sha256
        fields["header_order_sha256"], fields["html_hash"] = answer.header_order_sha256, answer.html_hash
        fields["title"] = answer.title
        return fields


async def get_bytes(
    target: ProbeTarget, settings: HttpSettings, session: aiohttp.ClientSession, path: str
) -> tuple[int, bytes]:
    """Another GET of ``path`` on the destination, as the probe's (headers, timeouts, bounded read): its status and
    at most ``max_body_bytes`` of its body. Raises on failure (the caller makes it data)."""
    async with session.get(
        _request_url(target, target.connect_host or "", path),
        headers=_headers(target, settings),
        allow_redirects=False,
        timeout=_client_timeout(settings.total_timeout, settings.connect_timeout),
        server_hostname=target.host if target.scheme == "https" and target.host_is_name else None,
    ) as response:
        body = await _read_capped(response, settings.max_body_bytes)
        response.close()
        return response.status, body


async def probe(target: ProbeTarget, settings: Settings, ctx: ProbeContext) -> HttpResult:
    """GET ``target`` once. Outcome ``responding`` with status and reason, or ``error`` with its kind."""
    watch = Stopwatch(ctx.clock)
    if target.connect_host is None:
        return watch.result("http", "refused-by-guard", HttpFields(error="refused-by-guard", url=target.url))
    try:
        async with asyncio.timeout(settings.http.total_timeout + 1):  # a net under aiohttp's timeouts; no extra task
            fields = await _exchange(target, settings.http, ctx.session_for(target, "http"))
    except EgressError as exc:
        return watch.result(
            "http", EGRESS_FAILED, HttpFields(error=EGRESS_FAILED, detail=str(exc)[:300], url=target.url)
        )
    except Exception as exc:  # every failure of a hostile peer is data
        result = watch.result("http", "error", HttpFields(error=error_kind(exc), detail=str(exc)[:300], url=target.url))
        drop_tracebacks(exc)
        return result
    return watch.result("http", "responding", HttpFields(url=target.url, **fields))


def drop_tracebacks(exc: BaseException | None) -> None:
    """Once a failure is recorded its tracebacks are of no use; their frames point back at the exceptions, and
    each such cycle would wait for the garbage collector (a large share of a cycle's CPU where most GETs fail)."""
    pending, seen = [exc], set()
    while pending:
        item = pending.pop()
        if item is not None and id(item) not in seen:
            seen.add(id(item))
            item.__traceback__ = None
            pending += [item.__cause__, item.__context__]
