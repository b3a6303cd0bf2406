"""A lab scenario as data: loopback destinations, each with a timeline of behaviours."""

from __future__ import annotations

import bisect
import ipaddress
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TypeVar

from c2watch.errors import InputError
from c2watch.lab.behaviours import Behaviour, BehaviourError, parse_behaviour, rate_answers
from c2watch.lab.names import NameAnswer, NameAnswerError, check_domain, parse_answer

__all__ = [
    "DEFAULT_SLOT_SECONDS",
    "Destination",
    "PingMode",
    "Scenario",
    "ScenarioError",
    "Step",
    "parse_ping",
    "parse_sources",
]

#: One cycle of c2watch: the length of a ``rate`` time slot unless the scenario says otherwise.
DEFAULT_SLOT_SECONDS = 4 * 3600

Step = tuple[datetime | None, str]
T = TypeVar("T")

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")
_PATH = re.compile(r"/[!-~]*")
_EPOCH0 = datetime.min.replace(tzinfo=UTC)
#: Behaviours under which a destination gives no HTTP answer (a ``follow`` ping drops then).
_NO_ANSWER = frozenset({"closed", "silent", "tarpit", "reset", "tls-stall"})


class ScenarioError(InputError):
    """A scenario with a bad field; ``field`` names it (``destination[2].port``)."""

    def __init__(self, field: str, message: str, source: str | None = None) -> None:
        self.field = field
        self.message = message
        self.source = source
        super().__init__(f"{source + ': ' if source else ''}{field}: {message}")

    def within(self, prefix: str, source: str | None = None) -> ScenarioError:
        """The same error with ``prefix`` put before the field name."""
        inner = f"{prefix}.{self.field}" if self.field else prefix
        return ScenarioError(inner, self.message, source or self.source)


@dataclass(frozen=True)
class PingMode:
    """How ICMP echo to a destination behaves: ``loss`` percent of the requests are dropped; ``follow``: answered
    exactly while the HTTP side answers (a whole host going down and up); ``ttl``: replies leave with this TTL."""

    loss: int = 0
    follow: bool = False
    ttl: int | None = None

    @property
    def text(self) -> str:
        if self.follow:
            return "follow"
        if self.ttl is not None:
            return f"ttl:{self.ttl}"
        return {0: "reply", 100: "drop"}.get(self.loss, f"loss:{self.loss}")


_PING_SYNTAX = "reply, drop, loss:N (N a whole percent 0-100), follow or ttl:N (N 1-255)"


def parse_ping(text: str) -> PingMode:
    """Parse ``reply``, ``drop``, ``loss:N`` (N whole percent, 0-100), ``follow`` or ``ttl:N`` (N 1-255)."""
    fixed = {"reply": PingMode(0), "drop": PingMode(100), "follow": PingMode(follow=True)}
    if text in fixed:
        return fixed[text]
    kind, _, value = text.partition(":")
    if kind == "loss" and value.isdigit() and 0 <= int(value) <= 100:
        return PingMode(int(value))
    if kind == "ttl" and value.isdigit() and 1 <= int(value) <= 255:
        return PingMode(ttl=int(value))
    raise ScenarioError("ping", f"must be {_PING_SYNTAX}, got {text!r}")


def parse_sources(text: str) -> frozenset[str]:
    """Parse a comma-separated list of IP addresses (observers' source addresses); empty: none."""
    sources = set()
    for part in filter(None, (item.strip() for item in text.split(","))):
        try:
            sources.add(str(ipaddress.ip_address(part)))
        except ValueError:
            raise ScenarioError("sources", f"must be IP addresses separated by commas, got {part!r}") from None
    return frozenset(sources)


def _steps(steps: Iterable[Step], array: str, parse: Callable[[str], object]) -> tuple[Step, ...]:
    """Checked (start, text) steps of ``array``: increasing starts, each text parsed by ``parse``."""
    checked: list[Step] = []
    for index, (start, text) in enumerate(steps):
        try:
            when = _check_start(index, start)
        except ScenarioError as exc:
            raise ScenarioError(f"{array}[{index}].start", exc.message) from None
        if checked and when is not None and (prev := checked[-1][0]) is not None and when <= prev:
            raise ScenarioError(f"{array}[{index}].start", "steps must be in strictly increasing start order")
        try:
            parse(text)
        except ScenarioError as exc:
            raise ScenarioError(f"{array}[{index}].{exc.field}", exc.message) from None
        checked.append((when, text))
    return tuple(checked)


def _active(steps: Sequence[Step], at: datetime) -> str | None:
    """The text of the last step whose start is <= ``at`` (None before the first)."""
    found = None
    for start, text in steps:
        if start is not None and start > at:
            break
        found = text
    return found


