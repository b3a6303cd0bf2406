"""What fingerprints cost: CPU per answer of the passive fingerprint, wall and CPU per destination of JARM.

Passive: a few thousand realistic answers (certificates of EC and RSA keys, self-signed and CA-signed, with a few
to a hundred names; HTTP answers from an empty 404 to a 64 KiB page, 6 to 16 headers) are fingerprinted in turn
(:func:`parse_certificate`, i.e. no certificate remembered, and :func:`http_fingerprint`); the figure is process
CPU time per answer. ``certificate_remembered_us`` is the cost when the certificate was seen before (the cache of
:func:`certificate_fingerprint`: a framework's default certificate, the same server at the next cycle).

JARM: a TLS server runs in a child process on 127.0.0.1 (so that its CPU is not counted), and JARM scans it
``--jarm`` times one after the other, then ``--jarm`` times at once; the figures are wall time and this process's
CPU time per destination; and, to compare with, this process's CPU per plain TLS handshake with the same server
(what a TLS probe costs at least). Only loopback is contacted.

    python bench/fingerprint_bench.py [--answers 3000] [--jarm 50] [--json FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from c2watch.fingerprint import certificate_fingerprint, http_fingerprint, jarm
from c2watch.fingerprint.certificate import parse_certificate

Key = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
Answer = tuple[bytes, list[tuple[bytes, bytes]], bytes]

WORDS = [
    "panel",
    "login",
    "gate",
    "admin",
    "beacon",
    "update",
    "cdn",
    "api",
    "static",
    "dashboard",
    "welcome",
    "nginx",
    "apache",
    "it",
    "works",
]


def certificate(rng: random.Random, issuer: tuple[x509.Name, Key] | None) -> bytes:
    key: Key = ec.generate_private_key(ec.SECP256R1()) if rng.random() < 0.5 else rsa.generate_private_key(65537, 2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{rng.choice(WORDS)}{rng.randrange(10**6)}.test")])
    names = [x509.DNSName(f"h{i}.{rng.choice(WORDS)}.test") for i in range(rng.choice([1, 2, 5, 20, 100]))]
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer[0] if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=10))
        .not_valid_after(now + timedelta(days=rng.randrange(1, 800)))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
    )
    return builder.sign(issuer[1] if issuer else key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def http_answer(rng: random.Random) -> tuple[list[tuple[bytes, bytes]], bytes]:
    size = rng.choice([0, 0, 150, 2_000, 6_000, 12_000, 64 * 1024])
    title = " ".join(rng.choices(WORDS, k=rng.randrange(1, 8))).encode()
    filler = (b"<div class='row'><p>" + rng.choice(WORDS).encode() + b" &amp; text</p></div>\n") * (size // 40 + 1)
    body = b"<!DOCTYPE html><html><head><meta charset='utf-8'><title>" + title + b"</title></head><body>" + filler
    body = body[:size]
    headers = [(b"Server", rng.choice([b"nginx", b"Apache/2.4.41 (Ubuntu)", b"Microsoft-IIS/10.0"]))]
    headers += [(b"Content-Type", b"text/html; charset=utf-8"), (b"Content-Length", str(len(body)).encode())]
    headers += [(f"X-Header-{i}".encode(), b"v" * rng.randrange(1, 60)) for i in range(rng.randrange(3, 14))]
    rng.shuffle(headers)
    return headers, body


def corpus(count: int, certificates: int, seed: int = 1) -> list[Answer]:
    """``count`` answers over ``certificates`` distinct certificates (half CA-signed), each answer its own page."""
    rng = random.Random(seed)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Bench CA")]), ca_key)
    ders = [certificate(rng, ca if i % 2 else None) for i in range(certificates)]
    return [(ders[i % certificates], *http_answer(rng)) for i in range(count)]


def cpu_per_item(action: Callable[[Answer], object], answers: list[Answer], rounds: int = 5) -> float:
    """Median over ``rounds`` of the process CPU time per answer, in microseconds."""
    figures = []
    for _ in range(rounds):
        began = time.process_time()
        for answer in answers:
            action(answer)
        figures.append((time.process_time() - began) / len(answers) * 1e6)
    return statistics.median(figures)


def passive(count: int, certificates: int) -> dict[str, float]:
    answers = corpus(count, certificates)
    return {
        "answers": count,
        "distinct_certificates": certificates,
        "mean_body_bytes": statistics.mean(len(a[2]) for a in answers),
        "certificate_us": cpu_per_item(lambda a: parse_certificate(a[0]), answers),
        "certificate_remembered_us": cpu_per_item(lambda a: certificate_fingerprint(a[0]), answers),
        "http_us": cpu_per_item(lambda a: http_fingerprint(a[1], a[2]), answers),
        "both_us": cpu_per_item(lambda a: (parse_certificate(a[0]), http_fingerprint(a[1], a[2])), answers),
    }


SERVER = """
import asyncio, ssl, sys
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(sys.argv[1], sys.argv[2])
async def handle(reader, writer):
    writer.close()
async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=context, backlog=1024)
    print(server.sockets[0].getsockname()[1], flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
asyncio.run(main())
"""


def write_server_files(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "jarm.bench")])
    now = datetime.now(UTC)
    builder = x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
    builder = builder.serial_number(1).not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(1))
    cert, key_file = directory / "cert.pem", directory / "key.pem"
    cert.write_bytes(builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert, key_file


async def jarm_runs(port: int, count: int) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    figures: dict[str, Any] = {"destinations": count}
    fingerprints = set()
    for mode in ("sequential", "concurrent"):
        wall, cpu = loop.time(), time.process_time()
        if mode == "sequential":
            results = [await jarm("127.0.0.1", port, None, timeout=5.0) for _ in range(count)]
        else:
            results = await asyncio.gather(*(jarm("127.0.0.1", port, None, timeout=5.0) for _ in range(count)))
        figures[f"{mode}_wall_ms_per_destination"] = (loop.time() - wall) / count * 1000
        figures[f"{mode}_cpu_ms_per_destination"] = (time.process_time() - cpu) / count * 1000
        fingerprints |= {result.fingerprint for result in results}
    figures["fingerprints"] = sorted(fingerprints)
    figures["tls_handshake_cpu_ms"] = await handshake_cpu_ms(port, count)
    return figures


async def handshake_cpu_ms(port: int, count: int) -> float:
    """This process's CPU per TLS handshake with the same server: what a TLS probe costs, for comparison."""
    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client.check_hostname, client.verify_mode = False, ssl.CERT_NONE
    began = time.process_time()
    for _ in range(count):
        _, writer = await asyncio.open_connection("127.0.0.1", port, ssl=client)
        writer.transport.abort()
    return (time.process_time() - began) / count * 1000


def jarm_bench(count: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as directory:
        cert, key = write_server_files(Path(directory))
        command = [sys.executable, "-c", SERVER, str(cert), str(key)]
        with subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as server:
            try:
                assert server.stdout is not None
                port = int(server.stdout.readline())
                return asyncio.run(jarm_runs(port, count))
            finally:
                server.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=3000)
    parser.add_argument("--certificates", type=int, default=200)
    parser.add_argument("--jarm", type=int, default=50)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    figures = {"passive": passive(args.answers, args.certificates), "jarm": jarm_bench(args.jarm)}
    figures["machine"] = {"cpus": os.cpu_count(), "python": sys.version.split()[0], "openssl": ssl.OPENSSL_VERSION}
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
