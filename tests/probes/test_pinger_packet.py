"""ICMP echo packets, ancillary data and RTT arithmetic of the pinger (no sockets)."""

from __future__ import annotations

import socket
import struct

from hypothesis import given
from hypothesis import strategies as st

from c2watch.probes.pinger_jobs import EchoJob, PendingEcho, rtt_ms
from c2watch.probes.pinger_packet import PAYLOAD_SIZE, build_echo, checksum, parse_reply
from c2watch.probes.pinger_socket import read_ancillary

TOKEN = b"tokentok"


def reference_checksum(data: bytes) -> int:
    """RFC 1071, word by word."""
    if len(data) % 2:
        data += b"\0"
    total: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def as_reply(request: bytes, ipv6: bool = False) -> bytes:
    """The echo reply a host sends for ``request`` (type changed, checksum fixed)."""
    body = bytes([129 if ipv6 else 0, 0, 0, 0]) + request[4:]
    return body if ipv6 else body[:2] + struct.pack("!H", checksum(body)) + body[4:]


def ipv4(icmp: bytes, ttl: int = 57, proto: int = 1, version_ihl: int = 0x45) -> bytes:
    src = socket.inet_aton("127.0.0.1")
    header = struct.pack("!BBHHHBBH4s4s", version_ihl, 0, 20 + len(icmp), 0, 0, ttl, proto, 0, src, src)
    return header + icmp


@given(st.binary(max_size=200))
def test_checksum_matches_rfc1071(data: bytes) -> None:
    assert checksum(data) == reference_checksum(data)


@given(st.integers(0, 0xFFFF), st.integers(0, 0xFFFF), st.integers(0, 2**64 - 1), st.binary(min_size=8, max_size=8))
def test_echo_request_checksum_verifies(ident: int, seq: int, stamp: int, token: bytes) -> None:
    packet = build_echo(False, ident, seq, stamp, token)
    assert len(packet) == 8 + PAYLOAD_SIZE == 64
    assert reference_checksum(packet) == 0
    assert packet[0] == 8 and packet[1] == 0


def test_ipv6_request_leaves_checksum_to_the_kernel() -> None:
    packet = build_echo(True, 1, 2, 3, TOKEN)
    assert packet[0] == 128 and packet[2:4] == b"\0\0" and len(packet) == 64


def test_reply_round_trip_raw_ipv4_reads_ttl_from_header() -> None:
    reply = parse_reply(ipv4(as_reply(build_echo(False, 0x1234, 0xFFFF, 123456789, TOKEN))), False, ip_header=True)
    assert reply is not None
    assert (reply.ident, reply.seq, reply.stamp_ns, reply.token, reply.ttl) == (0x1234, 0xFFFF, 123456789, TOKEN, 57)


def test_reply_round_trip_without_ip_header() -> None:
    v4 = parse_reply(as_reply(build_echo(False, 7, 8, 9, TOKEN)), False, ip_header=False)
    v6 = parse_reply(as_reply(build_echo(True, 7, 8, 9, TOKEN), ipv6=True), True, ip_header=False)
    assert v4 is not None and v6 is not None
    assert (v4.ident, v4.seq, v4.stamp_ns, v4.ttl) == (v6.ident, v6.seq, v6.stamp_ns, v6.ttl) == (7, 8, 9, None)


def test_requests_errors_truncated_and_garbage_are_not_replies() -> None:
    request = build_echo(False, 1, 2, 3, TOKEN)
    reply = as_reply(request)
    unreachable = bytes([3, 1, 0, 0, 0, 0, 0, 0]) + ipv4(request)[:28]
    for data, ip_header in [
        (ipv4(request), True),  # our own request, as raw sockets see it on lo
        (ipv4(unreachable), True),
        (ipv4(reply)[:40], True),  # truncated payload
        (ipv4(reply)[:12], True),  # truncated IP header
        (ipv4(reply, proto=17), True),  # not ICMP
        (ipv4(reply, version_ihl=0x65), True),  # not IPv4
        (ipv4(reply, version_ihl=0x44), True),  # header length below 20
        (ipv4(reply)[:-1], True),  # shorter than its total length
        (b"", True),
        (bytes(range(97)), True),
        (bytes([0, 1]) + reply[2:], False),  # echo reply with a non-zero code
        (reply, True),  # an IPv4 reply misread as carrying an IP header
        (as_reply(build_echo(True, 1, 2, 3, TOKEN), ipv6=True), False),  # ICMPv6 reply on an IPv4 socket
        (build_echo(True, 1, 2, 3, TOKEN), True),
    ]:
        assert parse_reply(data, False, ip_header) is None, data
    assert parse_reply(request, True, False) is None  # type 8 is no ICMPv6 reply either
    assert parse_reply(build_echo(True, 1, 2, 3, TOKEN), True, False) is None


def test_ancillary_timestamp_and_ttl() -> None:
    ancdata = [
        (socket.SOL_SOCKET, 35, struct.pack("@ll", 1_700_000_000, 123_456_789)),
        (socket.IPPROTO_IP, 2, struct.pack("@i", 61)),
    ]
    assert read_ancillary(ancdata) == (1_700_000_000_123_456_789, 61)
    assert read_ancillary([(socket.IPPROTO_IPV6, 52, struct.pack("@i", 255))]) == (None, 255)
    assert read_ancillary([(socket.SOL_SOCKET, 35, b"\0\0")]) == (None, None)  # truncated: ignored
    assert read_ancillary([]) == (None, None)


def _echo(sent_real_ns: int, sent_mono_ns: int) -> PendingEcho:
    job = EchoJob("127.0.0.1", b"\x7f\0\0\1", 1, 1.0, 1.0, 0.0, None)  # type: ignore[arg-type]
    return PendingEcho(job, (1, 1), 0, sent_real_ns=sent_real_ns, sent_mono_ns=sent_mono_ns)


def test_rtt_prefers_the_kernel_timestamp() -> None:
    echo = _echo(sent_real_ns=10_000_000_000, sent_mono_ns=5_000_000)
    assert rtt_ms(echo, 10_000_250_000, now_mono_ns=905_000_000) == 0.25  # processed 900 ms late


def test_rtt_falls_back_to_monotonic_time() -> None:
    echo = _echo(sent_real_ns=10_000_000_000, sent_mono_ns=5_000_000)
    assert rtt_ms(echo, None, now_mono_ns=8_000_000) == 3.0
    assert rtt_ms(echo, 9_000_000_000, now_mono_ns=8_000_000) == 3.0  # the realtime clock stepped back
    assert rtt_ms(echo, None, now_mono_ns=4_000_000) == 0.0
