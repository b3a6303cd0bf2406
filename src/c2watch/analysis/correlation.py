"""Does a destination's HTTP answer go with its ping reply? Per destination and month: the 2x2 table of
observations (both probes measured), the agreement share and the phi coefficient.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from c2watch.analysis.monthly import buckets_of, observed_months, threat_rows
from c2watch.analysis.months import Month
from c2watch.analysis.series import destination_label
from c2watch.store import Scope, Store

__all__ = ["Correlation", "correlations", "phi"]


def phi(both: int, http_only: int, ping_only: int, neither: int) -> float | None:
    """The phi coefficient of the 2x2 table; ``None`` when a row or column is empty (undefined)."""
    margins = (both + http_only) * (ping_only + neither) * (both + ping_only) * (http_only + neither)
    if margins == 0:
        return None
    return round((both * neither - http_only * ping_only) / math.sqrt(margins), 3)


@dataclass(frozen=True)
class Correlation:
    threat_id: str
    target_pk: int
    destination: str
    month: str
    both: int
    http_only: int
    ping_only: int
    neither: int

    @property
    def observations(self) -> int:
        return self.both + self.http_only + self.ping_only + self.neither

    @property
    def agreement(self) -> float:
        """Share of observations where HTTP and ping agree (both answered, or neither)."""
        return round((self.both + self.neither) / self.observations, 3) if self.observations else 0.0

    @property
    def phi(self) -> float | None:
        return phi(self.both, self.http_only, self.ping_only, self.neither)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "observations": self.observations, "agreement": self.agreement, "phi": self.phi}


def correlations(store: Store, zone: str, threat: str | None = None, month: Month | None = None) -> list[Correlation]:
    """HTTP x ping per destination and month, for every threat (or one) and every observed month (or one)."""
    rows = threat_rows(store, threat)
    months = [month] if month else observed_months(store, [Scope(threat=row.threat_id) for row in rows], zone)
    targets = {t.id: t for t in store.watchlist.targets(threat)}
    return [
        Correlation(
            targets[p.target_pk].threat_id,
            p.target_pk,
            destination_label(targets[p.target_pk]),
            p.bucket,
            int(p.both),
            int(p.http_only),
            int(p.ping_only),
            int(p.neither),
        )
        for p in store.reports.pairings(Scope(threat=threat), buckets_of(months, zone))
        if p.target_pk in targets
    ]
