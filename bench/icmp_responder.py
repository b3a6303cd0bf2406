"""User-space ICMP echo responder for the class 127.<RESPONDER_OCTET>.0.0/16 (``tc netem`` is not in this kernel).

nft drops those echo requests in INPUT so the kernel stays silent; this program sees them first on an AF_PACKET
socket bound to ``lo`` (a classic BPF filter passes only echo requests to the class; outgoing copies are ignored)
and answers each after the set delay of its destination (4th octet % 4), counted from the kernel's receive stamp
of the request, so its own processing time does not add to the RTT. Per destination it leaves the echoes of the
set loss pattern unanswered ((4th octet // 4) % 4), counting echoes from 1: one fresh responder per measured run.
Replies are written with IP_HDRINCL from the destination address back to the requester (loopback only).

Stops on SIGTERM, when its parent dies, or after --max-seconds; then writes its counters and the lateness of its
replies (send time minus due time) as JSON to --stats.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import os
import select
import signal
import socket
import struct
import time
from collections import deque
from pathlib import Path

from testbed import CLASS_MASK, NORMAL_TTL, RESPONDER_DELAYS_MS, RESPONDER_DROPS, RESPONDER_OCTET

ETH_P_IP = 0x0800
SOL_PACKET = 263
PACKET_IGNORE_OUTGOING = 23
SO_ATTACH_FILTER = 26
SO_TIMESTAMPNS = 35
SO_RCVBUFFORCE = 33
SO_SNDBUFFORCE = 32
_TIMESPEC = struct.Struct("@ll")
_IP_HEADER = struct.Struct("!BBHHHBBH4s4s")
_PRECISE_NS = 2_000_000


def bpf_program(octet: int) -> list[tuple[int, int, int, int]]:
    """Accept IPv4 ICMP echo requests to the class's blocks, 127.<octet + 16 * b>.0.0/16 (offsets from the IP
    header: SOCK_DGRAM)."""
    return [
        (0x30, 0, 0, 9),  # ldb [9]: protocol
        (0x15, 0, 6, 1),  # jeq ICMP
        (0x20, 0, 0, 16),  # ld [16]: destination
        (0x54, 0, 0, 0xFF000000 | CLASS_MASK << 16),  # and 255.15.0.0: the class's bits
        (0x15, 0, 4, 0x7F000000 | octet << 16),  # jeq 127.<octet>
        (0xB1, 0, 0, 0),  # ldxb 4*([0]&0xf): header length
        (0x50, 0, 0, 0),  # ldb [x+0]: ICMP type
        (0x15, 0, 1, 8),  # jeq echo request
        (0x06, 0, 0, 0xFFFF),  # accept
        (0x06, 0, 0, 0),  # drop
    ]


def open_receiver(octet: int) -> tuple[socket.socket, ctypes.Array[ctypes.c_char]]:
    rx = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_IP))
    program = bpf_program(octet)
    code = ctypes.create_string_buffer(b"".join(struct.pack("HBBI", *insn) for insn in program))
    rx.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, struct.pack("HL", len(program), ctypes.addressof(code)))
    rx.setsockopt(SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)
    rx.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 64 << 20)
    rx.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    rx.bind(("lo", ETH_P_IP))
    rx.setblocking(False)
    return rx, code  # keep the filter's buffer alive


def ones_add(a: int, b: int) -> int:
    s = a + b
    return (s & 0xFFFF) + (s >> 16)


class Responder:
    def __init__(self, octet: int, ttl: int) -> None:
        self.rx, self._filter = open_receiver(octet)
        self.tx = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)  # implies IP_HDRINCL
        self.tx.setsockopt(socket.SOL_SOCKET, SO_SNDBUFFORCE, 16 << 20)
        self.octet = octet
        self.ttl = ttl
        self.queues: list[deque[tuple[int, bytes, str]]] = [deque() for _ in RESPONDER_DELAYS_MS]
        self.delays_ns = [ms * 1_000_000 for ms in RESPONDER_DELAYS_MS]
        self.seen: dict[bytes, int] = {}
        self.counts = {"requests": 0, "dropped": 0, "replies": 0, "send_errors": 0, "no_stamp": 0}
        self.lateness_ns: list[int] = []
        self.buffer = bytearray(2048)

    def receive(self) -> None:
        view = memoryview(self.buffer)
        while True:
            try:
                size, ancdata, _flags, _addr = self.rx.recvmsg_into([self.buffer], 64)
            except BlockingIOError:
                return
            stamp = next((_stamp(d) for lvl, kind, d in ancdata if lvl == socket.SOL_SOCKET and kind == 35), None)
            if stamp is None:
                stamp = time.time_ns()
                self.counts["no_stamp"] += 1
            self.handle(bytes(view[:size]), stamp)

    def handle(self, packet: bytes, stamp: int) -> None:
        ihl = (packet[0] & 0x0F) * 4
        if len(packet) < ihl + 8 or packet[ihl] != 8 or packet[17] & CLASS_MASK != self.octet:
            return
        self.counts["requests"] += 1
        src, dst = packet[12:16], packet[16:20]
        number = self.seen.get(dst, 0) + 1
        self.seen[dst] = number
        v = dst[3]
        if number in RESPONDER_DROPS[(v // 4) % 4]:
            self.counts["dropped"] += 1
            return
        icmp = bytearray(packet[ihl:])
        icmp[0] = 0  # echo reply: the checksum grows by 0x0800 (RFC 1624)
        check = (icmp[2] << 8) | icmp[3]
        check = ones_add(check, 0x0800)
        icmp[2:4] = struct.pack("!H", check)
        header = _IP_HEADER.pack(0x45, 0, 20 + len(icmp), 0, 0x4000, self.ttl, 1, 0, dst, src)  # kernel: checksum
        slot = v % 4
        self.queues[slot].append((stamp + self.delays_ns[slot], header + bytes(icmp), socket.inet_ntoa(src)))

    def send_due(self) -> int | None:
        """Send what is due; nanoseconds until the next reply (None when nothing waits)."""
        now = time.time_ns()
        nearest: int | None = None
        for queue in self.queues:
            while queue and queue[0][0] <= now:
                due, packet, to = queue.popleft()
                try:
                    self.tx.sendto(packet, (to, 0))
                except OSError:
                    self.counts["send_errors"] += 1
                    continue
                self.counts["replies"] += 1
                self.lateness_ns.append(time.time_ns() - due)
                now = time.time_ns()
            if queue and (nearest is None or queue[0][0] - now < nearest):
                nearest = queue[0][0] - now
        return nearest

    def run(self, max_seconds: float, stop: list[bool]) -> None:
        poller = select.poll()
        poller.register(self.rx.fileno(), select.POLLIN)
        end = time.monotonic() + max_seconds
        while not stop[0] and time.monotonic() < end:
            wait_ns = self.send_due()
            if wait_ns is not None and wait_ns < _PRECISE_NS:
                # poll() counts whole milliseconds (rounding up): sleep the rest on a high-resolution timer.
                # Requests read a little later lose nothing: their due time comes from the kernel's stamp.
                self.receive()
                time.sleep(max(wait_ns, 0) / 1e9)
                continue
            timeout_ms = 100 if wait_ns is None else (wait_ns - _PRECISE_NS) // 1_000_000 + 1
            if poller.poll(timeout_ms):
                self.receive()

    def report(self) -> dict[str, object]:
        late = sorted(self.lateness_ns)

        def pct(q: float) -> float | None:
            return round(late[min(len(late) - 1, int(len(late) * q))] / 1e6, 3) if late else None

        return {**self.counts, "late_ms_p50": pct(0.5), "late_ms_p99": pct(0.99), "late_ms_max": pct(1.0)}


def _stamp(data: bytes) -> int:
    seconds, nanoseconds = _TIMESPEC.unpack_from(data)
    return int(seconds * 1_000_000_000 + nanoseconds)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stats", required=True)
    parser.add_argument("--max-seconds", type=float, default=900)
    args = parser.parse_args()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    stop = [False]

    def on_signal(_sig: int, _frame: object) -> None:
        stop[0] = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with contextlib.suppress(OSError):  # answer at once, even while the HTTP simulator busies the same CPU
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(10))
    responder = Responder(RESPONDER_OCTET, NORMAL_TTL)
    print("ready", flush=True)
    responder.run(args.max_seconds, stop)
    Path(args.stats).write_text(json.dumps(responder.report()), encoding="utf-8")


if __name__ == "__main__":
    main()
