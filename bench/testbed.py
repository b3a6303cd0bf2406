"""The benchmark's loopback test bed: destination classes, target addresses, nft rules, designed outcomes, floor.

Each class owns up to ``BLOCKS`` /16 blocks: 127.<class + 16 * b>.0.0/16 for b = 0..15, so the low four bits of
the second octet pick the behaviour (``octet & 15``). The i-th destination of a class is in block i // 65,024
(256 * 254 addresses each), at 127.<class + 16 * block>.<j // 254>.<j % 254 + 1> with j = i % 65,024; the fourth
octet picks its variant (status code, reset kind, ICMP delay and loss), so that every variant appears in the first
16 destinations of a class. Up to 160,000 destinations every class fits its first block (the addresses are those
of the one-block test bed before). Only 127.0.0.0/8 inside the benchmark's own network namespace is ever used.
"""

from __future__ import annotations

import heapq
import ipaddress
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

HTTP_PORT = 8080
LOOPBACK = ipaddress.ip_network("127.0.0.0/8")
BLOCK_SIZE = 256 * 254  # addresses of a class in one /16 (fourth octet 1..254)
BLOCKS = 16  # /16 blocks per class: second octets class, class + 16, ..., class + 240
CLASS_MASK = 0x0F  # the second octet's bits that name the class
MAX_TARGETS = 2_000_000  # the silent class (40 %) must fit in its 16 blocks: 16 * 65,024 = 1,040,384

# The benchmark profile (the c2watch settings and what the floor assumes).
ECHO_COUNT = 4
ECHO_INTERVAL_S = 0.25
ECHO_TIMEOUT_S = 1.0
HTTP_CONNECT_TIMEOUT_S = 3.0
HTTP_TOTAL_TIMEOUT_S = 5.0
SLOW_S = 1.5
NORMAL_TTL = 64
REWRITTEN_TTL = 47

# The user-space ICMP responder's class: delay by 4th octet % 4, loss pattern by (4th octet // 4) % 4.
RESPONDER_DELAYS_MS = (20, 50, 100, 200)
RESPONDER_DROPS: tuple[frozenset[int], ...] = (  # which echoes (1-based, per destination) go unanswered
    frozenset(),
    frozenset({2, 4}),
    frozenset({3}),
    frozenset({1, 2, 3}),
)

STATUS_CODES = ((301, "Moved Permanently"), (403, "Forbidden"), (404, "Not Found"), (500, "Internal Server Error"))
STATUS_CODES += ((503, "Service Unavailable"),)


@dataclass(frozen=True)
class Klass:
    name: str
    octet: int  # the second octet of its addresses
    percent: float
    what: str


CLASSES = (
    Klass("silent", 9, 40, "ICMP and TCP SYN dropped by nft"),
    Klass("http-200", 1, 10, "HTTP 200; echoes answered by the user-space responder (set delays and loss)"),
    Klass("http-other", 2, 10, "301/403/404/500/503 by 4th octet % 5"),
    Klass("slow", 3, 10, f"HTTP 200 after {SLOW_S} s"),
    Klass("reset", 5, 10, "even 4th octet: SYN answered by RST (refused); odd: RST after the request (reset)"),
    Klass("icmp-dropped", 6, 10, "ICMP dropped by nft, HTTP 200"),
    Klass("tarpit", 4, 5, "accepts, reads the request, never answers"),
    Klass("ttl", 7, 5, f"HTTP 200; nft rewrites the echo-reply TTL to {REWRITTEN_TTL}"),
)
BY_OCTET = {k.octet: k for k in CLASSES}
RESPONDER_OCTET = 1
assert all(0 < k.octet <= CLASS_MASK for k in CLASSES)  # 127.0.x.x (the services' 127.0.0.1) is no class


def class_of(address: str) -> Klass:
    return BY_OCTET[int(address.split(".")[1]) & CLASS_MASK]


def address(octet: int, index: int) -> str:
    """The ``index``-th (0-based) address of the class whose second octet is ``octet``."""
    block, j = divmod(index, BLOCK_SIZE)
    assert block < BLOCKS
    return f"127.{octet + 16 * block}.{j // 254}.{j % 254 + 1}"


def class_match(octet: int) -> str:
    """The nft expression for the class's blocks (every 127.x.0.0/16 with x & 15 == octet)."""
    return f"& 255.{CLASS_MASK}.0.0 == 127.{octet}.0.0"


def variant(address: str) -> int:
    return int(address.rsplit(".", 1)[1])


def make_targets(count: int, seed: int) -> list[str]:
    """``count`` addresses in the class mix, shuffled deterministically by ``seed``."""
    if not 1 <= count <= MAX_TARGETS:
        raise ValueError(f"--targets must be 1..{MAX_TARGETS}")
    sizes = {k.name: round(count * k.percent / 100) for k in CLASSES}
    sizes["silent"] += count - sum(sizes.values())  # rounding goes to the largest class
    out: list[str] = []
    for k in CLASSES:
        out += [address(k.octet, i) for i in range(sizes[k.name])]
    random.Random(seed).shuffle(out)
    assert all(ipaddress.ip_address(a) in LOOPBACK for a in out)
    return out


