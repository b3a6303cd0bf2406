"""A stored observation row as the judgement reads it: its evidence for the signatures and its identity.

Reads what the probes recorded in the row's ``details`` (c2watch.models.rows): the HTTP answer's fingerprint and
certificate, the TLS probe's certificate when HTTP had none, the opt-in JARM and favicon, and the DNS facts. The
row is a mapping (a row of ``observations`` as the store returns it); anything missing is unknown, never an error.

:func:`evidence_digest` names what a sighting is made of (every value :func:`sighting_of` reads, but the time and
the observer) without building it: two rows of one digest make the same evidence and identity, so a track that sees
its last evidence again need not test the signatures again (:meth:`c2watch.identity.judge.Track.repeat`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from c2watch.identity.evidence import Evidence
from c2watch.identity.judge import Identity, Sighting
from c2watch.identity.rules import Rule

__all__ = ["answer_status", "evidence_digest", "sighting_of", "signatures_digest"]

_CERTIFICATE = ("cert_serial", "cert_subject", "cert_issuer", "cert_sha256")
#: Every value :func:`sighting_of` reads: the row's columns, then per probe of ``details`` its fields.
_ROW_READ = ("http_status", "http_server", "http_body_sha256", "tls_cert_sha256", "ping_address", "probed_value")
_DETAILS_READ = (
    ("http", ("address", "title", "html_hash", "header_order_sha256", *_CERTIFICATE)),
    ("tls", _CERTIFICATE),
    ("dns", ("ptr_names", "name_servers", "cnames", "error")),
    ("favicon", ("favicon_hash",)),
    ("jarm", ("jarm",)),
)


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


def _details(row: Mapping[str, Any]) -> Mapping[str, Any]:
    details = row.get("details")
    return details if isinstance(details, Mapping) else {}


def answer_status(row: Mapping[str, Any]) -> int | None:
    """The HTTP status of the row's answer, as its sighting holds it."""
    return _number(row.get("http_status"))


def signatures_digest(signatures: Sequence[Rule]) -> bytes:
    """What the signatures test (each rule's id, kind and match tables): a change of the rules changes every
    :func:`evidence_digest`."""
    tables = repr([(rule.id, rule.kind, rule.match) for rule in signatures])
    return hashlib.blake2b(tables.encode(), digest_size=16).digest()


def evidence_digest(row: Mapping[str, Any], signatures: bytes) -> str:
    """A digest of every value the row's sighting is built from (but its time and observer) and of the
    signatures (:func:`signatures_digest`): equal digests, equal evidence, identity and matches. Reads the raw
    values, not the sighting (``repr`` tells ``1`` from ``"1"``, ``True`` and ``1.0``)."""
    details = _details(row)
    values = [row.get(name) for name in _ROW_READ]
    for kind, names in _DETAILS_READ:
        probe = _probe(details, kind)
        values += [probe.get(name) for name in names]
    return hashlib.blake2b(repr(values).encode(), digest_size=16, key=signatures).hexdigest()


def sighting_of(row: Mapping[str, Any], observer: str = "") -> Sighting:
    """The sighting an ``observations`` row makes (by ``observer``): answered when HTTP answered with a status."""
    details = _details(row)
    evidence = _evidence(row, details)
    status = _number(row.get("http_status"))
    http, tls = _probe(details, "http"), _probe(details, "tls")
    identity = _identity(row, http, tls, evidence) if status is not None else None
    nxdomain = _probe(details, "dns").get("error") == "nxdomain"
    return Sighting(row["observed_at"], status, identity, evidence, nxdomain, observer)
