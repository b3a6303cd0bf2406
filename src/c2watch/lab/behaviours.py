"""Behaviour names of lab destinations: the catalogue, the parser and the deterministic rate draw.

A behaviour is written as a short string (``status:404``, ``slow:1.5``, ``rate:0.4:status:200``)
and parsed once into a :class:`Behaviour`.
"""

from __future__ import annotations

import hashlib
import http
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from types import MappingProxyType

from c2watch.errors import InputError
from c2watch.lab.personas import PERSONAS

__all__ = [
    "BEHAVIOURS",
    "BEHAVIOUR_SYNTAX",
    "HOSTILE_FIELDS",
    "HOSTILE_SHAPES",
    "Behaviour",
    "BehaviourError",
    "parse_behaviour",
    "rate_answers",
]

MAX_SLOW_SECONDS = 86_400.0

_CATALOGUE: dict[str, tuple[str, str]] = {
    "status": ("status:CODE[:REASON]", "answer CODE (100-999) with REASON or the standard phrase"),
    "closed": ("closed", "port not listening: connection refused"),
    "tarpit": ("tarpit", "accept and read the request, never answer"),
    "silent": ("silent", "read the request, then close without any answer (empty reply)"),
    "slow": ("slow:SECONDS", "answer 200 after SECONDS seconds"),
    "reset": ("reset", "accept, then close at once with a TCP RST (SO_LINGER 0)"),
    "endless-body": ("endless-body", "answer 200, then stream a body that never ends"),
    "gzip-bomb": ("gzip-bomb", "answer 200, Content-Encoding gzip: ~1 MB that inflates to 1 GiB of zeros"),
    "many-headers": ("many-headers", "answer 200 with 10,000 header lines"),
    "huge-header": ("huge-header", "answer 200 with one header of 1 MiB"),
    "drip": ("drip[:SECONDS]", "send the status line one byte per SECONDS (default 1), then the rest"),
    "garbage": ("garbage", "read the request, answer non-HTTP bytes, close"),
    "tls-stall": ("tls-stall", "accept TCP and never answer (not even a TLS ServerHello)"),
    "redirect-private": ("redirect-private", "answer 302 with Location: http://10.0.0.1/ (never contacted)"),
    "non-ascii-reason": ("non-ascii-reason", "answer 200 with a UTF-8, non-ASCII reason phrase"),
    "invalid-utf8": ("invalid-utf8", "answer 200 with a reason phrase and a Server header that are not UTF-8"),
    "field": (
        "field:FIELD:SHAPE",
        "answer with one hostile FIELD (reason, server, content-type, location) of SHAPE (long, control, "
        "invalid-utf8, mixed)",
    ),
    "raw": ("raw:HEX", "read the request, answer exactly these bytes (hexadecimal), close"),
    "as": (
        "as:PERSONA",
        "answer as PERSONA (cobalt-strike, metasploit, nginx-default, parking, sinkhole): its certificate and page",
    ),
    "rate": ("rate:P:BEHAVIOUR", "per time slot: BEHAVIOUR with probability P, else silent (deterministic)"),
}

#: Behaviour kind -> one-line description.
BEHAVIOURS: Mapping[str, str] = MappingProxyType({k: v[1] for k, v in _CATALOGUE.items()})
#: Behaviour kind -> how it is written.
BEHAVIOUR_SYNTAX: Mapping[str, str] = MappingProxyType({k: v[0] for k, v in _CATALOGUE.items()})


class BehaviourError(InputError):
    """A behaviour string that cannot be parsed."""


@dataclass(frozen=True)
class Behaviour:
    """A parsed behaviour. ``text`` is the string it was parsed from."""

    kind: str
    text: str
    code: int = 200
    reason: str | None = None
    seconds: float = 0.0
    probability: float = 1.0
    inner: Behaviour | None = None
    args: tuple[str, ...] = ()

    @property
    def reason_phrase(self) -> str:
        """The reason phrase sent with ``code``: the given one, else the standard one."""
        if self.reason is not None:
            return self.reason
        try:
            return http.HTTPStatus(self.code).phrase
        except ValueError:
            return "Unknown"


def _number(text: str, what: str, low: float, high: float) -> float:
    try:
        value = float(text)
    except ValueError:
        raise BehaviourError(f"{what} must be a number, got {text!r}") from None
    if not low <= value <= high:
        raise BehaviourError(f"{what} must be between {low:g} and {high:g}, got {text!r}")
    return value