def nft_ruleset(table: str) -> str:
    """Drops, rejects and TTL rewrites per class; lives in the benchmark's namespace only."""
    return f"""table inet {table} {{
  chain input {{
    type filter hook input priority -10; policy accept;
    ip daddr {class_match(9)} drop
    ip daddr {class_match(6)} ip protocol icmp drop
    ip daddr {class_match(RESPONDER_OCTET)} icmp type echo-request drop
    ip daddr {class_match(5)} ip daddr & 0.0.0.1 == 0.0.0.0 tcp dport {HTTP_PORT} reject with tcp reset
  }}
  chain output {{
    type filter hook output priority -150; policy accept;
    ip saddr {class_match(7)} icmp type echo-reply ip ttl set {REWRITTEN_TTL}
  }}
}}
"""


# -- designed outcomes -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    received: int  # echo replies out of ECHO_COUNT
    ttl: int | None
    rtt_ms: float | None  # the set delay (responder class), else None (kernel answers: about 0)
    http_status: int | None
    http_reason: str | None
    http_error: str | None
    outcome: str  # the overall outcome with ICMP and HTTP probes
    icmp_outcome: str  # the overall outcome with the ICMP probe only


def expected(address: str) -> Expected:
    k, v = class_of(address), variant(address)
    received, ttl, rtt = ECHO_COUNT, NORMAL_TTL, None
    if k.name in ("silent", "icmp-dropped"):
        received, ttl = 0, None
    elif k.name == "http-200":
        received = ECHO_COUNT - len(RESPONDER_DROPS[(v // 4) % 4])
        rtt = float(RESPONDER_DELAYS_MS[v % 4])
    elif k.name == "ttl":
        ttl = REWRITTEN_TTL
    status: int | None = 200
    reason: str | None = "OK"
    error: str | None = None
    if k.name == "http-other":
        status, reason = STATUS_CODES[v % 5]
    elif k.name in ("silent", "tarpit"):
        status, reason, error = None, None, "timeout"
    elif k.name == "reset":
        status, reason, error = None, None, "refused" if v % 2 == 0 else "reset"
    icmp_outcome = "ping-only" if received else "silent"
    outcome = "responding" if status is not None else icmp_outcome
    return Expected(received, ttl, rtt, status, reason, error, outcome, icmp_outcome)


def reaches_server(address: str) -> bool:
    """True when a GET to ``address`` reaches the HTTP simulator (not dropped, not refused by nft)."""
    name = class_of(address).name
    return name != "silent" and not (name == "reset" and variant(address) % 2 == 0)


# -- the floor: the best possible wall time for a target order and a concurrency -----------------------------


def icmp_duration(address: str, paced: bool = True) -> float:
    """Seconds the ICMP part takes at best: echoes ``ECHO_INTERVAL_S`` apart (``paced``, c2watch and fping), or
    each sent after the previous one ended (one blackbox_exporter probe per echo, like its driver)."""
    k, v = class_of(address), variant(address)
    replies: list[float | None]  # per echo: the reply delay, None when lost
    if k.name in ("silent", "icmp-dropped"):
        replies = [None] * ECHO_COUNT
    elif k.name == "http-200":
        delay = RESPONDER_DELAYS_MS[v % 4] / 1000
        drops = RESPONDER_DROPS[(v // 4) % 4]
        replies = [None if n in drops else delay for n in range(1, ECHO_COUNT + 1)]
    else:
        replies = [0.0] * ECHO_COUNT
    waits = [ECHO_TIMEOUT_S if r is None else r for r in replies]
    if paced:
        return max(i * ECHO_INTERVAL_S + w for i, w in enumerate(waits))
    return sum(waits) + (ECHO_COUNT - 1) * ECHO_INTERVAL_S


def http_duration(address: str, connect_timeout: float = HTTP_CONNECT_TIMEOUT_S) -> float:
    name = class_of(address).name
    if name == "silent":
        return connect_timeout
    if name == "tarpit":
        return HTTP_TOTAL_TIMEOUT_S
    if name == "slow":
        return SLOW_S
    return 0.0


def durations(
    order: Iterable[str], icmp: str = "paced", http: bool = True, connect_timeout: float = 3.0
) -> list[float]:
    """Ideal per-destination durations: ``icmp`` is ``paced``, ``sequential`` or ``none``."""
    out = []
    for address in order:
        d_icmp = 0.0 if icmp == "none" else icmp_duration(address, paced=icmp == "paced")
        d_http = http_duration(address, connect_timeout) if http else 0.0
        out.append(max(d_icmp, d_http))
    return out


def floor(durations_s: Sequence[float], concurrency: int) -> float:
    """The makespan of ``concurrency`` workers taking destinations in order, each costing its ideal duration."""
    if not durations_s:
        return 0.0
    workers = [0.0] * min(concurrency, len(durations_s))
    end = 0.0
    for d in durations_s:
        t = heapq.heappop(workers) + d
        end = max(end, t)
        heapq.heappush(workers, t)
    return end