def _check_start(index: int, start: object, array: str = "timeline") -> datetime | None:
    if start is None:
        if index:
            raise ScenarioError(f"{array}[{index}].start", "only the first step may have no start")
        return None
    if not isinstance(start, datetime) or start.tzinfo is None or start.utcoffset() is None:
        raise ScenarioError(f"{array}[{index}].start", f"must be a date-time with a UTC offset, got {start!r}")
    return start.astimezone(UTC)


def _check_steps(
    steps: Iterable[Step], parse: Callable[[str], T], array: str, key: str, error: type[Exception]
) -> tuple[tuple[Step, ...], tuple[T, ...]]:
    """Steps in strictly increasing start order, each value parsed; errors name ``array[i].start`` or ``.key``."""
    checked: list[Step] = []
    parsed: list[T] = []
    for index, (start, text) in enumerate(steps):
        when = _check_start(index, start, array)
        if checked and when is not None and (prev := checked[-1][0]) is not None and when <= prev:
            raise ScenarioError(f"{array}[{index}].start", "steps must be in strictly increasing start order")
        try:
            parsed.append(parse(text))
        except error as exc:
            raise ScenarioError(f"{array}[{index}].{key}", str(exc)) from None
        checked.append((when, text))
    if not checked:
        raise ScenarioError(array, "needs at least one step")
    return tuple(checked), tuple(parsed)


def _check_timeline(steps: Iterable[Step]) -> tuple[tuple[Step, ...], tuple[Behaviour, ...]]:
    return _check_steps(steps, parse_behaviour, "timeline", "behaviour", BehaviourError)


def _check_address(address: str) -> str:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        raise ScenarioError("address", f"must be an IP address, got {address!r}") from None
    if not ip.is_loopback:
        raise ScenarioError("address", f"must be a loopback address (127.0.0.0/8 or ::1), got {address}")
    return str(ip)


@dataclass(frozen=True)
class Destination:
    """One simulated C2 destination, bound on its own loopback address and port.

    ``port`` 0 means: any free port, chosen when the lab starts. The behaviour before the first
    step's start is ``closed``.
    """

    name: str
    threat_id: str
    address: str
    port: int
    timeline: Sequence[Step]
    scheme: str = "http"
    path: str = "/"
    ping: str = "reply"
    reported_on: date | None = None
    summary: str | None = None
    domain: str | None = None
    dns: Sequence[Step] = ()
    pings: Sequence[Step] = ()
    blocked: Sequence[Step] = ()
    _behaviours: tuple[Behaviour, ...] = field(default=(), init=False, repr=False, compare=False)
    _answers: tuple[NameAnswer, ...] = field(default=(), init=False, repr=False, compare=False)
    _answer_starts: tuple[datetime, ...] = field(default=(), init=False, repr=False, compare=False)
    _starts: tuple[datetime, ...] = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.fullmatch(self.name):
            raise ScenarioError("name", f"must be 1-63 letters, digits, '.', '_' or '-', got {self.name!r}")
        if not isinstance(self.threat_id, str) or not self.threat_id.strip():
            raise ScenarioError("threat_id", f"must be a non-empty string, got {self.threat_id!r}")
        object.__setattr__(self, "address", _check_address(str(self.address)))
        if isinstance(self.port, bool) or not isinstance(self.port, int) or not 0 <= self.port <= 65535:
            raise ScenarioError("port", f"must be an integer 0-65535, got {self.port!r}")
        if self.scheme not in ("http", "https"):
            raise ScenarioError("scheme", f"must be http or https, got {self.scheme!r}")
        if not isinstance(self.path, str) or not _PATH.fullmatch(self.path):
            raise ScenarioError("path", f"must start with '/' and hold no spaces, got {self.path!r}")
        parse_ping(self.ping)
        object.__setattr__(self, "pings", _steps(self.pings, "pings", parse_ping))
        object.__setattr__(self, "blocked", _steps(self.blocked, "blocked", parse_sources))
        steps, behaviours = _check_timeline(self.timeline)
        object.__setattr__(self, "timeline", steps)
        object.__setattr__(self, "_behaviours", behaviours)
        object.__setattr__(self, "_starts", tuple(_EPOCH0 if s is None else s for s, _ in steps))
        self._check_names()

    def _check_names(self) -> None:
        if self.domain is None:
            if self.dns:
                raise ScenarioError("dns", "needs a domain")
            return
        try:
            object.__setattr__(self, "domain", check_domain(str(self.domain)))
        except NameAnswerError as exc:
            raise ScenarioError("domain", str(exc)) from None
        steps, answers = _check_steps(self.dns or [(None, "a")], parse_answer, "dns", "answer", NameAnswerError)
        object.__setattr__(self, "dns", tuple(steps))
        object.__setattr__(self, "_answers", tuple(answers))
        object.__setattr__(self, "_answer_starts", tuple(_EPOCH0 if s is None else s for s, _ in steps))

    def answer_at(self, at: datetime) -> NameAnswer | None:
        """What the lab's DNS answers for the domain at ``at`` (None: no domain; ``a`` before the first step)."""
        if self.domain is None:
            return None
        index = bisect.bisect_right(self._answer_starts, at.astimezone(UTC)) - 1
        return self._answers[index] if index >= 0 else NameAnswer("a")

    @property
    def ping_mode(self) -> PingMode:
        return parse_ping(self.ping)

    def ping_at(self, at: datetime) -> PingMode:
        """The ping mode at ``at``: the last ``pings`` step started by then, else ``ping``."""
        return parse_ping(_active(self.pings, at.astimezone(UTC)) or self.ping)

    def blocked_at(self, at: datetime) -> frozenset[str]:
        """The source addresses whose connections and echo requests the destination drops at ``at``."""
        return parse_sources(_active(self.blocked, at.astimezone(UTC)) or "")

    def behaviour_at(self, at: datetime) -> Behaviour:
        """The parsed behaviour active at ``at``: the last step whose start is <= ``at``."""
        index = bisect.bisect_right(self._starts, at.astimezone(UTC)) - 1
        return self._behaviours[index] if index >= 0 else parse_behaviour("closed")

    def url(self, port: int | None = None) -> str:
        """``scheme://host:port/path`` (the domain, else the address; IPv6 in brackets); ``port`` overrides a
        scenario port 0."""
        host = self.domain or (f"[{self.address}]" if ":" in self.address else self.address)
        return f"{self.scheme}://{host}:{self.port if port is None else port}{self.path}"

    def uses(self, kind: str) -> bool:
        """Whether any step of the timeline (or a rate inside one) has behaviour ``kind``."""
        return any(kind in (b.kind, b.inner.kind if b.inner else None) for b in self._behaviours)


