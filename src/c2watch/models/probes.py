"""What a probe is given and what it returns, typed per probe: the target (what was chosen and where it resolved),
a name's resolution, and a result whose fields are declared for each kind (``PingFields`` … ``DnsFields``).

Every probe has one signature, ``async def probe(target, settings, ctx) -> ProbeResult[...]``; an unreachable or
hostile target is a result (an ``outcome`` and fields), never an exception.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Generic, Literal, TypedDict, TypeVar

from c2watch.models.kinds import ProbeKind
from c2watch.models.net import is_ip_literal

__all__ = [
    "AnyResult",
    "DnsFields",
    "DnsResult",
    "FaviconFields",
    "FaviconResult",
    "HttpFields",
    "HttpResult",
    "JarmFields",
    "JarmResult",
    "PingFields",
    "PingResult",
    "ProbeResult",
    "ProbeTarget",
    "Resolution",
    "TargetKind",
    "TlsFields",
    "TlsResult",
]

TargetKind = Literal["url", "domain", "ip"]


@dataclass(frozen=True)
class ProbeTarget:
    """One destination as a probe sees it: what was chosen (url > domain > ip) and where it resolved."""

    target_id: int
    threat_id: str
    kind: TargetKind
    value: str
    host: str
    port: int
    scheme: str
    url: str
    path: str = "/"
    addresses: tuple[str, ...] = ()
    refused: tuple[str, ...] = ()
    #: The opaque label of the proxy picked for this destination ("" when no proxy is configured).
    egress: str = ""
    #: True when the name is left to the proxy to resolve (``[egress] dns = "proxy"``): no addresses here.
    remote_name: bool = False

    @property
    def connect_host(self) -> str | None:
        """What a connection is opened to: the first allowed address, the name when the proxy resolves it."""
        if self.addresses:
            return self.addresses[0]
        return self.host if self.remote_name else None

    @functools.cached_property  # asked several times per observation; parsing an address is not free
    def host_is_name(self) -> bool:
        """True when the host is a DNS name rather than an IP literal."""
        return not is_ip_literal(self.host)


@dataclass(frozen=True)
class Resolution:
    """A name's addresses, or why there are none (``error``)."""

    name: str
    addresses: tuple[str, ...]
    error: str | None = None
    ttl: int | None = None
    elapsed_ms: float = 0.0


class PingFields(TypedDict, total=False):
    """ICMP echo: the address pinged, echoes sent and received, loss, average RTT and the replies' TTL."""

    address: str | None
    sent: int
    received: int
    loss_pct: float
    rtt_avg_ms: float | None
    ttl: int | None
    error: str | None


class CertFields(TypedDict, total=False):
    """The peer certificate of an HTTPS GET or a TLS handshake (c2watch.probes.certificate)."""

    cert_sha256: str | None
    cert_serial: str | None
    cert_subject: str | None
    cert_issuer: str | None
    cert_not_after: str | None
    cert_self_signed: bool | None
    cert_error: str


class HttpFields(CertFields, total=False):
    """One GET: status line, a few headers, what was read of the body and its fingerprint (header order, Shodan's
    html hash, title), the certificate when HTTPS."""

    url: str
    address: str
    status: int
    reason: str | None
    server: str | None
    content_type: str | None
    location: str | None
    body_bytes: int
    body_sha256: str
    header_order_sha256: str
    html_hash: int
    title: str | None
    error: str
    detail: str


class TlsFields(CertFields, total=False):
    """A handshake: the certificate (SHA-256, serial, subject, issuer, expiry, self-signed), protocol and cipher."""

    address: str
    version: str | None
    cipher: str | None
    error: str
    detail: str


class DnsFields(TypedDict, total=False):
    """A lookup: the name, its addresses and their TTL; what else DNS says of it (CNAME, the zone with its SOA and
    name servers, PTR names of the addresses) and why a question failed (c2watch.probes.dnsfacts)."""

    name: str | None
    addresses: list[str]
    ttl: int | None
    error: str | None
    cnames: list[str]
    zone: str | None
    soa: str | None
    name_servers: list[str]
    ptr_names: dict[str, list[str]]
    facts_errors: dict[str, str]


class JarmFields(TypedDict, total=False):
    """JARM: the fingerprint (all zeros: no TLS answer), how many of its ten ClientHellos got a ServerHello."""

    address: str
    jarm: str
    answered: int
    error: str


class FaviconFields(TypedDict, total=False):
    """``GET /favicon.ico``: the status, the bytes read and Shodan's ``http.favicon.hash`` of them."""

    address: str
    status: int
    bytes: int
    favicon_hash: int | None
    error: str
    detail: str


FieldsT = TypeVar("FieldsT", PingFields, HttpFields, TlsFields, DnsFields, JarmFields, FaviconFields)


@dataclass
class ProbeResult(Generic[FieldsT]):
    kind: ProbeKind
    outcome: str
    started_at: dt.datetime
    elapsed_ms: float
    fields: FieldsT


PingResult = ProbeResult[PingFields]
HttpResult = ProbeResult[HttpFields]
TlsResult = ProbeResult[TlsFields]
DnsResult = ProbeResult[DnsFields]
JarmResult = ProbeResult[JarmFields]
FaviconResult = ProbeResult[FaviconFields]
AnyResult = PingResult | HttpResult | TlsResult | DnsResult | JarmResult | FaviconResult
