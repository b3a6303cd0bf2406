"""One ICMP socket shared by every concurrent ping of one address family, and its echo scheduler.

A ping() submits an :class:`EchoJob` and awaits its one Future. The channel sends every echo itself from
a single event-loop timer (a heap of send times; per loop iteration at most as many sends as the receive
buffer has room for replies, so that the reader keeps up), keeps the outstanding echoes in a dict keyed
by a unique (identifier, sequence) and their deadlines in a second heap, and reads the socket from an
``add_reader`` callback that drains every queued datagram per wake-up. No task and no Future exist per
echo, so 10,000 concurrent pings stay cheap.

Replies are matched by (identifier, sequence), then checked against the destination address, the send
stamp echoed in the payload and the pinger token; everything else is ignored. RTTs come from the kernel
receive timestamp (SO_TIMESTAMPNS, CLOCK_REALTIME) minus ``time.time_ns()`` taken right before
``sendto``, so event-loop lag does not inflate them; without a timestamp the monotonic clock at
processing time is used instead.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import os
import random
import socket
import time

from c2watch.probes.pinger_jobs import EchoJob, EchoResult, PendingEcho, rtt_ms
from c2watch.probes.pinger_packet import build_echo, parse_reply
from c2watch.probes.pinger_socket import ANCILLARY_SIZE, read_ancillary

__all__ = ["EchoChannel"]

_RECV_BUFFER = 4096
_MAX_DRAIN = 65536  # datagrams per wake-up; the reader runs again on the next loop iteration anyway
_MAX_SEND_BATCH = 2048  # echoes sent per loop iteration at most, so that the reader keeps up ...
_MIN_SEND_BATCH = 16
_RCVBUF_PER_REPLY = 4096  # ... and their replies fit in half the receive buffer (truesize <= 2 KiB)
_DEADLINE_SLACK = 0.001  # s; asyncio may run a timer up to its clock resolution early
_SEND_STALLED = "send buffer full until the timeout"


class EchoChannel:
    """The shared ICMP socket of one family, the echoes outstanding on it and their schedule."""

    def __init__(self, sock: socket.socket, kind: str, token: bytes) -> None:
        self._sock = sock
        self._fd = sock.fileno()
        self._family = int(sock.family)
        self._ipv6 = self._family == socket.AF_INET6
        self._raw = kind == "raw"
        self._token = token
        self._loop = asyncio.get_running_loop()
        self._jobs: set[EchoJob] = set()
        self._pending: dict[tuple[int, int], PendingEcho] = {}
        self._sends: list[tuple[float, int, EchoJob]] = []  # heap of next-echo times, one entry per job
        self._deadlines: list[tuple[float, int, PendingEcho]] = []  # heap; settled echoes stay until due
        self._order = itertools.count()
        self._timer: asyncio.Handle | None = None
        self._timer_at = 0.0  # when it is due (uvloop returns a plain Handle, without when(), for a time passed)
        self._blocked = False  # the send buffer is full: wait for the socket to become writable
        rcvbuf = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
        self._batch = max(_MIN_SEND_BATCH, min(_MAX_SEND_BATCH, rcvbuf // _RCVBUF_PER_REPLY))
        self._buffer = bytearray(_RECV_BUFFER)
        self._view = memoryview(self._buffer)
        # Raw sockets keep our identifier: 32-bit key space (identifier, sequence). Datagram sockets
        # get the identifier rewritten to their port: 16-bit sequence space under that identifier.
        self._ident_base = random.randrange(0x10000) if self._raw else sock.getsockname()[1]
        self._space = 1 << 32 if self._raw else 1 << 16
        self._counter = random.randrange(self._space)
        self.closed = False
        self._loop.add_reader(self._fd, self._on_readable)

    @property
    def outstanding(self) -> int:
        """How many echoes wait for a reply."""
        return len(self._pending)

    def submit(self, address: str, packed: bytes, count: int, interval: float, timeout: float) -> EchoJob:
        """Schedule ``count`` echoes to ``address``; await ``job.future`` for their results."""
        job = EchoJob(address, packed, count, interval, timeout, self._loop.time(), self._loop.create_future())
        if self.closed:
            job.future.set_result(job.results())
            return job
        self._jobs.add(job)
        heapq.heappush(self._sends, (job.start, next(self._order), job))
        if self._timer is None or self._timer_at > job.start:
            self._rearm()
        return job

    def withdraw(self, job: EchoJob) -> None:
        """Forget ``job`` (its ping() was cancelled): its replies will be ignored, nothing more is sent."""
        if job in self._jobs:
            self._jobs.discard(job)
            for echo in job.echoes:
                self._forget(echo)

    def close(self) -> None:
        """Remove reader and timer, finish every job (outstanding echoes count as closed), close the socket."""
        if self.closed:
            return
        self.closed = True
        self._loop.remove_reader(self._fd)
        if self._blocked:
            self._loop.remove_writer(self._fd)
        if self._timer is not None:
            self._timer.cancel()
        jobs, self._jobs = self._jobs, set()
        self._pending, self._sends, self._deadlines = {}, [], []
        for job in jobs:
            _resolve(job)
        self._sock.close()

    # -- scheduling ---------------------------------------------------------------------------------

    def _rearm(self) -> None:
        """Keep one timer armed for the next send or deadline."""
        when = self._next_event()
        if self._timer is not None:
            if when is not None and self._timer_at <= when:
                return
            self._timer.cancel()
            self._timer = None
        if when is not None:
            self._timer, self._timer_at = self._loop.call_at(when, self._on_timer), when

    def _next_event(self) -> float | None:
        times = [self._deadlines[0][0]] if self._deadlines else []
        if self._sends:
            when, _, job = self._sends[0]
            times.append(when + job.timeout if self._blocked else when)
        return min(times, default=None)

    def _on_timer(self) -> None:
        if self._timer is not None:  # called early, by the writer callback
            self._timer.cancel()
            self._timer = None
        self._on_readable()  # replies already queued beat their deadlines
        now = self._loop.time()
        self._expire_due(now + _DEADLINE_SLACK)
        self._send_due(now)
        self._rearm()

    def _expire_due(self, now: float) -> None:
        while self._deadlines and self._deadlines[0][0] <= now:
            echo = heapq.heappop(self._deadlines)[2]
            if echo.result is None and echo.job in self._jobs:
                self._settle(echo, EchoResult(None))

    def _send_due(self, now: float) -> None:
        """Send the echoes now due (late ones too: a busy loop delays echoes, it must not lose them)."""
        budget = self._batch
        while budget and self._sends and self._sends[0][0] <= now:
            when, _, job = self._sends[0]
            if job in self._jobs:
                if not self._blocked:
                    if not self._send_next(job):
                        return  # the socket is not writable: the entry stays on top
                    budget -= 1
                elif now > when + job.timeout:  # stuck behind a full send buffer for a whole timeout
                    self._record_failure(job, _SEND_STALLED)
                else:
                    return
            if job in self._jobs and len(job.echoes) < job.count:
                heapq.heapreplace(self._sends, (job.due(), next(self._order), job))
            else:
                heapq.heappop(self._sends)

    def _on_writable(self) -> None:
        self._loop.remove_writer(self._fd)
        self._blocked = False
        self._on_timer()

    # -- sending ------------------------------------------------------------------------------------

    def _send_next(self, job: EchoJob) -> bool:
        """Send the next echo of ``job``; False (and wait for writability) when the send buffer is full."""
        key = self._allocate()
        if key is None:
            self._record_failure(job, "too many outstanding echoes")
            return True
        stamp = time.time_ns()
        packet = build_echo(self._ipv6, key[0], key[1], stamp, self._token)
        echo = PendingEcho(job, key, stamp)
        echo.sent_mono_ns = time.monotonic_ns()
        echo.sent_real_ns = time.time_ns()
        try:
            self._sock.sendto(packet, (job.address, 0))
        except BlockingIOError:
            self._blocked = True
            self._loop.add_writer(self._fd, self._on_writable)
            return False
        except OSError as exc:
            self._record_failure(job, f"send failed: {os.strerror(exc.errno) if exc.errno else exc}")
            return True
        self._pending[key] = echo
        job.echoes.append(echo)
        job.unsettled += 1
        heapq.heappush(self._deadlines, (self._loop.time() + job.timeout, next(self._order), echo))
        return True

    def _record_failure(self, job: EchoJob, error: str) -> None:
        """An echo of ``job`` that could not be sent: lost, with the reason."""
        job.echoes.append(PendingEcho(job, (-1, -1), 0, result=EchoResult(None, error=error)))
        if job.complete:
            self._finish(job)

    def _allocate(self) -> tuple[int, int] | None:
        if len(self._pending) >= self._space:
            return None
        while True:
            number = self._counter
            self._counter = (number + 1) % self._space
            key = ((self._ident_base + (number >> 16)) & 0xFFFF, number & 0xFFFF)
            if key not in self._pending:
                return key

    # -- receiving ----------------------------------------------------------------------------------

    def _on_readable(self) -> None:
        """Drain the socket: match every queued datagram against the outstanding echoes."""
        for _ in range(_MAX_DRAIN):
            try:
                size, ancdata, _flags, source = self._sock.recvmsg_into([self._buffer], ANCILLARY_SIZE)
            except OSError:  # EAGAIN: drained; anything else: a queued socket error, nothing to read now
                return
            self._handle(self._view[:size], ancdata, source[0], time.monotonic_ns())

    def _handle(self, data: memoryview, ancdata: list[tuple[int, int, bytes]], source: str, now_mono_ns: int) -> None:
        reply = parse_reply(data, self._ipv6, ip_header=self._raw and not self._ipv6)
        if reply is None or reply.token != self._token:
            return
        echo = self._pending.get((reply.ident, reply.seq))
        if echo is None or echo.stamp_ns != reply.stamp_ns or not self._same_source(echo, source):
            return
        received_ns, ancillary_ttl = read_ancillary(ancdata)
        ttl = reply.ttl if reply.ttl is not None else ancillary_ttl
        self._settle(echo, EchoResult(rtt_ms(echo, received_ns, now_mono_ns), ttl))

    def _same_source(self, echo: PendingEcho, source: str) -> bool:
        try:
            return socket.inet_pton(self._family, source) == echo.job.packed
        except OSError:
            return False

    # -- results ------------------------------------------------------------------------------------

    def _settle(self, echo: PendingEcho, result: EchoResult) -> None:
        self._forget(echo)
        echo.result = result
        echo.job.unsettled -= 1
        if echo.job.complete:
            self._finish(echo.job)

    def _forget(self, echo: PendingEcho) -> None:
        if self._pending.get(echo.key) is echo:
            del self._pending[echo.key]

    def _finish(self, job: EchoJob) -> None:
        self._jobs.discard(job)
        _resolve(job)


def _resolve(job: EchoJob) -> None:
    if not job.future.done():
        job.future.set_result(job.results())
    job.echoes.clear()  # each echo points back to its job: no reference cycle is left to the garbage collector
