"""ICMP echo packets: building requests and parsing replies (IPv4 and IPv6, raw and datagram sockets).

An echo request carries 56 bytes of payload like ping(8): an 8-byte send stamp (nanoseconds, used to
reject stale replies after the sequence space wraps), the 8-byte token of the pinger (to reject echoes
of other programs sharing the raw socket view) and 40 bytes of fixed padding.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

__all__ = [
    "ICMP4_ECHO_REPLY",
    "ICMP4_ECHO_REQUEST",
    "ICMP6_ECHO_REPLY",
    "ICMP6_ECHO_REQUEST",
    "PAYLOAD_SIZE",
    "EchoReply",
    "build_echo",
    "checksum",
    "parse_reply",
]

ICMP4_ECHO_REQUEST = 8
ICMP4_ECHO_REPLY = 0
ICMP6_ECHO_REQUEST = 128
ICMP6_ECHO_REPLY = 129

_ICMP_HEADER = struct.Struct("!BBHHH")  # type, code, checksum, identifier, sequence
_STAMP = struct.Struct("!Q8s")  # send stamp (ns), pinger token
_PADDING = bytes(range(0x10, 0x38))
PAYLOAD_SIZE = _STAMP.size + len(_PADDING)  # 56, like ping(8)
_IPV4_MIN_HEADER = 20
_IPPROTO_ICMP = 1


@dataclass(frozen=True, slots=True)
class EchoReply:
    """The fields of an echo reply that matching needs."""

    ident: int
    seq: int
    stamp_ns: int
    token: bytes
    ttl: int | None  # from the IPv4 header when the socket delivers it, else None


def checksum(data: bytes | memoryview) -> int:
    """The Internet checksum (RFC 1071) of ``data``, as a host integer to pack big-endian.

    The one's complement sum of the 16-bit words is congruent to the whole message, read as one big
    number, modulo 0xFFFF (as 0x10000 ≡ 1); it is 0 only for an all-zero message, else in 1..0xFFFF.
    """
    number = int.from_bytes(data, "big")
    if len(data) % 2:  # pad with a zero byte
        number <<= 8
    folded = number % 0xFFFF
    if folded == 0 and number:
        folded = 0xFFFF
    return ~folded & 0xFFFF


def build_echo(ipv6: bool, ident: int, seq: int, stamp_ns: int, token: bytes) -> bytes:
    """An echo request; the ICMPv4 checksum is computed here, the kernel computes the ICMPv6 one."""
    payload = _STAMP.pack(stamp_ns & 0xFFFF_FFFF_FFFF_FFFF, token) + _PADDING
    kind = ICMP6_ECHO_REQUEST if ipv6 else ICMP4_ECHO_REQUEST
    if ipv6:
        return _ICMP_HEADER.pack(kind, 0, 0, ident, seq) + payload
    unsummed = _ICMP_HEADER.pack(kind, 0, 0, ident, seq) + payload
    return _ICMP_HEADER.pack(kind, 0, checksum(unsummed), ident, seq) + payload


def parse_reply(data: bytes | memoryview, ipv6: bool, ip_header: bool) -> EchoReply | None:
    """The echo reply in ``data``, or None for anything else (requests, errors, truncated or garbage).

    ``ip_header`` is True for raw IPv4 sockets, which deliver the IPv4 header in front of the ICMP
    message; its TTL (byte 8) becomes the reply TTL.
    """
    view = memoryview(data)
    ttl: int | None = None
    if ip_header:
        ihl = _ipv4_header_length(view)
        if ihl is None:
            return None
        ttl = view[8]
        view = view[ihl : int.from_bytes(view[2:4], "big")]
    if len(view) < _ICMP_HEADER.size + _STAMP.size:
        return None
    kind, code, _, ident, seq = _ICMP_HEADER.unpack_from(view)
    if code != 0 or kind != (ICMP6_ECHO_REPLY if ipv6 else ICMP4_ECHO_REPLY):
        return None
    if not ipv6 and checksum(view) != 0:
        return None
    stamp_ns, token = _STAMP.unpack_from(view, _ICMP_HEADER.size)
    return EchoReply(ident=ident, seq=seq, stamp_ns=stamp_ns, token=token, ttl=ttl)


def _ipv4_header_length(view: memoryview) -> int | None:
    """The length of a plausible IPv4 header carrying ICMP at the start of ``view``, else None."""
    if len(view) < _IPV4_MIN_HEADER or view[0] >> 4 != 4 or view[9] != _IPPROTO_ICMP:
        return None
    ihl = (view[0] & 0x0F) * 4
    total = int.from_bytes(view[2:4], "big")
    if ihl < _IPV4_MIN_HEADER or not ihl <= total <= len(view):
        return None
    return ihl
