"""JARM on loopback: the same fingerprint as an independent implementation (pyjarm) on several TLS servers, and a
recorded outcome within the time bound for servers that refuse, reset, stall, drip or answer garbage."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import ssl
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from jarm.scanner.scanner import Scanner

from c2watch.fingerprint.jarm import MAX_ANSWER_BYTES, JarmResult, jarm
from c2watch.fingerprint.jarm_hash import ZERO_FINGERPRINT

from .certs import Made, make, name, server_context, tls_server

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def python_context(made: Made, directory: Path, config: str) -> ssl.SSLContext:
    context = server_context(made, directory)
    if config == "tls1.2":
        context.maximum_version = ssl.TLSVersion.TLSv1_2
    elif config == "tls1.3":
        context.minimum_version = ssl.TLSVersion.TLSv1_3
    elif config == "alpn":
        context.set_alpn_protocols(["h2", "http/1.1"])
    elif config == "chacha":
        context.maximum_version = ssl.TLSVersion.TLSv1_2
        context.set_ciphers("ECDHE-ECDSA-CHACHA20-POLY1305")
    return context


async def pyjarm(port: int, host: str = "127.0.0.1") -> str:
    fingerprint, _, _ = await Scanner.scan_async(host, port, timeout=5, proxy="ignore", concurrency=1)
    return str(fingerprint)


@pytest.fixture(scope="module")
def made() -> Made:
    return make(name("jarm.test"))


PYTHON_CONFIGS = ["default", "tls1.2", "tls1.3", "alpn", "chacha"]


@pytest.mark.parametrize("config", PYTHON_CONFIGS)
async def test_same_fingerprint_as_pyjarm_on_python_tls_servers(made: Made, tmp_path: Path, config: str) -> None:
    async with tls_server(python_context(made, tmp_path, config)) as port:
        result = await jarm("127.0.0.1", port, None, timeout=5.0)
        assert result.fingerprint == await pyjarm(port)
    assert result.answered
    assert {probe.outcome for probe in result.probes} <= {"server_hello", "closed", "alert"}


async def test_configurations_give_different_fingerprints(made: Made, tmp_path: Path) -> None:
    fingerprints = {}
    for config in ("tls1.2", "tls1.3", "chacha"):
        async with tls_server(python_context(made, tmp_path, config)) as port:
            fingerprints[config] = (await jarm("127.0.0.1", port, "jarm.test", timeout=5.0)).fingerprint
    assert len(set(fingerprints.values())) == 3
    assert fingerprints["tls1.3"].startswith("000" * 6)  # the six probes offering TLS 1.2 at most get no ServerHello


@asynccontextmanager
async def openssl_server(made: Made, directory: Path, *options: str) -> AsyncIterator[int]:
    """``openssl s_server`` on a loopback port, presenting ``made``; yields the port it printed."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("no openssl command")
    server_context(made, directory)  # writes cert.pem and key.pem
    command = [openssl, "s_server", "-accept", "127.0.0.1:0", "-cert", str(directory / "cert.pem")]
    command += ["-key", str(directory / "key.pem"), *options]
    process = await asyncio.create_subprocess_exec(
        *command, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
    )
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), 10)
        while not line.startswith(b"ACCEPT"):
            line = await asyncio.wait_for(process.stdout.readline(), 10)
        yield int(line.rsplit(b":", 1)[1])
    finally:
        process.kill()
        await process.wait()


@pytest.mark.parametrize(
    "options",
    [(), ("-tls1_2",), ("-no_tls1_3", "-cipher", "ECDHE-ECDSA-AES256-GCM-SHA384"), ("-alpn", "h2,http/1.1")],
    ids=["default", "tls1_2", "one-cipher", "alpn"],
)
async def test_same_fingerprint_as_pyjarm_on_openssl_s_server(made: Made, tmp_path: Path, options: tuple[str]) -> None:
    async with openssl_server(made, tmp_path, *options) as port:
        result = await jarm("127.0.0.1", port, None, timeout=5.0)
        assert result.fingerprint == await pyjarm(port)
    assert result.answered
    assert "alert" in {probe.outcome for probe in result.probes}  # OpenSSL says no with an alert


async def test_ipv6_loopback(made: Made, tmp_path: Path) -> None:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback")
    async with tls_server(python_context(made, tmp_path, "default"), host="::1") as port:
        result = await jarm("::1", port, None, timeout=5.0)
        assert result.fingerprint == await pyjarm(port, "::1")
    assert result.answered


async def test_a_name_is_refused_never_resolved() -> None:
    with pytest.raises(ValueError, match="does not appear to be an IPv4 or IPv6 address"):
        await jarm("localhost", 443, None, timeout=1.0)
    with pytest.raises(ValueError, match="a server name of 1 to 255 bytes, not 256"):
        await jarm("127.0.0.1", 443, "a" * 256, timeout=1.0)