@dataclass(frozen=True)
class Scenario:
    """Destinations plus the ``seed`` and ``slot_seconds`` of the deterministic ``rate`` draws."""

    destinations: Sequence[Destination]
    seed: int = 0
    slot_seconds: int = DEFAULT_SLOT_SECONDS
    _by_name: dict[str, Destination] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "destinations", tuple(self.destinations))
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ScenarioError("seed", f"must be an integer, got {self.seed!r}")
        if isinstance(self.slot_seconds, bool) or not isinstance(self.slot_seconds, int):
            raise ScenarioError("slot_seconds", f"must be a positive integer, got {self.slot_seconds!r}")
        if self.slot_seconds <= 0:
            raise ScenarioError("slot_seconds", f"must be a positive integer, got {self.slot_seconds!r}")
        self._check_unique()
        object.__setattr__(self, "_by_name", {dest.name: dest for dest in self.destinations})

    def _check_unique(self) -> None:
        names: set[str] = set()
        sockets: set[tuple[str, int]] = set()
        for index, dest in enumerate(self.destinations):
            if dest.name in names:
                raise ScenarioError(f"destination[{index}].name", f"duplicate name {dest.name!r}")
            names.add(dest.name)
            if dest.port and (dest.address, dest.port) in sockets:
                raise ScenarioError(f"destination[{index}].port", f"{dest.address}:{dest.port} is used twice")
            sockets.add((dest.address, dest.port))

    def __iter__(self) -> Iterator[Destination]:
        return iter(self.destinations)

    def __len__(self) -> int:
        return len(self.destinations)

    def resolve(self, destination: Destination | str, at: datetime) -> Behaviour:
        """What ``destination`` does for a request at ``at``: its behaviour then, with a ``rate``
        step decided by the deterministic draw of that time slot (``silent`` when it misses)."""
        dest = self.get(destination) if isinstance(destination, str) else destination
        behaviour = dest.behaviour_at(at)
        if behaviour.inner is None:
            return behaviour
        hit = rate_answers(dest.name, at, behaviour.probability, seed=self.seed, slot_seconds=self.slot_seconds)
        return behaviour.inner if hit else parse_behaviour("silent")

    def ping_at(self, destination: Destination, at: datetime) -> PingMode:
        """How ``destination`` treats echo requests at ``at``, a ``follow`` mode decided by its HTTP side then
        (replies while it answers, drops while it is closed or silent)."""
        mode = destination.ping_at(at)
        if not mode.follow:
            return mode
        return PingMode(100 if self.resolve(destination, at).kind in _NO_ANSWER else 0)

    def get(self, name: str) -> Destination:
        """The destination called ``name``; ``KeyError`` if none."""
        return self._by_name[name]
