"""The one error tree of c2watch.

Every error c2watch raises on purpose derives from :class:`C2WatchError`::

    C2WatchError
    ├── ConfigError            bad or unknown setting; names the key
    ├── InputError             bad user-supplied file or value
    │   └── WatchlistError     a watchlist file with bad lines; lists every one
    ├── StoreError             the database cannot be opened, migrated or written
    ├── UnknownThreatError     a threat ID that is not in the store
    ├── ProbeSetupError        a probe cannot start at all (not an unreachable target)
    └── EgressError            the configured proxy could not be used (recorded as ``egress-failed``)

An unreachable or hostile target is never an exception: probes return it as data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "C2WatchError",
    "ConfigError",
    "EgressError",
    "InputError",
    "LineError",
    "ProbeSetupError",
    "StoreError",
    "UnknownThreatError",
    "WatchlistError",
]


class C2WatchError(Exception):
    """Base class of every error c2watch raises deliberately."""

    exit_code = 1


class ConfigError(C2WatchError):
    """A setting is unknown or has a bad value; the message names the key."""

    exit_code = 2


class InputError(C2WatchError):
    """A user-supplied file or value cannot be used."""

    exit_code = 2


@dataclass(frozen=True)
class LineError:
    """One bad line of an input file."""

    line: int
    message: str
    field: str | None = None

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line else "file"
        return f"{where}: {self.field + ': ' if self.field else ''}{self.message}"


@dataclass
class WatchlistError(InputError):
    """A watchlist file with bad content; ``errors`` holds every bad line, not only the first."""

    path: Path | str
    errors: list[LineError] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        lines = [f"{self.path}: {len(self.errors)} bad line(s)"]
        lines += [f"{self.path}: {err}" for err in self.errors]
        return "\n".join(lines)


class StoreError(C2WatchError):
    """The store cannot be opened, migrated or written."""


class UnknownThreatError(C2WatchError):
    """A threat ID that the store does not hold."""

    exit_code = 2


class ProbeSetupError(C2WatchError):
    """A probe cannot start at all (for example no ICMP socket may be opened)."""


class EgressError(C2WatchError):
    """The proxy a probe had to go through is down, refused us or timed out: the probe records ``egress-failed``
    (the destination's silence is not known), never raises it further."""
