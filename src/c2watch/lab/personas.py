"""Lab servers that look like something: a C2 framework left at its public defaults, a new tenant's fresh web server,
a parking page, a sinkhole. Each persona is a certificate (for HTTPS) and an answer (status, headers in wire order,
body), built from the public facts the shipped signatures name (docs/signatures.md), so that a cycle against the lab
sees what it would see on the Internet. Certificates are made once per process and persona."""

from __future__ import annotations

import functools
import ssl
import threading
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from c2watch.lab.tls import context_from_pem

__all__ = ["PERSONAS", "Persona", "persona_context", "persona_pem"]

_OIDS = {"C": NameOID.COUNTRY_NAME, "ST": NameOID.STATE_OR_PROVINCE_NAME, "L": NameOID.LOCALITY_NAME}
_OIDS |= {"O": NameOID.ORGANIZATION_NAME, "OU": NameOID.ORGANIZATIONAL_UNIT_NAME, "CN": NameOID.COMMON_NAME}


@dataclass(frozen=True)
class Persona:
    """What a lab server presents: a certificate (subject, issuer, serial; None: random) and an answer."""

    name: str
    description: str
    subject: tuple[tuple[str, str], ...]
    issuer: tuple[tuple[str, str], ...] = ()
    serial: int | None = None
    status: int = 200
    reason: str = "OK"
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    names: tuple[str, ...] = field(default_factory=tuple)

    def head(self, date: str) -> bytes:
        """The status line and headers (``Date`` filled in, ``Content-Length`` from the body), wire order kept."""
        lines = [f"HTTP/1.1 {self.status} {self.reason}"]
        for name, value in self.headers:
            lines.append(f"{name}: {date if name == 'Date' else len(self.body) if name == 'Content-Length' else value}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


_NGINX_WELCOME = b"""<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and working.</p>
</body>
</html>
"""
_PARKED = b"""<!DOCTYPE html><html><head><title>lab-parked.example - this domain is parked</title></head>
<body><p>This domain may be for sale. Parked by the c2watch lab's parking provider.</p></body></html>
"""
_SINKHOLE = b"<html><head><title>Sinkhole</title></head><body>This domain has been sinkholed.</body></html>\n"

_NGINX_HEADERS = (
    ("Server", "nginx/1.24.0"),
    ("Date", ""),
    ("Content-Type", "text/html"),
    ("Content-Length", ""),
    ("Last-Modified", "Tue, 11 Apr 2023 01:45:34 GMT"),
    ("Connection", "close"),
    ("ETag", '"6434bbbe-267"'),
    ("Accept-Ranges", "bytes"),
)
_PLAIN_HEADERS = (("Date", ""), ("Content-Type", "text/plain"), ("Content-Length", ""), ("Connection", "close"))

_COBALT_STRIKE = (
    ("C", "Earth"),
    ("ST", "Cyberspace"),
    ("L", "Somewhere"),
    ("O", "cobaltstrike"),
    ("OU", "AdvancedPenTesting"),
    ("CN", "Major Cobalt Strike"),
)
_SINKHOLE_HEADERS = (("Server", "Sinkhole"), ("Date", ""), ("Content-Type", "text/html"), ("Content-Length", ""))

_LIST = [
    Persona(
        "cobalt-strike",
        "Cobalt Strike team server at its defaults: its built-in certificate, 404 and no body for an unknown URI",
        _COBALT_STRIKE,
        serial=146473198,
        status=404,
        reason="Not Found",
        headers=_PLAIN_HEADERS,
    ),
    Persona(
        "metasploit",
        "Metasploit handler: a certificate issued by MetasploitSelfSignedCA",
        (("CN", "lab-msf.example"),),
        issuer=(("CN", "MetasploitSelfSignedCA"),),
        status=404,
        reason="File not found",
        headers=_PLAIN_HEADERS,
    ),
    Persona(
        "nginx-default",
        "a new tenant's fresh nginx: its welcome page and a certificate for an unrelated name",
        (("CN", "www.new-tenant.example"),),
        issuer=(("O", "Lab Public CA"), ("CN", "Lab Public CA R3")),
        headers=_NGINX_HEADERS,
        body=_NGINX_WELCOME,
        names=("www.new-tenant.example", "new-tenant.example"),
    ),
    Persona(
        "parking",
        "a parking provider's page for a domain that expired",
        (("CN", "*.lab-parking.example"),),
        headers=(*_NGINX_HEADERS[:4], ("Connection", "close")),
        body=_PARKED,
    ),
    Persona(
        "sinkhole",
        "a sinkhole operator's server",
        (("CN", "sinkhole.lab-sinkhole.example"),),
        headers=(*_SINKHOLE_HEADERS, ("Connection", "close")),
        body=_SINKHOLE,
    ),
]

#: Persona name -> persona.
PERSONAS: Mapping[str, Persona] = MappingProxyType({persona.name: persona for persona in _LIST})

_lock = threading.Lock()
_pems: dict[str, tuple[bytes, bytes]] = {}


def _name(parts: tuple[tuple[str, str], ...]) -> x509.Name:
    """A name as written, unchecked: Cobalt Strike's country is ``Earth``, which no CA would sign (cryptography
    warns about such a country; this is the point)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return x509.Name([x509.NameAttribute(_OIDS[key], value, _validate=False) for key, value in parts])


def _make_pem(persona: Persona) -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(persona.subject))
        .issuer_name(_name(persona.issuer or persona.subject))
        .public_key(key.public_key())
        .serial_number(persona.serial or x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
    )
    if persona.names:
        names = [x509.DNSName(name) for name in persona.names]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    cert = builder.sign(key, hashes.SHA256())
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def persona_pem(name: str) -> tuple[bytes, bytes]:
    """(certificate PEM, private key PEM) of persona ``name``, made on first use and then cached."""
    with _lock:
        if name not in _pems:
            _pems[name] = _make_pem(PERSONAS[name])
        return _pems[name]


@functools.cache
def persona_context(name: str) -> ssl.SSLContext:
    """A TLS server context serving persona ``name``'s certificate (made once per process, then shared)."""
    return context_from_pem(*persona_pem(name))
