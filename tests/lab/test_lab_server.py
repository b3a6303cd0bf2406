from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import aiohttp
import pytest

from c2watch.lab import FakeClock, Lab, Scenario
from c2watch.lab.tls import CERT_COMMON_NAME

from .conftest import StartLab
from .helpers import T0, connect, dest, fetch, one, request_bytes, status_of

DAY = timedelta(days=1)


async def test_schedule_200_then_404_follows_the_fake_clock(start_lab: StartLab, clock: FakeClock) -> None:
    scenario = Scenario([dest("gate", 1, (None, "status:200"), (T0 + DAY, "status:404"))])
    lab = await start_lab(scenario)
    url = lab.url_for("gate")
    assert status_of(await fetch(url)) == (200, b"OK")
    clock.advance(hours=23, minutes=59)
    assert status_of(await fetch(url)) == (200, b"OK")
    clock.advance(minutes=1)
    assert status_of(await fetch(url)) == (404, b"Not Found")
    clock.set(T0)
    assert status_of(await fetch(url)) == (200, b"OK")
    assert lab.requests["gate"] == 4
    assert [hit.behaviour for hit in lab.hits] == ["status:200", "status:200", "status:404", "status:200"]


async def test_an_ordinary_answer_looks_like_nginx(start_lab: StartLab) -> None:
    lab = await start_lab(one("gate", "status:503:Busy"))
    raw = await fetch(lab.url_for("gate"))
    head, body = raw.split(b"\r\n\r\n", 1)
    lines = head.split(b"\r\n")
    assert lines[0] == b"HTTP/1.1 503 Busy"
    headers = dict(line.split(b": ", 1) for line in lines[1:])
    assert headers[b"Server"] == b"nginx" and headers[b"Content-Type"] == b"text/html"
    assert headers[b"Date"] == b"Sat, 01 Mar 2025 00:00:00 GMT"  # the lab clock's time
    assert int(headers[b"Content-Length"]) == len(body) and b"<h1>503 Busy</h1>" in body
    assert raw == await fetch(lab.url_for("gate"))  # deterministic


async def test_head_requests_get_no_body(start_lab: StartLab) -> None:
    lab = await start_lab(one("gate", "status:200"))
    raw = await fetch(lab.url_for("gate"), method="HEAD")
    assert raw.startswith(b"HTTP/1.1 200 OK\r\n") and raw.endswith(b"\r\n\r\n")


async def test_closed_means_connection_refused(start_lab: StartLab) -> None:
    lab = await start_lab(one("gone", "closed"))
    assert lab.port_of("gone") > 0 and not lab.listening("gone")
    with pytest.raises(ConnectionRefusedError):
        await connect(lab.url_for("gone"))
    assert lab.requests["gone"] == 0


async def test_closed_steps_open_and_close_the_port(start_lab: StartLab, clock: FakeClock) -> None:
    steps = [(T0 + DAY, "status:200"), (T0 + 2 * DAY, "closed"), (T0 + 3 * DAY, "status:404")]
    lab = await start_lab(Scenario([dest("late", 1, *steps)]))
    url = lab.url_for("late")
    with pytest.raises(ConnectionRefusedError):
        await connect(url)
    clock.advance(DAY)
    await lab.sync()
    assert status_of(await fetch(url))[0] == 200
    clock.advance(DAY)
    await asyncio.wait_for(_until(lambda: not lab.listening("late")), 2)  # the background watcher
    with pytest.raises(ConnectionRefusedError):
        await connect(url)
    clock.advance(DAY)
    await lab.sync()
    assert status_of(await fetch(url))[0] == 404
    assert lab.url_for("late") == url  # the same port throughout


async def _until(condition: object) -> None:
    assert callable(condition)
    while not condition():
        await asyncio.sleep(0.01)


async def test_reset_ends_the_connection_with_rst(start_lab: StartLab) -> None:
    lab = await start_lab(one("rst", "reset"))
    conn = await connect(lab.url_for("rst"))
    try:
        await asyncio.sleep(0)  # no timing needed: the RST is already on its way or here
        await conn.send(request_bytes(lab.url_for("rst")))
        data = await conn.read(1024, 1.0)
        assert data == b""
    except ConnectionResetError:
        pass
    finally:
        conn.close()
    assert lab.requests["rst"] == 1


async def test_reset_seen_by_aiohttp(start_lab: StartLab) -> None:
    lab = await start_lab(one("rst", "reset"))
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientOSError):
            async with session.get(lab.url_for("rst")):
                pass


