"""Opening and configuring the ICMP sockets of the pinger, and reading their ancillary data (Linux).

Two kinds exist: ``raw`` (SOCK_RAW, needs CAP_NET_RAW) and ``dgram`` (the unprivileged "ping socket",
SOCK_DGRAM/IPPROTO_ICMP, allowed for the groups in ``net.ipv4.ping_group_range``).
Every socket is non-blocking, has a large receive buffer and asks for kernel receive timestamps
(SO_TIMESTAMPNS) and for the reply TTL / hop limit when the packet itself does not carry it.
"""

from __future__ import annotations

import contextlib
import socket
import struct

__all__ = [
    "ANCILLARY_SIZE",
    "RCVBUF_BYTES",
    "SNDBUF_BYTES",
    "family_name",
    "open_icmp_socket",
    "read_ancillary",
]

RCVBUF_BYTES = 4 * 1024 * 1024  # the kernel doubles it; without CAP_NET_ADMIN capped by rmem_max
SNDBUF_BYTES = 1024 * 1024

# Linux constants the socket module does not export everywhere.
SO_TIMESTAMPNS = 35  # SO_TIMESTAMPNS_OLD: struct timespec with the native long size
SCM_TIMESTAMPNS = SO_TIMESTAMPNS
SO_SNDBUFFORCE = 32
SO_RCVBUFFORCE = 33
IP_RECVTTL = 12
IP_TTL = 2
IPV6_RECVHOPLIMIT = 51
IPV6_HOPLIMIT = 52
SOL_RAW = 255
ICMP_FILTER = 1  # SOL_RAW option of raw IPv4 ICMP sockets: bit n set drops ICMP type n
ICMP6_FILTER = 1  # IPPROTO_ICMPV6 option of raw ICMPv6 sockets: 256-bit mask, bit set drops the type
ICMP4_ECHO_REPLY_TYPE = 0
ICMP6_ECHO_REPLY_TYPE = 129

_TIMESPEC = struct.Struct("@ll")
_INT = struct.Struct("@i")
ANCILLARY_SIZE = socket.CMSG_SPACE(_TIMESPEC.size) + 2 * socket.CMSG_SPACE(_INT.size)


def family_name(family: int) -> str:
    """``IPv4`` or ``IPv6``, for messages."""
    return "IPv6" if family == socket.AF_INET6 else "IPv4"


def open_icmp_socket(family: int, kind: str, source: str = "") -> socket.socket:
    """A configured ICMP socket of ``kind`` (``raw`` or ``dgram``) for ``family``, bound to ``source`` when that is
    an address of ``family`` (echoes leave from it).

    Raises PermissionError when the process may not open it, OSError for other failures
    (for example EAFNOSUPPORT when IPv6 is disabled).
    """
    proto = socket.IPPROTO_ICMPV6 if family == socket.AF_INET6 else socket.IPPROTO_ICMP
    sock_type = socket.SOCK_RAW if kind == "raw" else socket.SOCK_DGRAM
    sock = socket.socket(family, sock_type, proto)
    try:
        _configure(sock, family, kind, _of_family(source, family))
    except BaseException:
        sock.close()
        raise
    return sock


def _of_family(source: str, family: int) -> str:
    """``source`` when it is an address of ``family``, else empty."""
    return source if source and (":" in source) == (family == socket.AF_INET6) else ""


def _configure(sock: socket.socket, family: int, kind: str, source: str = "") -> None:
    sock.setblocking(False)
    _set_buffer(sock, socket.SO_RCVBUF, SO_RCVBUFFORCE, RCVBUF_BYTES)
    _set_buffer(sock, socket.SO_SNDBUF, SO_SNDBUFFORCE, SNDBUF_BYTES)
    with contextlib.suppress(OSError):  # without it RTTs fall back to user-space clocks
        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    if family == socket.AF_INET6:
        sock.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1)
    elif kind == "dgram":
        sock.setsockopt(socket.IPPROTO_IP, IP_RECVTTL, 1)
    if kind == "raw":
        _only_echo_replies(sock, family)
        if source:
            sock.bind((source, 0))
    else:
        # Binding to port 0 makes the kernel choose the echo identifier now (readable by getsockname).
        sock.bind((source or ("::" if family == socket.AF_INET6 else "0.0.0.0"), 0))


def _set_buffer(sock: socket.socket, option: int, force_option: int, size: int) -> None:
    """Set a socket buffer size, beyond the sysctl maximum when allowed (CAP_NET_ADMIN)."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, force_option, size)
    except OSError:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, option, size)


def _only_echo_replies(sock: socket.socket, family: int) -> None:
    """Let the kernel drop every ICMP type but echo reply (our own requests on lo included)."""
    with contextlib.suppress(OSError):  # the filter is an optimisation, replies are checked anyway
        if family == socket.AF_INET6:
            words = [0xFFFF_FFFF] * 8
            words[ICMP6_ECHO_REPLY_TYPE >> 5] &= ~(1 << (ICMP6_ECHO_REPLY_TYPE & 31)) & 0xFFFF_FFFF
            sock.setsockopt(socket.IPPROTO_ICMPV6, ICMP6_FILTER, struct.pack("@8I", *words))
        else:
            mask = ~(1 << ICMP4_ECHO_REPLY_TYPE) & 0xFFFF_FFFF
            sock.setsockopt(SOL_RAW, ICMP_FILTER, struct.pack("@I", mask))


def read_ancillary(ancdata: list[tuple[int, int, bytes]]) -> tuple[int | None, int | None]:
    """The kernel receive time (CLOCK_REALTIME ns) and the TTL / hop limit found in ``ancdata``."""
    received_ns: int | None = None
    ttl: int | None = None
    for level, kind, data in ancdata:
        if level == socket.SOL_SOCKET and kind == SCM_TIMESTAMPNS and len(data) >= _TIMESPEC.size:
            seconds, nanoseconds = _TIMESPEC.unpack_from(data)
            received_ns = seconds * 1_000_000_000 + nanoseconds
        elif _is_ttl(level, kind) and len(data) >= _INT.size:
            ttl = _INT.unpack_from(data)[0]
    return received_ns, ttl


def _is_ttl(level: int, kind: int) -> bool:
    return (level == socket.IPPROTO_IP and kind == IP_TTL) or (level == socket.IPPROTO_IPV6 and kind == IPV6_HOPLIMIT)