async def test_no_name_is_looked_up(made: Made, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """JARM connects to the address it is given: the resolver is never asked, not even for a numeric address."""

    def no_lookup(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"getaddrinfo{args}")

    async with tls_server(python_context(made, tmp_path, "default")) as port:
        monkeypatch.setattr(socket, "getaddrinfo", no_lookup)
        monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", no_lookup)
        result = await jarm("127.0.0.1", port, "c2.example", timeout=5.0)
    assert result.answered


async def test_a_closed_port_gives_the_zero_fingerprint() -> None:
    with socket.socket() as bound:  # bound, not listening: connections are refused and no one else takes it
        bound.bind(("127.0.0.1", 0))
        result = await jarm("127.0.0.1", bound.getsockname()[1], None, timeout=2.0)
    assert result.fingerprint == ZERO_FINGERPRINT and not result.answered
    assert {probe.outcome for probe in result.probes} == {"refused"}


@asynccontextmanager
async def raw_server(handle: Handler) -> AsyncIterator[int]:
    async def quietly(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            with contextlib.suppress(ConnectionError):  # the client aborts its connections
                await handle(reader, writer)
        finally:
            writer.close()

    server = await asyncio.start_server(quietly, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


async def timed_jarm(handle: Handler, timeout: float, total: float | None = None) -> tuple[JarmResult, float]:
    loop = asyncio.get_running_loop()
    async with raw_server(handle) as port:
        start = loop.time()
        result = await jarm("127.0.0.1", port, None, timeout=timeout, total=total)
        return result, loop.time() - start


async def stall(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.read()  # never answers; the client gives up


async def test_a_stalling_server_times_out_once_and_zeroes_the_fingerprint() -> None:
    result, seconds = await timed_jarm(stall, timeout=0.3)
    assert [probe.outcome for probe in result.probes] == ["timeout"] + ["not_sent"] * 9
    assert result.fingerprint == ZERO_FINGERPRINT
    assert seconds < 0.3 + 0.5


async def test_a_resetting_server() -> None:
    async def reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(5)
        writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()

    result, _ = await timed_jarm(reset, timeout=2.0)
    assert {probe.outcome for probe in result.probes} == {"reset"}
    assert result.fingerprint == ZERO_FINGERPRINT


async def test_garbage_is_read_within_bounds() -> None:
    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(5)
        writer.write(b"HTTP/1.1 400 Bad Request\r\n\r\n" + b"\xff" * (1024 * 1024))
        await reader.read()

    result, seconds = await timed_jarm(garbage, timeout=2.0)
    assert {probe.outcome for probe in result.probes} == {"garbage"}
    assert all(0 < probe.received <= MAX_ANSWER_BYTES for probe in result.probes)
    assert result.fingerprint == ZERO_FINGERPRINT
    assert seconds < 2.0


async def test_a_server_hello_cut_short_then_stalled_is_a_timeout() -> None:
    async def partial(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(5)
        writer.write(b"\x16\x03\x03\x00\x50\x02\x00\x00\x4c\x03\x03")
        await reader.read()

    result, seconds = await timed_jarm(partial, timeout=0.3)
    assert result.probes[0].outcome == "timeout" and result.fingerprint == ZERO_FINGERPRINT
    assert seconds < 0.3 + 0.5


async def test_a_server_hello_split_in_pieces_is_read_whole(made: Made, tmp_path: Path) -> None:
    """A ServerHello sent a few bytes at a time reads as the same answer as one sent whole."""
    async with tls_server(python_context(made, tmp_path, "tls1.2")) as tls_port:
        whole = await jarm("127.0.0.1", tls_port, None, timeout=5.0)

        async def drip(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            upstream_reader, upstream = await asyncio.open_connection("127.0.0.1", tls_port)
            upstream.write(await read_record(reader))
            answer = await read_record(upstream_reader)
            for at in range(0, len(answer), 7):
                writer.write(answer[at : at + 7])
                await writer.drain()
            upstream.close()
            writer.close()

        dripped, _ = await timed_jarm(drip, timeout=5.0)
    assert dripped.fingerprint == whole.fingerprint
    assert [p.answer for p in dripped.probes] == [p.answer for p in whole.probes]


async def read_record(reader: asyncio.StreamReader) -> bytes:
    """One whole TLS record (or what came before the connection closed)."""
    data = await reader.read(5)
    while 0 < len(data) < 5 + int.from_bytes(data[3:5].ljust(2, b"\xff"), "big"):
        chunk = await reader.read(5 + int.from_bytes(data[3:5], "big") - len(data))
        if not chunk:
            break
        data += chunk
    return data


async def test_a_tarpit_is_bounded_by_the_total() -> None:
    async def tarpit(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(5)
        await asyncio.sleep(0.2)  # the server's behaviour under test: slow but under the per-probe timeout
        writer.write(b"\x15\x03\x03\x00\x02\x02\x28")
        await reader.read()

    result, seconds = await timed_jarm(tarpit, timeout=0.5, total=0.7)
    outcomes = [probe.outcome for probe in result.probes]
    assert outcomes[:3] == ["alert"] * 3 and outcomes[-1] == "not_sent"
    assert result.fingerprint == ZERO_FINGERPRINT
    assert seconds < 0.7 + 0.5
