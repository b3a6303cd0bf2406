"""Plain typed values shared by the watchlist, store, probes and analysis."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

__all__ = ["Target", "WatchlistEntry"]


@dataclass(frozen=True)
class WatchlistEntry:
    """One destination of a watchlist, normalised (refanged, lower-cased host, port resolved).

    At least one of ``ip``, ``domain`` and ``url`` is set.
    """

    threat_id: str
    ip: str | None = None
    domain: str | None = None
    url: str | None = None
    port: int | None = None
    reported_on: dt.date | None = None
    malware_hash: str | None = None
    file_type: str | None = None
    summary: str | None = None
    source_ref: str | None = None
    line: int = 0

    @property
    def key(self) -> str:
        """Identity of the destination inside its threat: the same key means the same destination."""
        return "|".join([self.url or "", self.domain or "", self.ip or "", str(self.port or "")])


@dataclass(frozen=True)
class Target:
    """A destination as stored, with its database id and threat."""

    id: int
    threat_id: str
    key: str
    ip: str | None
    domain: str | None
    url: str | None
    port: int | None
    active: bool = True
    reported_on: dt.date | None = None
    extra: dict[str, str] = field(default_factory=dict)
