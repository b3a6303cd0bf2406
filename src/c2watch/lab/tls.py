"""A self-signed certificate for the lab's HTTPS destinations, made once per process.

Uses the ``cryptography`` package when it is installed, else the ``openssl`` command.
"""

from __future__ import annotations

import shutil
import ssl
import subprocess
import tempfile
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from c2watch.errors import C2WatchError

__all__ = ["CERT_COMMON_NAME", "LabSetupError", "self_signed_pem", "server_context"]

CERT_COMMON_NAME = "c2watch-lab.invalid"
_VALID_DAYS = 30

_lock = threading.Lock()
_pem: tuple[bytes, bytes] | None = None


class LabSetupError(C2WatchError):
    """The lab cannot start (no way to make a certificate, a port already taken, ...)."""


def _pem_with_cryptography() -> tuple[bytes, bytes] | None:
    # cryptography is optional: without it the openssl command is used instead.
    try:
        from cryptography import x509  # type: ignore[import-not-found,unused-ignore]
        from cryptography.hazmat.primitives import (  # type: ignore[import-not-found,unused-ignore]
            hashes,
            serialization,
        )
        from cryptography.hazmat.primitives.asymmetric import ec  # type: ignore[import-not-found,unused-ignore]
        from cryptography.x509.oid import NameOID  # type: ignore[import-not-found,unused-ignore]
    except ImportError:  # pragma: no cover - depends on the environment
        return None
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


def _pem_with_openssl() -> tuple[bytes, bytes]:
    openssl = shutil.which("openssl")
    if openssl is None:
        raise LabSetupError("HTTPS destinations need the 'cryptography' package or the 'openssl' command")
    with tempfile.TemporaryDirectory(prefix="c2watch-lab-") as folder:
        cert, key = Path(folder, "cert.pem"), Path(folder, "key.pem")
        command = [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
        command += ["-nodes", "-keyout", str(key), "-out", str(cert), "-days", str(_VALID_DAYS)]
        command += ["-subj", f"/CN={CERT_COMMON_NAME}"]
        result = subprocess.run(command, capture_output=True, check=False, timeout=30)
        if result.returncode:
            raise LabSetupError(f"openssl could not make a certificate: {result.stderr.decode(errors='replace')}")
        return cert.read_bytes(), key.read_bytes()


def self_signed_pem(*, use_cryptography: bool = True) -> tuple[bytes, bytes]:
    """(certificate PEM, private key PEM), made on first call and then cached."""
    global _pem
    with _lock:
        if _pem is None:
            made = _pem_with_cryptography() if use_cryptography else None
            _pem = made or _pem_with_openssl()
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