async def test_tarpit_accepts_and_never_answers(start_lab: StartLab) -> None:
    lab = await start_lab(one("pit", "tarpit"))
    conn = await connect(lab.url_for("pit"))
    try:
        await conn.send(request_bytes(lab.url_for("pit")))
        assert await conn.read(1024, 0.3) == b""
        assert not conn.reader.at_eof()
    finally:
        conn.close()


async def test_silent_closes_without_answer(start_lab: StartLab) -> None:
    lab = await start_lab(one("quiet", "silent"))
    conn = await connect(lab.url_for("quiet"))
    try:
        await conn.send(request_bytes(lab.url_for("quiet")))
        assert await conn.at_eof(2.0)
    finally:
        conn.close()


async def test_slow_answers_after_the_delay(start_lab: StartLab) -> None:
    lab = await start_lab(one("slow", "slow:0.3"))
    started = time.monotonic()
    raw = await fetch(lab.url_for("slow"))
    assert status_of(raw) == (200, b"OK")
    assert time.monotonic() - started >= 0.3


async def test_https_with_verification_off(start_lab: StartLab) -> None:
    lab = await start_lab(one("tls", "status:200", scheme="https"))
    url = lab.url_for("tls")
    assert url.startswith("https://127.77.1.10:")
    connector = aiohttp.TCPConnector(ssl=False)
    async with (
        aiohttp.ClientSession(connector=connector, auto_decompress=False) as session,
        session.get(url) as response,
    ):
        assert (response.status, response.reason) == (200, "OK")
        assert response.headers["Server"] == "nginx"
        assert b"200 OK" in await response.content.read(4096)
    conn = await connect(url)
    try:
        cert = conn.writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
        assert cert and CERT_COMMON_NAME.encode() in cert
    finally:
        conn.close()


async def test_an_oversized_request_head_is_dropped(start_lab: StartLab) -> None:
    lab = await start_lab(one("gate", "status:200"))
    conn = await connect(lab.url_for("gate"))
    try:
        conn.writer.write(b"GET / HTTP/1.1\r\nX-Big: " + b"a" * (70 * 1024))
        assert await conn.read(1024, 2.0) == b""
    except ConnectionResetError:
        pass
    finally:
        conn.close()


async def test_many_destinations_start_fast_and_stop_cleanly(clock: FakeClock) -> None:
    behaviours = ["status:200", "closed", "tarpit", "reset", "slow:5", "gzip-bomb"]
    destinations = [dest(f"d{i}", i + 1, (None, behaviours[i % len(behaviours)])) for i in range(50)]
    destinations.append(dest("tls", 60, (None, "status:200"), scheme="https"))
    lab = Lab(Scenario(destinations), clock)
    started = time.monotonic()
    await lab.start()
    try:
        assert time.monotonic() - started < 1.0
        assert sum(lab.listening(f"d{i}") for i in range(50)) == 50 - 50 // 6 - 1
        pit = await connect(lab.url_for("d2"))  # a tarpit connection stays open ...
        slow = await connect(lab.url_for("d4"))
        await slow.send(request_bytes(lab.url_for("d4")))
        await _until(lambda: lab.requests["d4"] == 1)
    finally:
        await lab.stop()
    try:
        assert await pit.at_eof(2.0)  # ... until the lab stops
        assert await slow.at_eof(2.0)
    finally:
        pit.close()
        slow.close()


async def test_the_clock_must_be_timezone_aware() -> None:
    lab = Lab(one("gate", "status:200"), lambda: T0.replace(tzinfo=None))
    with pytest.raises(Exception, match="naive"):
        await lab.start()


async def test_a_taken_port_fails_the_start_and_leaves_nothing_open(start_lab: StartLab) -> None:
    first = await start_lab(one("gate", "status:200"))
    port = first.port_of("gate")
    taken = Scenario([dest("other", 11, (None, "status:200")), dest("gate", 10, (None, "status:200"), port=port)])
    lab = Lab(taken, lambda: T0)
    with pytest.raises(Exception, match="cannot listen"):
        await lab.start()
    assert lab.ports() == {}


async def test_ipv6_loopback_destination(start_lab: StartLab) -> None:
    lab = await start_lab(one("six", "status:200", address="::1"))
    url = lab.url_for("six")
    assert url.startswith("http://[::1]:")
    assert status_of(await fetch(url))[0] == 200
