"""Synthetic observations for verdict, event and blocklist tests: destinations, observers and rows written straight
into a store (SQLite or PostgreSQL), with the verdict rules the tests use."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from c2watch.analysis.events import RefreshReport, refresh
from c2watch.analysis.verdicts import Verdict, VerdictRules, evaluate
from c2watch.config import Settings
from c2watch.models import WatchlistEntry
from c2watch.store import Store

#: A slot start: 2021-01-05 00:00 JST.
T0 = dt.datetime(2021, 1, 4, 15, 0, tzinfo=dt.UTC)
SLOT = dt.timedelta(hours=4)

#: Small windows so that every rule is reached in a few slots.
VERDICT = {
    "alive_hours": 8.0,
    "dead_days": 2.0,
    "min_silent_cycles": 3,
    "blocked_windows": 3,
    "lookback_days": 2.0,
    "merge_hours": 12.0,
    "ttl_tolerance": 2,
}
SETTINGS = Settings(verdict=VERDICT, schedule={"zone": "Asia/Tokyo", "anchor": "00:00:00"})  # type: ignore[arg-type]
RULES = VerdictRules.from_settings(SETTINGS)


def slot(n: int, minutes: int = 0) -> dt.datetime:
    """The start of slot ``n`` after T0, plus ``minutes`` (an observer's stagger)."""
    return T0 + n * SLOT + dt.timedelta(minutes=minutes)


@dataclass
class World:
    store: Store
    observers: dict[str, int] = field(default_factory=dict)
    targets: dict[str, int] = field(default_factory=dict)
    threats: dict[str, str] = field(default_factory=dict)

    def observer(self, name: str) -> int:
        if name not in self.observers:
            self.observers[name] = self.store.observations.ensure_observer(
                name, f"Org {name}", f"identity--org-{name}", f"identity--sys-{name}", T0
            )
        return self.observers[name]

    def target(self, name: str, threat: str = "TID-1", **where: Any) -> int:
        """A destination named ``name`` (default: an IP and URL from the name's index)."""
        index = len(self.targets) + 1
        values = where or {"ip": f"192.0.2.{index}", "url": f"http://192.0.2.{index}/gate.php", "port": 80}
        entry = WatchlistEntry(threat, **values)
        self.store.watchlist.apply([entry], f"world-{name}", T0)
        found = [t for t in self.store.watchlist.targets(threat) if t.key == entry.key]
        self.targets[name] = found[0].id
        self.threats[name] = threat
        return self.targets[name]

    def row(
        self,
        target: str,
        observer: str,
        at: dt.datetime,
        status: int | None = None,
        ping: int | None = None,
        ttl: int | None = None,
        body: str | None = None,
        cert: str | None = None,
    ) -> dict[str, Any]:
        received = ping if ping is not None else (4 if ttl is not None else 0)
        return {
            "cycle_pk": None,
            "observer_pk": self.observer(observer),
            "target_pk": self.targets[target],
            "threat_id": self.threats[target],
            "observed_at": at,
            "simulated": True,
            "outcome": "responding" if status is not None else ("ping-only" if received else "silent"),
            "probed_kind": "url",
            "probed_value": target,
            "http_outcome": "responding" if status is not None else "timeout",
            "http_status": status,
            "http_body_sha256": body,
            "ping_sent": 4,
            "ping_received": received,
            "ping_ttl": ttl,
            "tls_cert_sha256": cert,
        }

    def add(self, *rows: dict[str, Any]) -> None:
        self.store.observations.insert(list(rows))

    def series(self, target: str, observer: str, slots: range, minutes: int = 0, **values: Any) -> list[dict[str, Any]]:
        return [self.row(target, observer, slot(n, minutes), **values) for n in slots]

    def verdicts(self, now: dt.datetime, rules: VerdictRules = RULES) -> dict[str, Verdict]:
        self.store.verdicts.fold_summaries(now)
        by_pk = {v.target.id: v for v in evaluate(self.store, rules, now)}
        return {name: by_pk[pk] for name, pk in self.targets.items()}

    def refresh(self, now: dt.datetime, settings: Settings = SETTINGS) -> RefreshReport:
        return refresh(self.store, settings, now)
