"""ICMP echo packets: building requests and parsing replies (IPv4 and IPv6, raw and datagram sockets).

An echo request carries 56 bytes of payload like ping(8): an 8-byte send stamp (nanoseconds, used to
reject stale replies after the sequence space wraps), the 8-byte token of the pinger (to reject echoes
of other programs sharing the raw socket view) and 40 bytes of fixed padding.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

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
_ECHO_HEAD = struct.Struct("!BBHHHQ8s")  # ICMP header, then send stamp (ns) and pinger token
_IPV4_HEAD = struct.Struct("!BxHxxxxBB")  # version/IHL, total length, TTL, protocol
_PADDING = bytes(range(0x10, 0x38))
PAYLOAD_SIZE = _ECHO_HEAD.size - _ICMP_HEADER.size + len(_PADDING)  # 56, like ping(8)
_PADDING_SUM = int.from_bytes(_PADDING, "big") % 0xFFFF
_IPV4_MIN_HEADER = 20
_IPPROTO_ICMP = 1


class EchoReply(NamedTuple):
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
    return _complement(number)


def _complement(number: int) -> int:
    """The checksum field for a message that reads as ``number`` (see :func:`checksum`)."""
    folded = number % 0xFFFF
    if folded == 0 and number:
        folded = 0xFFFF
    return ~folded & 0xFFFF


def build_echo(ipv6: bool, ident: int, seq: int, stamp_ns: int, token: bytes) -> bytes:
    """An echo request; the ICMPv4 checksum is computed here, the kernel computes the ICMPv6 one.

    The checksum adds the words of each field (a field's words sum like the field's value, modulo
    0xFFFF), with the padding precomputed: no pass over the packet.
    """
    stamp_ns &= 0xFFFF_FFFF_FFFF_FFFF
    if ipv6:
        return _ECHO_HEAD.pack(ICMP6_ECHO_REQUEST, 0, 0, ident, seq, stamp_ns, token) + _PADDING
    words = (ICMP4_ECHO_REQUEST << 8) + ident + seq + stamp_ns + int.from_bytes(token, "big") + _PADDING_SUM
    return _ECHO_HEAD.pack(ICMP4_ECHO_REQUEST, 0, _complement(words), ident, seq, stamp_ns, token) + _PADDING


def parse_reply(data: bytes | memoryview, ipv6: bool, ip_header: bool) -> EchoReply | None:
    """The echo reply in ``data``, or None for anything else (requests, errors, truncated or garbage).

    ``ip_header`` is True for raw IPv4 sockets, which deliver the IPv4 header in front of the ICMP
    message; its TTL (byte 8) becomes the reply TTL. The ICMP checksum is not verified: a reply only
    counts when identifier, sequence, source, the 8-byte send stamp and the 8-byte token all match.
    """
    offset = 0
    ttl: int | None = None
    if ip_header:
        if len(data) < _IPV4_MIN_HEADER:
            return None
        version_ihl, total, ttl, proto = _IPV4_HEAD.unpack_from(data)
        offset = (version_ihl & 0x0F) * 4
        if version_ihl >> 4 != 4 or proto != _IPPROTO_ICMP or offset < _IPV4_MIN_HEADER or total > len(data):
            return None
        data = data[:total]
    if len(data) - offset < _ECHO_HEAD.size:
        return None
    kind, code, _, ident, seq, stamp_ns, token = _ECHO_HEAD.unpack_from(data, offset)
    if code != 0 or kind != (ICMP6_ECHO_REPLY if ipv6 else ICMP4_ECHO_REPLY):
        return None
    return EchoReply(ident, seq, stamp_ns, token, ttl)
