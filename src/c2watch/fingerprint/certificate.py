"""The fingerprint of a TLS certificate, read from the DER bytes a TLS probe already received.

A C2 server chooses its certificate: it may be malformed, truncated, huge, or carry names in odd encodings. Such
a certificate is data, not an exception: whatever cannot be read is left ``None`` and named in ``error``, while
the SHA-256 of the bytes received is always there (it is what the search engines and CERTs pivot on). Strings
are kept as the certificate has them (another layer fits them to columns); only their number is bounded.
"""

from __future__ import annotations

import functools
import hashlib
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm

__all__ = [
    "CACHED_BYTES",
    "CACHED_CERTIFICATES",
    "MAX_CERTIFICATE_BYTES",
    "MAX_DNS_NAMES",
    "CertificateFingerprint",
    "certificate_fingerprint",
]

MAX_CERTIFICATE_BYTES = 64 * 1024
"""Larger DER is not parsed (real certificates are a few KiB); only its SHA-256 is kept."""

MAX_DNS_NAMES = 100
"""At most this many subject alternative DNS names are kept; ``dns_name_count`` says how many there were."""

CACHED_CERTIFICATES = 1024
"""Fingerprints of this many recent certificates are remembered, for DER of at most :data:`CACHED_BYTES`."""

CACHED_BYTES = 8 * 1024
"""Only certificates this small are remembered (the DER is the key): the cache holds at most 8 MiB of DER."""

_T = TypeVar("_T")


@dataclass(frozen=True)
class CertificateFingerprint:
    """What identifies a certificate; ``None`` where the DER could not say (then ``error`` tells why)."""

    sha256: str
    serial: str | None = None
    subject: str | None = None
    issuer: str | None = None
    not_before: datetime | None = None
    not_after: datetime | None = None
    self_signed: bool | None = None
    dns_names: tuple[str, ...] = ()
    dns_name_count: int = 0
    error: str | None = None


def certificate_fingerprint(der: bytes) -> CertificateFingerprint:
    """The fingerprint of the DER certificate ``der``; never raises for any bytes."""
    if len(der) > MAX_CERTIFICATE_BYTES:
        sha256 = hashlib.sha256(der).hexdigest()
        return CertificateFingerprint(sha256, error=f"certificate of {len(der)} bytes, over {MAX_CERTIFICATE_BYTES}")
    return _remembered(der) if len(der) <= CACHED_BYTES else parse_certificate(der)


def parse_certificate(der: bytes) -> CertificateFingerprint:
    """:func:`certificate_fingerprint` without the bound on size and without the cache."""
    sha256 = hashlib.sha256(der).hexdigest()
    with warnings.catch_warnings():  # e.g. a negative serial: a fact about the server, not a warning for us
        warnings.simplefilter("ignore")
        try:
            certificate = x509.load_der_x509_certificate(der)
        except ValueError as exc:
            return CertificateFingerprint(sha256, error=f"not a certificate: {exc}")
        return _read(sha256, certificate)


_remembered = functools.lru_cache(maxsize=CACHED_CERTIFICATES)(parse_certificate)
"""Checking a self-signature costs most of a fingerprint (some 100 µs for a P-256 key); many C2 servers present
the same certificate (a framework's default), and each presents it again at every cycle."""


def _read(sha256: str, certificate: x509.Certificate) -> CertificateFingerprint:
    errors: list[str] = []
    subject = _attempt(errors, "subject", lambda: certificate.subject.rfc4514_string())
    issuer = _attempt(errors, "issuer", lambda: certificate.issuer.rfc4514_string())
    names = _attempt(errors, "subject alternative names", lambda: _dns_names(certificate)) or []
    return CertificateFingerprint(
        sha256=sha256,
        serial=_attempt(errors, "serial", lambda: str(certificate.serial_number)),
        subject=subject,
        issuer=issuer,
        not_before=_attempt(errors, "not before", lambda: certificate.not_valid_before_utc),
        not_after=_attempt(errors, "not after", lambda: certificate.not_valid_after_utc),
        self_signed=_attempt(errors, "self-signed", lambda: _self_signed(certificate)),
        dns_names=tuple(names[:MAX_DNS_NAMES]),
        dns_name_count=len(names),
        error="; ".join(errors) or None,
    )


def _attempt(errors: list[str], what: str, read: Callable[[], _T]) -> _T | None:
    """``read()``, or ``None`` with the reason appended to ``errors``.

    cryptography decodes a certificate lazily; a hostile field raises (mostly ``ValueError``) only when read, and
    whatever it raises must cost that field, not the fingerprint.
    """
    try:
        return read()
    except Exception as exc:  # any failure to decode hostile bytes
        errors.append(f"{what}: {type(exc).__name__}: {exc}")
        return None


def _dns_names(certificate: x509.Certificate) -> list[str]:
    try:
        extension = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return []
    return extension.value.get_values_for_type(x509.DNSName)


def _self_signed(certificate: x509.Certificate) -> bool:
    """Issuer equals subject and, where the algorithm allows checking it, the certificate's own key signed it."""
    if certificate.issuer.public_bytes() != certificate.subject.public_bytes():
        return False
    try:
        certificate.verify_directly_issued_by(certificate)
    except InvalidSignature:
        return False
    except (ValueError, TypeError, UnsupportedAlgorithm):  # an algorithm or key cryptography cannot check: by name
        return True
    return True
