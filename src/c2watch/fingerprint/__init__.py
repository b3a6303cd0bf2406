"""Fingerprints of a server's answers: is it still the C2, or a sinkhole, a parking page, a new tenant?

Passive fingerprints are computed from what the probes already receive (a TLS certificate, HTTP headers and the
first bytes of a body) and cost no extra request: :mod:`.certificate` and :mod:`.http`. Two active probes are
opt-in because an implant would never send them: :mod:`.jarm` (ten crafted TLS ClientHellos) and the favicon
hash of :mod:`.http` (one more request for ``/favicon.ico``). The package depends on no other c2watch layer;
the probes, records, STIX objects and verdicts use it. See ``docs/fingerprints.md``.
"""

from __future__ import annotations

from c2watch.fingerprint.certificate import CertificateFingerprint, certificate_fingerprint
from c2watch.fingerprint.http import (
    HttpFingerprint,
    favicon_hash,
    header_order_sha256,
    html_hash,
    http_fingerprint,
    page_title,
)
from c2watch.fingerprint.jarm import JarmProbe, JarmResult, jarm

__all__ = [
    "CertificateFingerprint",
    "HttpFingerprint",
    "JarmProbe",
    "JarmResult",
    "certificate_fingerprint",
    "favicon_hash",
    "header_order_sha256",
    "html_hash",
    "http_fingerprint",
    "jarm",
    "page_title",
]
