"""A self-signed certificate for the lab's HTTPS destinations, made once per process (with ``cryptography``)."""

from __future__ import annotations

import ssl
import tempfile
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from c2watch.errors import C2WatchError

__all__ = ["CERT_COMMON_NAME", "LabSetupError", "self_signed_pem", "server_context"]

CERT_COMMON_NAME = "c2watch-lab.invalid"
_VALID_DAYS = 30

_lock = threading.Lock()
_pem: tuple[bytes, bytes] | None = None


class LabSetupError(C2WatchError):
    """The lab cannot start (a port already taken, ...)."""


def _make_pem() -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, CERT_COMMON_NAME)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=_VALID_DAYS))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def self_signed_pem() -> tuple[bytes, bytes]:
    """(certificate PEM, private key PEM), made on first call and then cached."""
    global _pem
    with _lock:
        if _pem is None:
            _pem = _make_pem()
        return _pem


def context_from_pem(cert: bytes, key: bytes) -> ssl.SSLContext:
    """A TLS server context serving ``cert``."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with tempfile.TemporaryDirectory(prefix="c2watch-lab-") as folder:
        cert_file, key_file = Path(folder, "cert.pem"), Path(folder, "key.pem")
        cert_file.write_bytes(cert)
        key_file.touch(mode=0o600)
        key_file.write_bytes(key)
        context.load_cert_chain(cert_file, key_file)
    return context


def server_context() -> ssl.SSLContext:
    """A TLS server context with the process's self-signed certificate."""
    return context_from_pem(*self_signed_pem())
