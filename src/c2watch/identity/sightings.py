"""A stored observation row as the judgement reads it: its evidence for the signatures and its identity.

Reads what the probes recorded in the row's ``details`` (c2watch.models.rows): the HTTP answer's fingerprint and
certificate, the TLS probe's certificate when HTTP had none, the opt-in JARM and favicon, and the DNS facts. The
row is a mapping (a row of ``observations`` as the store returns it); anything missing is unknown, never an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from c2watch.identity.evidence import Evidence
from c2watch.identity.judge import Identity, Sighting

__all__ = ["sighting_of"]


def _probe(details: Mapping[str, Any], kind: str) -> Mapping[str, Any]:
    probes = details.get("probes")
    found = probes.get(kind) if isinstance(probes, Mapping) else None
    return found if isinstance(found, Mapping) else {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _number(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _names(value: Any) -> tuple[str, ...]:
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


def _certificate(http: Mapping[str, Any], tls: Mapping[str, Any], name: str) -> str | None:
    return _text(http.get(name)) or _text(tls.get(name))


def _evidence(row: Mapping[str, Any], details: Mapping[str, Any]) -> Evidence:
    http, tls, dns = _probe(details, "http"), _probe(details, "tls"), _probe(details, "dns")
    ptr = dns.get("ptr_names")
    address = _text(http.get("address")) or _text(row.get("ping_address"))
    return Evidence(
        address=address,
        port=_number(_port(row)),
        status=_number(row.get("http_status")),
        server=_text(row.get("http_server")),
        title=_text(http.get("title")),
        html_hash=_number(http.get("html_hash")),
        favicon_hash=_number(_probe(details, "favicon").get("favicon_hash")),
        jarm=_text(_probe(details, "jarm").get("jarm")),
        cert_serial=_certificate(http, tls, "cert_serial"),
        cert_subject=_certificate(http, tls, "cert_subject"),
        cert_issuer=_certificate(http, tls, "cert_issuer"),
        name_servers=_names(dns.get("name_servers")),
        cnames=_names(dns.get("cnames")),
        ptr_names=_names(ptr.get(address)) if isinstance(ptr, Mapping) and address else (),
    )


def _port(row: Mapping[str, Any]) -> int | None:
    value = _text(row.get("probed_value")) or ""
    authority = value.split("//", 1)[1].split("/", 1)[0] if "//" in value else ""
    port = authority.rsplit(":", 1)[1] if ":" in authority and not authority.endswith("]") else ""
    return int(port) if port.isdigit() else None


def _identity(row: Mapping[str, Any], http: Mapping[str, Any], tls: Mapping[str, Any], ev: Evidence) -> Identity:
    return Identity(
        cert_sha256=_text(row.get("tls_cert_sha256")) or _certificate(http, tls, "cert_sha256"),
        server=ev.server,
        header_order=_text(http.get("header_order_sha256")),
        jarm=ev.jarm,
        favicon_hash=ev.favicon_hash,
        title=ev.title,
        body_sha256=_text(row.get("http_body_sha256")),
    )


def sighting_of(row: Mapping[str, Any], observer: str = "") -> Sighting:
    """The sighting an ``observations`` row makes (by ``observer``): answered when HTTP answered with a status."""
    details = row.get("details") if isinstance(row.get("details"), Mapping) else {}
    assert isinstance(details, Mapping)
    evidence = _evidence(row, details)
    status = _number(row.get("http_status"))
    http, tls = _probe(details, "http"), _probe(details, "tls")
    identity = _identity(row, http, tls, evidence) if status is not None else None
    nxdomain = _probe(details, "dns").get("error") == "nxdomain"
    return Sighting(row["observed_at"], status, identity, evidence, nxdomain, observer)
