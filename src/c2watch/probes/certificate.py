"""The certificate fields the HTTP and TLS probes record, from the peer certificate's DER (no extra request):
its SHA-256, serial, subject, issuer, expiry and whether it is self-signed (:mod:`c2watch.fingerprint`)."""

from __future__ import annotations

from c2watch.fingerprint import certificate_fingerprint
from c2watch.models.probes import CertFields

__all__ = ["add_certificate"]


def add_certificate(fields: CertFields, der: bytes | None) -> None:
    """Set the ``cert_*`` fields of a probe result (only ``cert_sha256``, None, when there is no certificate)."""
    fields["cert_sha256"] = None
    if not der:
        return
    cert = certificate_fingerprint(der)
    fields["cert_sha256"], fields["cert_serial"] = cert.sha256, cert.serial
    fields["cert_subject"], fields["cert_issuer"] = cert.subject, cert.issuer
    fields["cert_not_after"] = cert.not_after.isoformat() if cert.not_after else None
    fields["cert_self_signed"] = cert.self_signed
    if cert.error:
        fields["cert_error"] = cert.error
