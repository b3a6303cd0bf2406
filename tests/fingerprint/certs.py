"""Certificates made for the fingerprint tests, ordinary and hostile, and loopback TLS servers that present them."""

from __future__ import annotations

import asyncio
import ssl
import tempfile
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Made:
    """A certificate and the key of its subject."""

    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)


def name(common_name: str, *extra: x509.NameAttribute) -> x509.Name:
    return x509.Name([*extra, x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make(
    subject: x509.Name,
    *,
    issuer: Made | None = None,
    serial: int = 146473198,
    not_before: datetime = NOW - timedelta(days=1),
    not_after: datetime = NOW + timedelta(days=365),
    dns_names: Sequence[str] = (),
    signer: ec.EllipticCurvePrivateKey | None = None,
) -> Made:
    """A certificate for ``subject``: self-signed unless ``issuer`` is given (or ``signer``, a foreign key)."""
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.certificate.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
    )
    if dns_names:
        san = x509.SubjectAlternativeName([x509.DNSName(n) for n in dns_names])
        builder = builder.add_extension(san, critical=False)
    sign_with = signer or (issuer.key if issuer else key)
    return Made(builder.sign(sign_with, hashes.SHA256()), key)


def server_context(made: Made, directory: Path) -> ssl.SSLContext:
    """A server context presenting ``made`` (files written under ``directory``)."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    cert.write_bytes(made.certificate.public_bytes(serialization.Encoding.PEM))
    pem_key = made.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    key.write_bytes(pem_key)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


@asynccontextmanager
async def tls_server(context: ssl.SSLContext, host: str = "127.0.0.1") -> AsyncIterator[int]:
    """A loopback TLS server with ``context`` that closes each connection after the handshake; yields its port."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    server = await asyncio.start_server(handle, host, 0, ssl=context)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


def made_context(made: Made) -> ssl.SSLContext:
    with tempfile.TemporaryDirectory() as directory:
        return server_context(made, Path(directory))
