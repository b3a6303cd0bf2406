"""One destination's probe results folded into one observation (ours), and one observation as another observer
recorded it (shared): the records the observer writes, STIX carries, the store keeps and the analysis reads.

The ``observations`` row is built from them by one builder, :mod:`c2watch.models.rows`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, cast

from c2watch.models.probes import AnyResult, DnsResult, HttpResult, PingResult, ProbeTarget, Resolution, TlsResult

__all__ = ["EGRESS_FAILED", "Observation", "SharedRecord", "overall_outcome"]

EGRESS_FAILED = "egress-failed"
"""The outcome of a probe (and of an observation) whose proxy was down, refused or timed out."""


@dataclass
class Observation:
    """What one observer saw of one destination in one cycle."""

    target: ProbeTarget
    observed_at: dt.datetime
    resolution: Resolution | None
    results: dict[str, AnyResult] = field(default_factory=dict)
    target_key: str = ""
    simulated: bool = False
    #: How values were changed to fit (column or ``kind.field`` -> mark as a dict), see
    #: :func:`c2watch.store.observation_fit.fit_observation`.
    fitted: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def finished_at(self) -> dt.datetime:
        ends = [r.started_at + dt.timedelta(milliseconds=r.elapsed_ms) for r in self.results.values()]
        return max([self.observed_at, *ends])

    @property
    def outcome(self) -> str:
        return overall_outcome(self)

    @property
    def ping(self) -> PingResult | None:
        return cast("PingResult | None", self.results.get("icmp"))  # quoted: no Union built per call

    @property
    def http(self) -> HttpResult | None:
        return cast("HttpResult | None", self.results.get("http"))

    @property
    def tls(self) -> TlsResult | None:
        return cast("TlsResult | None", self.results.get("tls"))

    @property
    def dns(self) -> DnsResult | None:
        return cast("DnsResult | None", self.results.get("dns"))


def overall_outcome(obs: Observation) -> str:
    """responding > egress-failed > ping-only > silent; refused-by-guard or dns-failed when nothing could be probed.

    ``egress-failed``: a probe could not go through the proxy, so what the destination would have answered is not
    known (the verdicts leave such an observation out: it is not a silent cycle)."""
    http, icmp = obs.http, obs.ping
    if http is not None and http.outcome == "responding":
        return "responding"
    if any(result.outcome == EGRESS_FAILED for result in obs.results.values()):
        return EGRESS_FAILED
    if icmp is not None and icmp.outcome == "alive":
        return "ping-only"
    if not obs.target.addresses and not obs.target.remote_name:
        if obs.resolution is not None and obs.resolution.error:
            return "dns-failed"
        return "refused-by-guard" if obs.target.refused else "dns-failed"
    return "silent"


@dataclass(frozen=True)
class SharedRecord:
    """One observation as another observer recorded it: who, which destination, and its ``observations`` row (built
    by :mod:`c2watch.models.rows` from what its STIX objects say; the store fits it to the columns)."""

    threat_id: str
    target_key: str
    org_identity: str
    observer_identity: str
    observer_name: str
    org_name: str
    row: dict[str, Any]