def _parse_status(text: str, args: list[str]) -> Behaviour:
    if not args or not args[0].isdigit() or len(args[0]) != 3 or args[0][0] == "0":
        raise BehaviourError(f"{text!r}: status needs a three-digit code 100-999, e.g. status:404")
    reason = ":".join(args[1:]) if len(args) > 1 else None
    if reason is not None and not all(" " <= ch <= "~" for ch in reason):
        raise BehaviourError(f"{text!r}: the reason must be printable ASCII (see non-ascii-reason)")
    return Behaviour("status", text, code=int(args[0]), reason=reason)


def _parse_seconds(text: str, args: list[str], kind: str, default: float | None) -> Behaviour:
    if not args and default is not None:
        return Behaviour(kind, text, seconds=default)
    if len(args) != 1:
        raise BehaviourError(f"{text!r}: write {BEHAVIOUR_SYNTAX[kind]}")
    return Behaviour(kind, text, seconds=_number(args[0], f"{text!r}: seconds", 0.0, MAX_SLOW_SECONDS))


def _parse_rate(text: str, args: list[str]) -> Behaviour:
    if len(args) < 2:
        raise BehaviourError(f"{text!r}: write rate:P:BEHAVIOUR, e.g. rate:0.4:status:200")
    probability = _number(args[0], f"{text!r}: probability", 0.0, 1.0)
    inner = parse_behaviour(":".join(args[1:]))
    if inner.kind in ("rate", "closed"):
        raise BehaviourError(f"{text!r}: rate cannot wrap {inner.kind!r}")
    return Behaviour("rate", text, probability=probability, inner=inner)


#: Adversary-controlled fields of an answer that ``field`` can make hostile, and the shapes it gives them.
HOSTILE_FIELDS = ("reason", "server", "content-type", "location")
HOSTILE_SHAPES = ("long", "control", "invalid-utf8", "mixed")


def _parse_field(text: str, args: list[str]) -> Behaviour:
    if len(args) != 2 or args[0] not in HOSTILE_FIELDS or args[1] not in HOSTILE_SHAPES:
        raise BehaviourError(
            f"{text!r}: write field:FIELD:SHAPE with FIELD one of {', '.join(HOSTILE_FIELDS)} "
            f"and SHAPE one of {', '.join(HOSTILE_SHAPES)}"
        )
    return Behaviour("field", text, args=(args[0], args[1]))


def _parse_raw(text: str, args: list[str]) -> Behaviour:
    try:
        data = bytes.fromhex(args[0]) if len(args) == 1 else b""
    except ValueError:
        data = b""
    if not data:
        raise BehaviourError(f"{text!r}: write raw:HEX with the answer's bytes in hexadecimal, e.g. raw:48545450")
    return Behaviour("raw", text, args=(args[0],))


def _parse_persona(text: str, args: list[str]) -> Behaviour:
    if len(args) != 1 or args[0] not in PERSONAS:
        raise BehaviourError(f"{text!r}: write as:PERSONA with PERSONA one of {', '.join(PERSONAS)}")
    return Behaviour("as", text, args=(args[0],))


_PARSERS: dict[str, Callable[[str, list[str]], Behaviour]] = {
    "status": _parse_status,
    "slow": lambda text, args: _parse_seconds(text, args, "slow", None),
    "drip": lambda text, args: _parse_seconds(text, args, "drip", 1.0),
    "rate": _parse_rate,
    "field": _parse_field,
    "raw": _parse_raw,
    "as": _parse_persona,
}


@lru_cache(maxsize=1024)
def parse_behaviour(text: str) -> Behaviour:
    """Parse a behaviour string; raise :class:`BehaviourError` saying what is wrong."""
    if not isinstance(text, str) or not text.strip():
        raise BehaviourError(f"a behaviour must be a non-empty string, got {text!r}")
    kind, *args = text.strip().split(":")
    if kind not in _CATALOGUE:
        raise BehaviourError(f"unknown behaviour {kind!r}; known: {', '.join(_CATALOGUE)}")
    parser = _PARSERS.get(kind)
    if parser is not None:
        return parser(text, args)
    if args:
        raise BehaviourError(f"{text!r}: {kind} takes no argument")
    return Behaviour(kind, text)


def rate_answers(name: str, at: datetime, probability: float, *, seed: int, slot_seconds: int) -> bool:
    """Whether destination ``name`` answers in the time slot holding ``at``.

    Deterministic: a hash of (seed, name, slot number) drawn against ``probability``, so the same
    instant, or any instant of the same slot, always gives the same answer.
    """
    slot = int(at.timestamp() // slot_seconds)
    digest = hashlib.sha256(f"{seed}:{name}:{slot}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64 < probability
